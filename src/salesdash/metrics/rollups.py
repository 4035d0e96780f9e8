"""The rollup planner: which pre-aggregated table answers a metric question exactly, and the statements that
read it (the rollups themselves are built at load, in :mod:`salesdash.store.aggregates`).

The same metrics, computed from the rollup tables built at load (store/aggregates.py) when that gives exactly
the order-line answer, and from order_lines otherwise. Each rollup row is one (day, status, customer, country,
territory[, product_line][, deal_size]) with its lines' sums and ``order_count`` (distinct orders with a line
in the row); a filter on any other column (product_code) sends the question to order_lines. So:

- revenue, line_count and units are sums of sums: exact from any rollup that has the filtered columns;
- customer_count, country_count and product_line_count are distinct counts of key columns: exact likewise;
- order_count is a sum of per-row distinct counts: exact when every order of an answer lies in one row of
  it. An order has one day, status and customer (validated) and, when ``agg_rollup_state.orders_exact`` says so,
  one country and territory; a line attribute (product_line, deal_size) of the rollup must be grouped by or
  filtered to a single value, else an order with lines of two values would count twice. Otherwise the
  order masks answer (agg_order_masks: one row per order with a bit per (product line, deal size) pair its
  lines have; "a line of the chosen pairs" is a bitwise AND), and the order lines when there are none.

The tests compare every metric both ways on every engine (``raw_queries()`` turns rollups off).
"""

from __future__ import annotations

import calendar
import contextlib
import contextvars
import functools
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Select,
    Table,
    and_,
    cast,
    func,
    inspect,
    literal,
    select,
    union_all,
)

from salesdash.filters import Filters
from salesdash.metrics.definitions import SQL
from salesdash.store.engine import per_version
from salesdash.store.schema import (
    CUSTOMER_TABLES,
    ENTITY_SOURCES,
    LINE_KEYS,
    MONTHLY,
    ORDER_KEYS,
    ROLLUPS,
    data_versions,
    order_lines,
    order_masks,
    pair_bits,
    rollup_codes,
    rollup_products,
    rollup_state,
)

ROLLUP_KEYS = frozenset((*ORDER_KEYS, *LINE_KEYS))  # the columns a filter may restrict for a rollup to answer
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
class RollupState:
    orders_exact: bool  # order counts add up in agg_orders*
    codes_exact: bool  # order counts add up in agg_codes
    masks_built: bool  # agg_order_masks can count orders of several product lines / deal sizes


def current_state(conn: Connection) -> RollupState | None:
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
    state = per_version(conn, _STATE_KEY, lambda: _read_state(conn))
    if transaction is not None:
        conn.info[_STATE_KEY] = (transaction, state)
    return state


def _read_state(conn: Connection) -> RollupState | None:
    row = conn.execute(_state_statement()).first()
    return RollupState(*(bool(v) for v in row)) if row is not None else None


@dataclass(frozen=True)
class Plan:
    table: Table
    orders_exact: bool  # whether order_count summed over the table is the distinct count
    state: RollupState  # of the rollups: how orders are counted when orders_exact is False


def choose_plan(conn: Connection, filters: Filters, grouped: tuple[str, ...] = ()) -> Plan | None:
    """The smallest rollup that has every column the filters and the grouping use (None: use order_lines).

    A filter on a column that is no key of the order rollups (product_code) is answered from order_lines."""
    state = current_state(conn)
    if state is None or any(f.column not in ROLLUP_KEYS for f in filters.restricting()):
        return None
    chosen = {"product_line": len(filters.product_lines), "deal_size": len(filters.deal_sizes)}
    need = tuple(k for k in LINE_KEYS if k in grouped or chosen[k])
    exact = state.orders_exact and all(k in grouped or chosen[k] == 1 for k in need)
    return Plan(ROLLUPS[need], exact, state)


def entity_plan(conn: Connection, filters: Filters, keys: tuple[str, ...]) -> Plan | None:
    """The customer table that answers a breakdown by ``keys`` exactly (None: use ``choose_plan``): by
    customer, and by any other key they hold (country, territory, status, product line, deal size), since
    they are the rollups without the date. A date range, or a key or filter on a column they do not have, goes
    to the rollups; the line keys are chosen and order_count adds up on the same terms as in ``choose_plan``."""
    state = current_state(conn)
    if state is None:
        return None
    chosen = {"product_line": len(filters.product_lines), "deal_size": len(filters.deal_sizes)}
    need = tuple(k for k in LINE_KEYS if k in keys or chosen[k])
    table = CUSTOMER_TABLES[need]
    if any(k not in table.c for k in keys):
        return None
    if any(f.column is None or f.column not in table.c for f in filters.restricting()):
        return None
    return Plan(table, state.orders_exact and all(k in keys or chosen[k] == 1 for k in need), state)


def product_plan(conn: Connection, filters: Filters) -> Plan | None:
    """agg_products when it answers a ranking of product codes exactly (None: use agg_codes): it has no date,
    customer or country, so a date range or a filter on a column it does not have goes to agg_codes. Its
    order_count adds up where agg_codes' does (``codes_exact``); it has no customer_count (see
    ``queries.product_customer_counts``)."""
    state = current_state(conn)
    if state is None or not _products_answer(filters):
        return None
    return Plan(rollup_products, state.codes_exact, state)


def line_table(plan: Plan, filters: Filters) -> Table:
    """The smallest table with the product line that answers "which product lines are in view" for ``plan``:
    agg_products without a date range or a customer/country filter, else the customer table or rollup with the
    plan's line keys plus the product line."""
    if _products_answer(filters):
        return rollup_products
    keys = tuple(k for k in LINE_KEYS if k == "product_line" or k in plan.table.c)
    return CUSTOMER_TABLES[keys] if plan.table in ENTITY_SOURCES else ROLLUPS[keys]


