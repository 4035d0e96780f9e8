"""Customer analytics: acquisition (new and returning customers per period), retention cohorts and market
penetration. Definitions (also in docs/metrics.md):

- A customer's **first order** is their earliest order date among the order lines that pass every filter
  except the date range (so "new" honours country, product line, status, deal size, customer filters; a customer
  who first bought Motorcycles in 2004 is new to Motorcycles in 2004 even if they bought Classic Cars in 2003).
- A customer is **new** in a period when their first order falls in that period (within the date range when
  one is set), and **returning** when they order in the period after an earlier first order.
- A **cohort** is the customers whose first order falls in one month (or quarter) of the date range; a cohort
  is *active* N periods later when it has an order line in that period. Shares are of the cohort's size.

Every query runs on the rollups when they answer exactly (per-day rows keyed by customer) and on the order
lines otherwise; distinct customers are counted exactly on every engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, FromClause, Select, and_, case, extract, func, select, true

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.compare import Period, add_months, change, coverage
from salesdash.metrics.compare import headline_periods as compare_periods
from salesdash.metrics.definitions import cents_to_money
from salesdash.metrics.movers import revenue_in_periods
from salesdash.metrics.queries import GRAINS, breakdown, kpis, period_label, period_start
from salesdash.metrics.rollups import choose_plan, entity_plan, rollup_rows
from salesdash.store.schema import order_lines

COHORT_GRAINS = ("month", "quarter")
SMALL_COHORT = 5  # customers: a cohort smaller than this is labelled "small" (its shares swing by 20 points)
PENETRATION_DIMENSIONS = ("country", "territory")
GRAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "day": ("order_date",),
    "week": ("iso_year", "iso_week"),
    "month": ("year", "month"),
    "quarter": ("year", "quarter"),
    "year": ("year",),
}


@dataclass(frozen=True)
class _Lines:
    """The order lines in view as rows with a customer, calendar columns, a first date and revenue in cents:
    rollup rows (whole months pre-aggregated) or the order lines themselves."""

    rows: FromClause
    first_date: ColumnElement[Any]
    revenue_cents: ColumnElement[Any]


def _lines(conn: Connection, filters: Filters, by_day: bool, extra: tuple[str, ...] = ()) -> _Lines:
    plan = choose_plan(conn, filters, extra)
    if plan is None:
        t = order_lines
        rows = select(t).where(filters.where(t)).subquery("lines_in_view")
        return _Lines(rows, rows.c.order_date, rows.c.sales_cents)
    r = rollup_rows(plan.table, filters, by_day=by_day)
    return _Lines(r, r.c.first_date, r.c.revenue_cents)


def _check_grain(grain: str, allowed: tuple[str, ...]) -> None:
    if grain not in allowed:
        raise InvalidParameter(
            f"grain={grain!r} is not a grain here; use one of {', '.join(allowed)}.",
            details=[{"parameter": "grain", "message": f"one of {', '.join(allowed)}", "value": grain}],
        )


def _first_orders(conn: Connection, filters: Filters) -> Select[Any]:
    """Each customer's first order date under every filter but the date range: from the customer tables (a
    row per customer and status, country, territory, with its first date) where they answer, else the rollups."""
    undated = filters.with_dates(None, None)
    plan = entity_plan(conn, undated, ("customer_name",))
    if plan is not None:
        c = rollup_rows(plan.table, undated)
        return select(c.c.customer_name, func.min(c.c.first_date).label("first_date")).group_by(
            c.c.customer_name
        )
    src = _lines(conn, undated, by_day=False)
    r = src.rows
    return select(r.c.customer_name, func.min(src.first_date).label("first_date")).group_by(r.c.customer_name)


def acquisition(conn: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """New and returning customers per period, and the revenue of each, oldest period first.

    Columns: period, period_start, customer_count, new_customers, returning_customers, new_customer_revenue,
    returning_customer_revenue, new_customer_share (of the period's customers)."""
    _check_grain(grain, GRAINS)
    keys = GRAIN_COLUMNS[grain]
    src = _lines(conn, filters, by_day=grain in ("day", "week"))
    r = src.rows
    per = (
        select(
            *(r.c[k] for k in keys),
            r.c.customer_name,
            func.min(src.first_date).label("period_first"),
            func.coalesce(func.sum(src.revenue_cents), 0).label("revenue_cents"),
        )
        .group_by(*(r.c[k] for k in keys), r.c.customer_name)
        .subquery("customer_periods")
    )
    first = _first_orders(conn, filters).subquery("first_orders")
    is_new = per.c.period_first == first.c.first_date
    stmt = (
        select(
            *(per.c[k] for k in keys),
            func.count().label("customer_count"),
            func.sum(case((is_new, 1), else_=0)).label("new_customers"),
            func.sum(case((is_new, per.c.revenue_cents), else_=0)).label("new_cents"),
            func.sum(per.c.revenue_cents).label("all_cents"),
        )
        .select_from(per.join(first, per.c.customer_name == first.c.customer_name))
        .group_by(*(per.c[k] for k in keys))
        .order_by(*(per.c[k] for k in keys))
    )
    rows = []
    for raw in conn.execute(stmt).mappings():
        start = period_start(grain, dict(raw))
        customers, new = int(raw["customer_count"]), int(raw["new_customers"] or 0)
        new_cents, all_cents = int(raw["new_cents"] or 0), int(raw["all_cents"] or 0)
        rows.append(
            {
                "period": period_label(grain, start),
                "period_start": start,
                "customer_count": customers,
                "new_customers": new,
                "returning_customers": customers - new,
                "new_customer_revenue": cents_to_money(new_cents),
                "returning_customer_revenue": cents_to_money(all_cents - new_cents),
                "new_customer_share": round(new / customers, 6) if customers else None,
            }
        )
    return pd.DataFrame(rows, columns=ACQUISITION_COLUMNS)


ACQUISITION_COLUMNS = [
    "period",
    "period_start",
    "customer_count",
    "new_customers",
    "returning_customers",
    "new_customer_revenue",
    "returning_customer_revenue",
    "new_customer_share",
]


def new_customers(conn: Connection, filters: Filters) -> int:
    """Customers whose first order (under the filters but the dates) falls in the filters' date range."""
    return new_customers_in(conn, filters, [(filters.start, filters.end)])[0]


def new_customers_in(
    conn: Connection, filters: Filters, ranges: Sequence[tuple[date | None, date | None]]
) -> list[int]:
    """:func:`new_customers` for each (start, end) of ``ranges`` (None: open), in one statement: the first
    orders are the same for every range (they ignore the dates)."""
    first = _first_orders(conn, filters).subquery("first_orders")
    counts = []
    for start, end in ranges:
        inside: list[ColumnElement[bool]] = [true()]
        if start is not None:
            inside.append(first.c.first_date >= start)
        if end is not None:
            inside.append(first.c.first_date <= end)
        counts.append(func.coalesce(func.sum(case((and_(*inside), 1), else_=0)), 0))
    row = conn.execute(select(*counts).select_from(first)).one()
    return [int(v) for v in row]


def _index(grain: str, year: Any, part: Any) -> Any:
    return year * (12 if grain == "month" else 4) + part - 1


def _date_index(grain: str, day: ColumnElement[Any]) -> ColumnElement[Any]:
    """``_index`` of the period holding the date ``day`` (a quarter from its month, without division: integer
    division is spelled differently on each engine)."""
    month = extract("month", day)
    if grain == "month":
        return _index(grain, extract("year", day), month)
    quarter = case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)
    return _index(grain, extract("year", day), quarter)


