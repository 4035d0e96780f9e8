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
from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.compare import Period, change, headline_periods
from salesdash.metrics.queries import DIMENSIONS, breakdown

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


def revenue_in_periods(
    conn: Connection, filters: Filters, dimension: str, current: Period, previous: Period
) -> dict[str, tuple[float, float]]:
    """{group: (revenue in ``current``, revenue in ``previous``)} for every group with revenue in either
    (0.0 where it has none): one breakdown per period."""
    now = breakdown(conn, filters.with_dates(current.start, current.end), dimension)
    before = breakdown(conn, filters.with_dates(previous.start, previous.end), dimension)
    key = DIMENSIONS[dimension][0]
    before_by = {str(k): float(v) for k, v in zip(before[key], before["revenue"], strict=True)}
    out = {
        str(k): (float(v), before_by.get(str(k), 0.0)) for k, v in zip(now[key], now["revenue"], strict=True)
    }
    for name, revenue in before_by.items():
        out.setdefault(name, (0.0, revenue))
    return out


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
    found = revenue_in_periods(conn, filters, grouped, current, previous)
    ranked = sorted(found.items(), key=lambda kv: (-abs(round(kv[1][0] - kv[1][1], 2)), kv[0]))
    rows = []
    for rank, (name, (now, before)) in enumerate(ranked[:limit], start=1):
        delta = change(round(now, 2), round(before, 2))
        rows.append(
            {
                "rank": rank,
                key: name,
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
        "candidates": len(found),
        "note": None,
    }