def _products_answer(filters: Filters) -> bool:
    """Whether agg_products has every column the filters restrict (no date range among them)."""
    return all(f.column is not None and f.column in rollup_products.c for f in filters.restricting())


def _rollup_columns(
    r: FromClause, names: tuple[str, ...], keys: tuple[str, ...] = ()
) -> list[ColumnElement[Any]]:
    """The metrics over rollup rows; grouped by the customer, customer_count is 1 (no distinct count of
    100,000s of names for it)."""
    return [
        (
            literal(1, BigInteger)
            if name == "customer_count" and "customer_name" in keys
            else ROLLUP_SQL[name](r)
        ).label(name)
        for name in names
    ]


def order_counts(plan: Plan, filters: Filters, keys: tuple[str, ...] = ()) -> Select[Any]:
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


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _split_dates(filters: Filters) -> tuple[tuple[int | None, int | None] | None, list[tuple[date, date]]]:
    """The date filter as whole months (month indexes lo..hi, None = open) plus the days of partial months."""
    start, end = filters.start, filters.end
    # without stepping past a date (no "the day after the end"), so it holds up to 9999-12-31
    lo = None if start is None else _month_index(start) + (start.day != 1)
    hi = None if end is None else _month_index(end) - (end != _month_end(end))
    if lo is not None and hi is not None and lo > hi:
        assert start is not None and end is not None
        return None, [(start, end)]
    days = []
    if start is not None and start.day != 1:
        days.append((start, _month_end(start)))
    if end is not None and end != _month_end(end):
        days.append((end.replace(day=1), end))
    return (lo, hi), days


def rollup_rows(table: Table, filters: Filters | None, by_day: bool = False) -> FromClause:
    """The rollup rows of ``table`` in view: whole months from its monthly rollup and partial months' days
    from the daily one (every day from the daily one when ``by_day`` or when it has no monthly rollup), with
    the same columns either way (``first_date``/``last_date`` = the rows' first and last order date).
    ``filters`` None: every row."""
    if table in ENTITY_SOURCES or table is rollup_products:  # no dates: their plans refuse a date filter
        where = [] if filters is None else [filters.where(table)]
        return select(table).where(*where).subquery("rolled_rows")
    daily, monthly = table, MONTHLY.get(table)  # agg_codes has no monthly rollup: its days are read
    shared = [c.name for c in daily.c if c.name not in DAY_COLUMNS]  # the monthly rollup's columns
    names = [*shared, *(DAY_COLUMNS if by_day else ())]

    def from_days(where: list[ColumnElement[bool]]) -> Select[Any]:
        dates = [daily.c.order_date.label("first_date"), daily.c.order_date.label("last_date")]
        return select(*(daily.c[n] for n in names), *dates).where(*where)

    if filters is None:
        return (from_days([]) if by_day or monthly is None else select(monthly)).subquery("rolled_rows")
    if by_day or monthly is None:
        return from_days([filters.where(daily)]).subquery("rolled_rows")
    undated = filters.with_dates(None, None)
    months, days = _split_dates(filters)
    parts: list[Select[Any]] = []
    if months is not None:
        # as INTEGER: the month index of 9999-12 (119,999) does not fit the SMALLINT year column's type
        index = cast(monthly.c.year, Integer) * 12 + cast(monthly.c.month, Integer) - 1
        where = [undated.where(monthly)]
        # the year bounds are implied by the month index, but a store can skip whole blocks of rows on a
        # plain column (DuckDB's min/max per row group; the rollups are written in date order)
        if months[0] is not None:
            where += [index >= months[0], monthly.c.year >= months[0] // 12]
        if months[1] is not None:
            where += [index <= months[1], monthly.c.year <= months[1] // 12]
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


def rollup_select(
    plan: Plan,
    filters: Filters,
    key_names: tuple[str, ...],
    metric_names: tuple[str, ...],
    extras: Callable[[FromClause], list[ColumnElement[Any]]] | None = None,
) -> Select[Any]:
    """Metrics per group of ``key_names`` from the plan's rollup; order_count from the order masks or lines
    (joined on the keys) when the rollup cannot count orders exactly for this question."""
    r = rollup_rows(plan.table, filters, by_day=any(k in DAY_COLUMNS for k in key_names))
    keys = [r.c[k] for k in key_names]
    from_rollup = tuple(m for m in metric_names if m != "order_count" or plan.orders_exact)
    main = select(*keys, *_rollup_columns(r, from_rollup, key_names), *(extras(r) if extras else []))
    if keys:
        main = main.group_by(*keys)
    if from_rollup == metric_names:
        return main
    if not keys:
        return main.add_columns(order_counts(plan, filters).scalar_subquery().label("order_count"))
    m = main.subquery("rolled")
    o = order_counts(plan, filters, key_names).subquery("raw_orders")
    on = and_(*(m.c[k].is_not_distinct_from(o.c[k]) for k in key_names))
    return select(*m.c, o.c.order_count).select_from(m.outerjoin(o, on))


def rollup_extras(dimension: str) -> Callable[[FromClause], list[ColumnElement[Any]]]:
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


def product_code_counts(filters: Filters) -> Select[Any]:
    """Distinct product codes per product line in view (a distinct count of a key of agg_products, or of
    agg_codes when the filters need a column agg_products does not have)."""
    r = rollup_rows(rollup_products if _products_answer(filters) else rollup_codes, filters)
    return select(
        r.c.product_line, func.count(func.distinct(r.c.product_code)).label("product_code_count")
    ).group_by(r.c.product_line)