def _index_start(grain: str, index: int) -> date:
    per_year = 12 if grain == "month" else 4
    year, part = divmod(index, per_year)
    return date(year, part * (12 // per_year) + 1, 1)


def _period_end(grain: str, start: date) -> date:
    return add_months(start, 1 if grain == "month" else 3) - timedelta(days=1)


def cohorts(conn: Connection, filters: Filters, grain: str = "month") -> dict[str, Any]:
    """Retention cohorts: customers grouped by the period of their first order (in the date range); for each
    cohort and each period since (0 = the first), the customers still ordering, their share and revenue.

    Returns ``{"cohorts": DataFrame, "cells": DataFrame, "covered": Period | None}``; cells carry ``partial``
    (the period is not wholly inside the data's coverage and the date range) and cohorts ``small``."""
    _check_grain(grain, COHORT_GRAINS)
    part = "month" if grain == "month" else "quarter"
    src = _lines(conn, filters, by_day=False)
    r = src.rows
    index = _index(grain, r.c.year, r.c[part])
    activity = (
        select(
            r.c.customer_name,
            index.label("period_index"),
            func.coalesce(func.sum(src.revenue_cents), 0).label("revenue_cents"),
        )
        .group_by(r.c.customer_name, index)
        .subquery("activity")
    )
    first = _first_orders(conn, filters).subquery("first_orders")
    in_range: list[ColumnElement[bool]] = []
    if filters.start:
        in_range.append(first.c.first_date >= filters.start)
    if filters.end:
        in_range.append(first.c.first_date <= filters.end)
    cohort_of = _date_index(grain, first.c.first_date).label("cohort")
    offset = (activity.c.period_index - cohort_of).label("offset")
    stmt = (
        select(
            cohort_of,
            offset,
            func.count().label("active_customers"),
            func.sum(activity.c.revenue_cents).label("revenue_cents"),
        )
        .select_from(activity.join(first, activity.c.customer_name == first.c.customer_name))
        .where(*in_range)
        .group_by(cohort_of, offset)
        .order_by(cohort_of, offset)
    )
    raw = pd.DataFrame(
        conn.execute(stmt).all(), columns=["cohort", "offset", "active_customers", "revenue_cents"]
    )
    covered = coverage(conn, filters)
    cells = []
    sizes: dict[int, int] = {}
    for row in raw.itertuples(index=False):
        cohort, off = int(row.cohort), int(row.offset)
        if off == 0:
            sizes[cohort] = int(row.active_customers)
    for row in raw.itertuples(index=False):
        cohort, off = int(row.cohort), int(row.offset)
        size = sizes.get(cohort, 0)
        start = _index_start(grain, cohort + off)
        end = _period_end(grain, start)
        partial = covered is None or start < covered.start or end > covered.end
        cells.append(
            {
                "cohort": _label(grain, _index_start(grain, cohort)),
                "periods_since_first": off,
                "period": _label(grain, start),
                "active_customers": int(row.active_customers),
                "retention": round(int(row.active_customers) / size, 6) if size else None,
                "revenue": cents_to_money(int(row.revenue_cents)),
                "partial": bool(partial),
            }
        )
    cohort_rows = [
        {
            "cohort": _label(grain, _index_start(grain, c)),
            "cohort_start": _index_start(grain, c),
            "customers": n,
            "small": n < SMALL_COHORT,
        }
        for c, n in sorted(sizes.items())
    ]
    return {
        "cohorts": pd.DataFrame(cohort_rows, columns=["cohort", "cohort_start", "customers", "small"]),
        "cells": pd.DataFrame(cells, columns=CELL_COLUMNS),
        "covered": covered,
    }


CELL_COLUMNS = [
    "cohort",
    "periods_since_first",
    "period",
    "active_customers",
    "retention",
    "revenue",
    "partial",
]


def _label(grain: str, start: date) -> str:
    return period_label(grain, start)


def _product_lines_bought(conn: Connection, filters: Filters, dimension: str) -> dict[str, int]:
    key = dimension
    src = _lines(conn, filters, by_day=False, extra=("product_line",))
    r = src.rows
    stmt = select(r.c[key], func.count(func.distinct(r.c.product_line))).group_by(r.c[key])
    return {str(k): int(n) for k, n in conn.execute(stmt).all()}


def headline_periods(conn: Connection, filters: Filters) -> tuple[Period, Period] | None:
    """The headline period and the same dates a year earlier (compare.headline_periods, the KPI cards' rule);
    None when the two are not compared."""
    periods = compare_periods(conn, filters)
    if periods is None or periods[3] is not None:
        return None
    return periods[0], periods[1]


def penetration(conn: Connection, filters: Filters, dimension: str = "country") -> dict[str, Any]:
    """Market penetration per country (or territory): customers, revenue, revenue per customer, share of
    revenue, product lines bought of those on sale in view, and revenue growth over the headline periods
    (both named in ``periods``; the growth columns are of those periods, not of the whole range)."""
    if dimension not in PENETRATION_DIMENSIONS:
        raise InvalidParameter(
            f"dimension={dimension!r} is not a market; use one of {', '.join(PENETRATION_DIMENSIONS)}.",
            details=[{"parameter": "dimension", "message": "country or territory", "value": dimension}],
        )
    frame = breakdown(conn, filters, dimension)
    lines_total = int(kpis(conn, filters)["product_line_count"])
    bought = _product_lines_bought(conn, filters, dimension)
    periods = headline_periods(conn, filters)
    growth = revenue_in_periods(conn, filters, dimension, *periods) if periods is not None else {}
    rows = []
    for rec in frame.to_dict("records"):
        name = str(rec[dimension])
        customers = int(rec["customer_count"])
        cur, prev = growth.get(name, (0.0, 0.0)) if periods is not None else (None, None)
        delta = change(cur, prev) if periods is not None else change(None, None)
        lines = bought.get(name, 0)
        rows.append(
            {
                dimension: name,
                "customer_count": customers,
                "revenue": rec["revenue"],
                "revenue_per_customer": round(rec["revenue"] / customers, 2) if customers else None,
                "revenue_share": rec["revenue_share"],
                "product_lines_bought": lines,
                "product_line_share": round(lines / lines_total, 6) if lines_total else None,
                "current_revenue": delta["current"],
                "previous_revenue": delta["previous"],
                "revenue_change_pct": delta["change_pct"],
            }
        )
    columns = [dimension, *PENETRATION_COLUMNS]
    return {
        "rows": pd.DataFrame(rows, columns=columns),
        "product_lines_in_view": lines_total,
        "periods": None
        if periods is None
        else {"current": periods[0].to_dict(), "previous": periods[1].to_dict()},
    }


PENETRATION_COLUMNS = [
    "customer_count",
    "revenue",
    "revenue_per_customer",
    "revenue_share",
    "product_lines_bought",
    "product_line_share",
    "current_revenue",
    "previous_revenue",
    "revenue_change_pct",
]
