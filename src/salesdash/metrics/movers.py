"""Top movers: the customers, countries or product lines whose revenue changed most between the headline
period and the same dates a year earlier (:func:`salesdash.metrics.compare.headline_periods`, the KPI cards'
rule: the latest year to date in view; with a date filter, the filtered range in the last year it reaches).

A group's change is ``current - previous``; ``revenue_change_pct`` is the change over ``previous`` and null
(never infinite) when the group had no revenue a year earlier (a *new* group). A group with revenue only a
year earlier is *lost* (-100%). Groups rank by the size of their change, gains and losses alike.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Connection, Select, func, literal, select, union_all

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.compare import Period, change, headline_periods
from salesdash.metrics.definitions import cents_to_money
from salesdash.metrics.queries import DIMENSIONS, breakdown_plan, grouped_statement, statement_cache
from salesdash.metrics.rollups import Plan

# the view's `dimension` (URL words, like the filters) -> the breakdown dimension
MOVER_DIMENSIONS: dict[str, str] = {
    "customer": "customer",
    "country": "country",
    "productline": "product_line",
}
MOVER_COLUMNS = ["current_revenue", "previous_revenue", "revenue_change", "revenue_change_pct", "movement"]


def movement(current: float, previous: float) -> str:
    """new (nothing a year earlier), lost (nothing now), up, down or flat."""
    if not previous:
        return "new"
    if not current:
        return "lost"
    return "up" if current > previous else "down" if current < previous else "flat"


@statement_cache
def _periods_statement(
    now_plan: Plan | None, now: Filters, before_plan: Plan | None, before: Filters, dimension: str
) -> Select[Any]:
    """Per group with revenue in either period: the group, its revenue (cents) in ``now`` and in ``before``."""
    key = DIMENSIONS[dimension][0]
    zero = literal(0, BigInteger)
    a = grouped_statement(now_plan, now, dimension, ("revenue",)).subquery("now")
    b = grouped_statement(before_plan, before, dimension, ("revenue",)).subquery("before")
    both = union_all(
        select(a.c[key].label("group_key"), a.c.revenue.label("current"), zero.label("previous")),
        select(b.c[key].label("group_key"), zero.label("current"), b.c.revenue.label("previous")),
    ).subquery("both")
    return select(
        both.c.group_key,
        func.sum(both.c.current).label("current"),
        func.sum(both.c.previous).label("previous"),
    ).group_by(both.c.group_key)


def _period_filters(
    conn: Connection, filters: Filters, dimension: str, current: Period, previous: Period
) -> tuple[Plan | None, Filters, Plan | None, Filters]:
    now = filters.with_dates(current.start, current.end)
    before = filters.with_dates(previous.start, previous.end)
    return breakdown_plan(conn, now, dimension), now, breakdown_plan(conn, before, dimension), before


def revenue_in_periods(
    conn: Connection, filters: Filters, dimension: str, current: Period, previous: Period
) -> dict[str, tuple[float, float]]:
    """{group: (revenue in ``current``, revenue in ``previous``)} for every group with revenue in either
    (0.0 where it has none), in one statement."""
    stmt = _periods_statement(*_period_filters(conn, filters, dimension, current, previous), dimension)
    return {
        str(k): (cents_to_money(now or 0), cents_to_money(before or 0))
        for k, now, before in conn.execute(stmt)
    }


@statement_cache
def _ranked_statement(
    now_plan: Plan | None, now: Filters, before_plan: Plan | None, before: Filters, dimension: str, limit: int
) -> Select[Any]:
    """The ``limit`` groups with the largest change in cents, gains and losses alike (ties by the group), each
    with the number of groups ranked."""
    g = _periods_statement(now_plan, now, before_plan, before, dimension).subquery("periods")
    size = func.abs(g.c.current - g.c.previous)
    return (
        select(g.c.group_key, g.c.current, g.c.previous, func.count().over().label("candidates"))
        .order_by(size.desc(), g.c.group_key.asc())
        .limit(limit)
    )


def top_movers(conn: Connection, filters: Filters, dimension: str, limit: int = 10) -> dict[str, Any]:
    """The ``limit`` groups of ``dimension`` (customer, country, productline) with the largest revenue change
    between the headline period and the same dates a year earlier.

    ``rows`` is empty and ``note`` says why when there is no comparison period (the data does not cover the
    year earlier, e.g. a date filter inside the first year). ``current_period`` / ``comparison_period`` are
    the bounds and labels of both periods (None when the filters select no dates the data covers)."""
    if dimension not in MOVER_DIMENSIONS:
        allowed = ", ".join(MOVER_DIMENSIONS)
        raise InvalidParameter(
            f"dimension={dimension!r} is not allowed; use one of {allowed}.",
            details=[{"parameter": "dimension", "value": dimension, "message": f"one of {allowed}"}],
        )
    grouped = MOVER_DIMENSIONS[dimension]
    key = DIMENSIONS[grouped][0]
    columns = ["rank", key, *MOVER_COLUMNS]
    periods = headline_periods(conn, filters)
    if periods is None:
        return {
            "rows": pd.DataFrame([], columns=columns),
            "key": key,
            "current_period": None,
            "comparison_period": None,
            "candidates": 0,
            "note": "No comparison: the filters select no dates the data covers.",
        }
    current, previous, _, reason = periods
    if reason:
        return {
            "rows": pd.DataFrame([], columns=columns),
            "key": key,
            "current_period": current.to_dict(),
            "comparison_period": None,
            "candidates": 0,
            "note": f"No comparison period: {reason}.",
        }
    stmt = _ranked_statement(*_period_filters(conn, filters, grouped, current, previous), grouped, limit)
    ranked = [tuple(r) for r in conn.execute(stmt)]
    rows = []
    for rank, (name, now_cents, before_cents, _) in enumerate(ranked, start=1):
        now, before = cents_to_money(now_cents or 0), cents_to_money(before_cents or 0)
        delta = change(now, before)
        rows.append(
            {
                "rank": rank,
                key: str(name),
                "current_revenue": delta["current"],
                "previous_revenue": delta["previous"],
                "revenue_change": delta["change"],
                "revenue_change_pct": delta["change_pct"],
                "movement": movement(now, before),
            }
        )
    return {
        "rows": pd.DataFrame(rows, columns=columns),
        "key": key,
        "current_period": current.to_dict(),
        "comparison_period": previous.to_dict(),
        "candidates": int(ranked[0][3]) if ranked else 0,
        "note": None,
    }
