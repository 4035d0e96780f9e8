"""Metric queries: each takes a connection (inside one read snapshot) and Filters, returns plain data.

No HTTP and no UI here. SQL is built with SQLAlchemy Core from fixed column objects; filter values are
always bound parameters.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    Select,
    Table,
    and_,
    cast,
    func,
    inspect,
    literal_column,
    select,
    union_all,
)

from salesdash.errors import InvalidParameter
from salesdash.filters import FILTERS, Filters
from salesdash.metrics.definitions import BREAKDOWN_METRICS, SQL, STORED, cents_to_money, finish
from salesdash.store.schema import (
    LINE_KEYS,
    MONTHLY,
    ORDER_KEYS,
    ROLLUPS,
    data_versions,
    order_lines,
    order_masks,
    pair_bits,
    rollup_codes,
    rollup_state,
)

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")

# dimension name -> grouping columns of order_lines
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "product_line": ("product_line",),
    "product_code": ("product_code",),
    "country": ("country",),
    "territory": ("territory",),
    "customer": ("customer_name",),
    "status": ("status",),
    "deal_size": ("deal_size",),
    "year": ("year",),
}

ORDER_SORT_COLUMNS = (
    "order_date",
    "order_number",
    "order_line_number",
    "sales",
    "quantity_ordered",
    "price_each",
    "customer_name",
    "country",
    "product_line",
    "product_code",
    "status",
    "deal_size",
)


# -- Rollups ---------------------------------------------------------------------------------------------------
#
# The same metrics, computed from the rollup tables built at load (store/aggregates.py) when that gives exactly
# the order-line answer, and from order_lines otherwise. Each rollup row is one (day, status, customer, country,
# territory[, product_line][, deal_size]) with its lines' sums and ``order_count`` (distinct orders with a line
# in the row). So:
#
# - revenue, line_count and units are sums of sums: exact from any rollup that has the filtered columns;
# - customer_count, country_count and product_line_count are distinct counts of key columns: exact likewise;
# - order_count is a sum of per-row distinct counts: exact when every order of an answer lies in one row of
#   it. An order has one day, status and customer (validated) and, when ``agg_rollup_state.orders_exact`` says so,
#   one country and territory; a line attribute (product_line, deal_size) of the rollup must be grouped by or
#   filtered to a single value, else an order with lines of two values would count twice. Otherwise the
#   order masks answer (agg_order_masks: one row per order with a bit per (product line, deal size) pair its
#   lines have; "a line of the chosen pairs" is a bitwise AND), and the order lines when there are none.
#
# The tests compare every metric both ways on every engine (``raw_queries()`` turns rollups off).

_USE_ROLLUPS: contextvars.ContextVar[bool] = contextvars.ContextVar("salesdash_use_rollups", default=True)
_STATE_KEY = "salesdash.rollup_state"

# stored metric -> its form over a rollup table (the same definition, summed from pre-aggregated rows)
ROLLUP_SQL: dict[str, Callable[[FromClause], ColumnElement[Any]]] = {
    "revenue": lambda r: func.coalesce(func.sum(r.c.revenue_cents), 0),
    "order_count": lambda r: func.coalesce(func.sum(r.c.order_count), 0),
    "line_count": lambda r: func.coalesce(func.sum(r.c.line_count), 0),
    "units": lambda r: func.coalesce(func.sum(r.c.units), 0),
    "customer_count": lambda r: func.count(func.distinct(r.c.customer_name)),
    "country_count": lambda r: func.count(func.distinct(r.c.country)),
    "product_line_count": lambda r: func.count(func.distinct(r.c.product_line)),
}


@contextlib.contextmanager
def raw_queries() -> Iterator[None]:
    """Within this block every metric is computed from order_lines (for tests and the benchmark baseline)."""
    token = _USE_ROLLUPS.set(False)
    try:
        yield
    finally:
        _USE_ROLLUPS.reset(token)


_ENGINES_WITH_ROLLUPS: weakref.WeakSet[Any] = weakref.WeakSet()


@functools.cache
def _state_statement() -> Select[Any]:
    current = select(data_versions.c.version).order_by(data_versions.c.id.desc()).limit(1).scalar_subquery()
    return select(rollup_state.c.orders_exact, rollup_state.c.codes_exact, rollup_state.c.masks_built).where(
        rollup_state.c.version == current
    )


@dataclass(frozen=True)
class _State:
    orders_exact: bool  # order counts add up in agg_orders*
    codes_exact: bool  # order counts add up in agg_codes
    masks_built: bool  # agg_order_masks can count orders of several product lines / deal sizes


def _rollup_state(conn: Connection) -> _State | None:
    """The rollups' state when they belong to the data version this connection sees, else None.

    Read once per transaction (cached on the connection with the transaction it was read in)."""
    if not _USE_ROLLUPS.get():
        return None
    transaction = conn.get_transaction()
    cached = conn.info.get(_STATE_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    if conn.engine not in _ENGINES_WITH_ROLLUPS:
        if not inspect(conn).has_table(rollup_state.name):
            return None
        _ENGINES_WITH_ROLLUPS.add(conn.engine)
    row = conn.execute(_state_statement()).first()
    state = _State(*(bool(v) for v in row)) if row is not None else None
    if transaction is not None:
        conn.info[_STATE_KEY] = (transaction, state)
    return state


@dataclass(frozen=True)
class _Plan:
    table: Table
    orders_exact: bool  # whether order_count summed over the table is the distinct count
    state: _State  # of the rollups: how orders are counted when orders_exact is False


def _plan(conn: Connection, filters: Filters, grouped: tuple[str, ...] = ()) -> _Plan | None:
    """The smallest rollup that has every column the filters and the grouping use (None: use order_lines)."""
    state = _rollup_state(conn)
    if state is None:
        return None
    chosen = {"product_line": len(filters.product_lines), "deal_size": len(filters.deal_sizes)}
    need = tuple(k for k in LINE_KEYS if k in grouped or chosen[k])
    exact = state.orders_exact and all(k in grouped or chosen[k] == 1 for k in need)
    return _Plan(ROLLUPS[need], exact, state)


def _rollup_columns(r: FromClause, names: tuple[str, ...]) -> list[ColumnElement[Any]]:
    return [ROLLUP_SQL[name](r).label(name) for name in names]


def _order_count(plan: _Plan, filters: Filters, keys: tuple[str, ...] = ()) -> Select[Any]:
    """Distinct orders per group of ``keys`` where the rollup rows cannot be added up: from the order masks
    when they exist and hold the keys, else from the order lines."""
    if plan.state.masks_built and all(k in ORDER_KEYS or k in LINE_KEYS for k in keys):
        return _masked_order_count(filters, keys, one_row_per_order=plan.state.orders_exact)
    t = order_lines
    return (
        select(*(t.c[k] for k in keys), SQL["order_count"](t).label("order_count"))
        .where(filters.where(t))
        .group_by(*(t.c[k] for k in keys))
    )


def _masked_order_count(filters: Filters, keys: tuple[str, ...], one_row_per_order: bool) -> Select[Any]:
    """Orders with a line in view, from agg_order_masks: the product-line and deal-size filters become the bits
    of the chosen pairs. Grouped by a line key, each group's bits (its chosen pairs) are ORed first, and an
    order counts in every group whose bits its mask shares."""
    m, p = order_masks, pair_bits
    chosen = [
        p.c[k].in_(v)
        for k, v in (("product_line", filters.product_lines), ("deal_size", filters.deal_sizes))
        if v
    ]
    where = [replace(filters, product_lines=(), deal_sizes=()).where(m)]
    count = func.count() if one_row_per_order else func.count(func.distinct(m.c.order_number))
    line_keys = [k for k in keys if k in LINE_KEYS]
    bits_of = cast(func.sum(p.c.bit_value), BigInteger)
    if line_keys:
        groups = (
            select(*(p.c[k] for k in line_keys), bits_of.label("bits")).where(*chosen).group_by(*line_keys)
        )
        g = groups.subquery("chosen_groups")
        columns = [g.c[k] if k in LINE_KEYS else m.c[k] for k in keys]
        source = m.join(g, m.c.pair_mask.op("&")(g.c.bits) != 0)
        return (
            select(*columns, count.label("order_count")).select_from(source).where(*where).group_by(*columns)
        )
    if chosen:
        where.append(m.c.pair_mask.op("&")(select(bits_of).where(*chosen).scalar_subquery()) != 0)
    columns = [m.c[k] for k in keys]
    return select(*columns, count.label("order_count")).where(*where).group_by(*columns)


DAY_COLUMNS = ("order_date", "iso_year", "iso_week")  # in the daily rollups only


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _first_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _split_dates(filters: Filters) -> tuple[tuple[int | None, int | None] | None, list[tuple[date, date]]]:
    """The date filter as whole months (month indexes lo..hi, None = open) plus the days of partial months."""
    start, end = filters.start, filters.end
    lo = None if start is None else _month_index(start) + (start.day != 1)
    hi = None if end is None else _month_index(end) - ((end + timedelta(days=1)).day != 1)
    if lo is not None and hi is not None and lo > hi:
        assert start is not None and end is not None
        return None, [(start, end)]
    days = []
    if start is not None and lo is not None and start.day != 1:
        days.append((start, _first_of(lo) - timedelta(days=1)))
    if end is not None and hi is not None and (end + timedelta(days=1)).day != 1:
        days.append((_first_of(hi + 1), end))
    return (lo, hi), days


def _source(table: Table, filters: Filters | None, by_day: bool = False) -> FromClause:
    """The rollup rows of ``table`` in view: whole months from its monthly rollup and partial months' days
    from the daily one (every day from the daily one when ``by_day``), with the same columns either way
    (``first_date``/``last_date`` = the rows' first and last order date). ``filters`` None: every row."""
    daily, monthly = table, MONTHLY[table]
    shared = [c.name for c in monthly.c if c.name not in ("first_date", "last_date")]
    names = [*shared, *(DAY_COLUMNS if by_day else ())]

    def from_days(where: list[ColumnElement[bool]]) -> Select[Any]:
        dates = [daily.c.order_date.label("first_date"), daily.c.order_date.label("last_date")]
        return select(*(daily.c[n] for n in names), *dates).where(*where)

    if filters is None:
        return (from_days([]) if by_day else select(monthly)).subquery("rolled_rows")
    if by_day:
        return from_days([filters.where(daily)]).subquery("rolled_rows")
    undated = filters.with_dates(None, None)
    months, days = _split_dates(filters)
    parts: list[Select[Any]] = []
    if months is not None:
        index = monthly.c.year * 12 + monthly.c.month - 1
        where = [undated.where(monthly)]
        if months[0] is not None:
            where.append(index >= months[0])
        if months[1] is not None:
            where.append(index <= months[1])
        parts.append(
            select(*(monthly.c[n] for n in names), monthly.c.first_date, monthly.c.last_date).where(*where)
        )
    for first, last in days:
        parts.append(
            from_days([undated.where(daily), daily.c.order_date >= first, daily.c.order_date <= last])
        )
    if len(parts) == 1:
        return parts[0].subquery("rolled_rows")
    return union_all(*parts).subquery("rolled_rows")


def _rollup_select(
    plan: _Plan,
    filters: Filters,
    key_names: tuple[str, ...],
    metric_names: tuple[str, ...],
    extras: Callable[[FromClause], list[ColumnElement[Any]]] | None = None,
) -> Select[Any]:
    """Metrics per group of ``key_names`` from the plan's rollup; order_count from the order masks or lines
    (joined on the keys) when the rollup cannot count orders exactly for this question."""
    r = _source(plan.table, filters, by_day=any(k in DAY_COLUMNS for k in key_names))
    keys = [r.c[k] for k in key_names]
    from_rollup = tuple(m for m in metric_names if m != "order_count" or plan.orders_exact)
    main = select(*keys, *_rollup_columns(r, from_rollup), *(extras(r) if extras else []))
    if keys:
        main = main.group_by(*keys)
    if from_rollup == metric_names:
        return main
    if not keys:
        return main.add_columns(_order_count(plan, filters).scalar_subquery().label("order_count"))
    m = main.subquery("rolled")
    o = _order_count(plan, filters, key_names).subquery("raw_orders")
    on = and_(*(m.c[k].is_not_distinct_from(o.c[k]) for k in key_names))
    return select(*m.c, o.c.order_count).select_from(m.outerjoin(o, on))


def _ordered(stmt: Select[Any], names: list[tuple[str, bool]]) -> Select[Any]:
    """ORDER BY the statement's own output columns (name, descending)."""
    columns = stmt.selected_columns
    return stmt.order_by(*(columns[n].desc() if desc else columns[n].asc() for n, desc in names))


def _metric_columns(t: Table, names: tuple[str, ...]) -> list[ColumnElement[Any]]:
    cols: list[ColumnElement[Any]] = []
    for name in names:
        assert name in SQL, f"{name} is derived, not stored"
        cols.append(SQL[name](t).label(name))
    return cols


def _extras(t: Table, dimension: str) -> list[ColumnElement[Any]]:
    """Descriptive columns that come with a dimension (not metrics)."""
    c = t.c
    if dimension == "customer":
        return [
            func.max(c.country).label("country"),
            func.min(c.order_date).label("first_order_date"),
            func.max(c.order_date).label("last_order_date"),
        ]
    if dimension == "product_code":
        return [func.max(c.product_line).label("product_line"), func.max(c.msrp).label("msrp")]
    if dimension == "product_line":
        return [
            func.count(func.distinct(c.country)).label("country_count"),
            func.count(func.distinct(c.product_code)).label("product_code_count"),
        ]
    if dimension == "country":
        return [func.max(c.territory).label("territory")]
    return []


def _rollup_extras(dimension: str) -> Callable[[FromClause], list[ColumnElement[Any]]]:
    """_extras from rollup rows (product_code_count is joined from agg_codes)."""

    def extras(r: FromClause) -> list[ColumnElement[Any]]:
        c = r.c
        if dimension == "customer":
            return [
                func.max(c.country).label("country"),
                func.min(c.first_date).label("first_order_date"),
                func.max(c.last_date).label("last_order_date"),
            ]
        if dimension == "product_code":
            return [func.max(c.product_line).label("product_line"), func.max(c.msrp_max).label("msrp")]
        if dimension == "product_line":
            return [func.count(func.distinct(c.country)).label("country_count")]
        if dimension == "country":
            return [func.max(c.territory).label("territory")]
        return []

    return extras


def _product_code_counts(filters: Filters) -> Select[Any]:
    """Distinct product codes per product line in view (a distinct count of a key of agg_codes)."""
    r = _source(rollup_codes, filters)
    return select(
        r.c.product_line, func.count(func.distinct(r.c.product_code)).label("product_code_count")
    ).group_by(r.c.product_line)


# Statements are built once per (plan, filters, arguments) and reused: building SQLAlchemy expressions costs
# more than running them on small data. Every argument is hashable (Filters is frozen).
_statement_cache = functools.lru_cache(maxsize=4096)


@_statement_cache
def _kpis_statement(plan: _Plan | None, filters: Filters) -> Select[Any]:
    if plan is None:
        t = order_lines
        return select(*_metric_columns(t, STORED)).where(filters.where(t))
    stmt = _rollup_select(plan, filters, (), tuple(m for m in STORED if m != "product_line_count"))
    lines = _source(ROLLUPS[tuple(k for k in LINE_KEYS if k == "product_line" or k in plan.table.c)], filters)
    count = select(ROLLUP_SQL["product_line_count"](lines))
    return stmt.add_columns(count.scalar_subquery().label("product_line_count"))


def kpis(conn: Connection, filters: Filters) -> dict[str, Any]:
    """Headline metrics for the order lines in view."""
    row = conn.execute(_kpis_statement(_plan(conn, filters), filters)).mappings().one()
    return finish({name: row[name] for name in STORED})


@_statement_cache
def _total_revenue_statement(plan: _Plan | None, filters: Filters) -> Select[Any]:
    if plan is not None:
        return select(ROLLUP_SQL["revenue"](_source(plan.table, filters)))
    t = order_lines
    return select(SQL["revenue"](t)).where(filters.where(t))


def total_revenue(conn: Connection, filters: Filters) -> float:
    return cents_to_money(conn.execute(_total_revenue_statement(_plan(conn, filters), filters)).scalar_one())


@_statement_cache
def _breakdown_statement(
    plan: _Plan | None, filters: Filters, dimension: str, limit: int | None, sort: str, descending: bool
) -> Select[Any]:
    key_names = DIMENSIONS[dimension]
    if plan is None:
        t = order_lines
        keys = [t.c[name] for name in key_names]
        stmt = (
            select(*keys, *_metric_columns(t, BREAKDOWN_METRICS), *_extras(t, dimension))
            .where(filters.where(t))
            .group_by(*keys)
        )
        sort_col = literal_column(sort) if sort in BREAKDOWN_METRICS else t.c[sort]
        order = [sort_col.desc() if descending else sort_col.asc(), *[k.asc() for k in keys]]
        stmt = stmt.order_by(*order)
    else:
        stmt = _rollup_select(plan, filters, key_names, BREAKDOWN_METRICS, _rollup_extras(dimension))
        if dimension == "product_line":
            rolled = stmt.subquery("rolled")
            codes = _product_code_counts(filters).subquery("codes")
            stmt = select(*rolled.c, codes.c.product_code_count).select_from(
                rolled.outerjoin(codes, rolled.c.product_line == codes.c.product_line)
            )
        stmt = _ordered(stmt, [(sort, descending), *((k, False) for k in key_names)])
    return stmt if limit is None else stmt.limit(limit)


def breakdown(
    conn: Connection,
    filters: Filters,
    dimension: str,
    *,
    limit: int | None = None,
    sort: str = "revenue",
    descending: bool = True,
) -> pd.DataFrame:
    """Metrics per value of ``dimension``: revenue, order_count, line_count, units, customer_count,
    average_order_value, average_unit_price, revenue_share (plus the dimension's descriptive columns)."""
    if dimension not in DIMENSIONS:
        raise InvalidParameter(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    if sort not in (*BREAKDOWN_METRICS, *DIMENSIONS[dimension]):
        raise InvalidParameter(f"cannot sort by {sort!r}")
    grouped = tuple(k for k in LINE_KEYS if k in DIMENSIONS[dimension])
    plan = _plan(conn, filters, grouped)
    if plan is not None and dimension == "product_code":
        plan = _Plan(rollup_codes, plan.state.codes_exact, plan.state)
    stmt = _breakdown_statement(plan, filters, dimension, limit, sort, descending)
    rows = [finish(r) for r in conn.execute(stmt).mappings()]
    total = total_revenue(conn, filters) if limit is not None else sum(r["revenue"] for r in rows)
    for r in rows:
        r["revenue_share"] = round(r["revenue"] / total, 6) if total else None
    columns = [*DIMENSIONS[dimension], *BREAKDOWN_METRICS, "average_order_value", "average_unit_price"]
    columns += [e.name for e in _extras(order_lines, dimension)] + ["revenue_share"]
    return pd.DataFrame(rows, columns=columns)


def _grain_keys(t: Table, grain: str) -> list[ColumnElement[Any]]:
    c = t.c
    keys: dict[str, list[ColumnElement[Any]]] = {
        "day": [c.order_date],
        "week": [c.iso_year, c.iso_week],
        "month": [c.year, c.month],
        "quarter": [c.year, c.quarter],
        "year": [c.year],
    }
    if grain not in keys:
        raise InvalidParameter(f"unknown time grain {grain!r}; use one of {', '.join(GRAINS)}")
    return keys[grain]


def period_start(grain: str, row: dict[str, Any]) -> date:
    """First day of the period a grouped row stands for."""
    if grain == "day":
        value = row["order_date"]
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if grain == "week":
        return date.fromisocalendar(int(row["iso_year"]), int(row["iso_week"]), 1)
    if grain == "month":
        return date(int(row["year"]), int(row["month"]), 1)
    if grain == "quarter":
        return date(int(row["year"]), 3 * (int(row["quarter"]) - 1) + 1, 1)
    return date(int(row["year"]), 1, 1)


def period_label(grain: str, start: date) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


@_statement_cache
def _over_time_statement(plan: _Plan | None, filters: Filters, grain: str) -> Select[Any]:
    if plan is None:
        t = order_lines
        keys = _grain_keys(t, grain)
        return (
            select(*keys, *_metric_columns(t, BREAKDOWN_METRICS))
            .where(filters.where(t))
            .group_by(*keys)
            .order_by(*keys)
        )
    key_names = tuple(str(k.name) for k in _grain_keys(order_lines, grain))
    stmt = _rollup_select(plan, filters, key_names, BREAKDOWN_METRICS)
    return _ordered(stmt, [(k, False) for k in key_names])


def over_time(conn: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """Metrics per period of ``grain`` (only periods with order lines in view), oldest first."""
    stmt = _over_time_statement(_plan(conn, filters), filters, grain)
    rows = []
    for raw in conn.execute(stmt).mappings():
        r = finish(raw)
        start = period_start(grain, r)
        rows.append(
            {"period": period_label(grain, start), "period_start": start}
            | {k: r[k] for k in (*BREAKDOWN_METRICS, "average_order_value")}
        )
    columns = ["period", "period_start", *BREAKDOWN_METRICS, "average_order_value"]
    return pd.DataFrame(rows, columns=columns)


@_statement_cache
def _matrix_statement(plan: _Plan | None, filters: Filters, metric: str) -> Select[Any]:
    if plan is None:
        t = order_lines
        return (
            select(t.c.year, t.c.month, *_metric_columns(t, (metric,)))
            .where(filters.where(t))
            .group_by(t.c.year, t.c.month)
        )
    return _rollup_select(plan, filters, ("year", "month"), (metric,))


def month_year_matrix(conn: Connection, filters: Filters, metric: str = "revenue") -> pd.DataFrame:
    """Rows month 1-12, one column per year; months with no order lines in view are NaN (not 0)."""
    if metric not in BREAKDOWN_METRICS:
        raise InvalidParameter(f"unknown metric {metric!r} for the heatmap")
    stmt = _matrix_statement(_plan(conn, filters), filters, metric)
    rows = [finish(r) for r in conn.execute(stmt).mappings()]
    frame = pd.DataFrame(rows, columns=["year", "month", metric])
    matrix = frame.pivot(index="month", columns="year", values=metric) if len(frame) else pd.DataFrame()
    matrix = matrix.reindex(index=range(1, 13))
    matrix.index.name = "month"
    matrix.columns = [int(y) for y in matrix.columns]
    return matrix.astype("float64")


@_statement_cache
def _date_range_statement(plan: _Plan | None, filters: Filters | None) -> Select[Any]:
    if plan is not None:
        r = _source(plan.table, filters)
        return select(func.min(r.c.first_date), func.max(r.c.last_date))
    t = order_lines
    stmt = select(func.min(t.c.order_date), func.max(t.c.order_date))
    return stmt if filters is None else stmt.where(filters.where(t))


def data_date_range(conn: Connection, filters: Filters | None = None) -> tuple[date | None, date | None]:
    """First and last order date in view (all stored lines when ``filters`` is None)."""
    first, last = conn.execute(_date_range_statement(_plan(conn, filters or Filters()), filters)).one()
    return _as_date(first), _as_date(last)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def filter_options(conn: Connection) -> dict[str, Any]:
    """Every value each declared filter can take in the stored data (all statuses included), under the filter's
    ``options_key``; read from the smallest rollup that holds the filter's column, else from the order lines."""
    rolled = _rollup_state(conn) is not None
    sources: list[Table] = (
        [MONTHLY[ROLLUPS[keys]] for keys in ((), ("product_line",), ("deal_size",))] if rolled else []
    )

    def distinct(column_name: str) -> list[Any]:
        table = next((t for t in sources if column_name in t.c), order_lines)
        column = table.c[column_name]
        return [v for (v,) in conn.execute(select(column).distinct().order_by(column)) if v is not None]

    first, last = data_date_range(conn)
    options: dict[str, Any] = {
        f.options_key: distinct(f.column)
        for f in FILTERS
        if f.options_key is not None and f.column is not None
    }
    options["date_range"] = {
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
    }
    return options


def order_line_page(
    conn: Connection,
    filters: Filters,
    *,
    limit: int = 100,
    offset: int = 0,
    sort: str = "order_date",
    descending: bool = False,
) -> tuple[pd.DataFrame, int]:
    """The order lines in view, one page at a time, and how many there are in all."""
    if sort not in ORDER_SORT_COLUMNS:
        raise InvalidParameter(
            f"cannot sort order lines by {sort!r}; use one of {', '.join(ORDER_SORT_COLUMNS)}"
        )
    t = order_lines
    where = filters.where(t)
    plan = _plan(conn, filters)
    if plan is None:
        total = int(conn.execute(select(func.count()).select_from(t).where(where)).scalar_one())
    else:
        lines = select(ROLLUP_SQL["line_count"](_source(plan.table, filters)))
        total = int(conn.execute(lines).scalar_one())
    sort_col = t.c.sales_cents if sort == "sales" else t.c[sort]
    order = [
        sort_col.desc() if descending else sort_col.asc(),
        t.c.order_number.asc(),
        t.c.order_line_number.asc(),
    ]
    columns = [c for c in t.c if c.name != "sales_cents"]
    stmt = select(*columns, t.c.sales_cents).where(where).order_by(*order).limit(limit).offset(offset)
    frame = pd.DataFrame(
        conn.execute(stmt).mappings().all(), columns=[c.name for c in columns] + ["sales_cents"]
    )
    frame.insert(
        frame.columns.get_loc("price_each") + 1, "sales", frame.pop("sales_cents").map(cents_to_money)
    )
    return frame, total
