"""Metric queries: each takes a connection (inside one read snapshot) and Filters, returns plain data.

No HTTP and no UI here. SQL is built with SQLAlchemy Core from fixed column objects; filter values are
always bound parameters.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, Literal

import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)

from salesdash.errors import InvalidParameter, NotFound
from salesdash.filters import FILTERS, Filters
from salesdash.metrics.definitions import (
    BREAKDOWN_METRICS,
    SQL,
    STORED,
    cents_to_money,
    finish,
    finish_columns,
)
from salesdash.metrics.rollups import (
    ROLLUP_SQL,
    Plan,
    choose_plan,
    current_state,
    entity_plan,
    line_table,
    product_code_counts,
    product_plan,
    rollup_extras,
    rollup_rows,
    rollup_select,
)
from salesdash.store.engine import per_version
from salesdash.store.schema import (
    CUSTOMER_TABLES,
    LINE_KEYS,
    MONTHLY,
    ROLLUPS,
    order_lines,
    rollup_codes,
    rollup_products,
)
from salesdash.vocabulary import CANCELLED

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

# The columns of an order line as the metric layer returns it (the stored ones, sales in money after
# price_each), and those that may be null.
_LINE_NAMES = [c.name for c in order_lines.c if c.name != "sales_cents"]
ORDER_LINE_FIELDS: tuple[str, ...] = tuple(
    name for c in _LINE_NAMES for name in ((c, "sales") if c == "price_each" else (c,))
)
ORDER_LINE_NULLABLE: tuple[str, ...] = tuple(c.name for c in order_lines.c if c.nullable)

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


# Statements are built once per (plan, filters, arguments) and reused: building SQLAlchemy expressions costs
# more than running them on small data. Every argument is hashable (Filters is frozen).
statement_cache = functools.lru_cache(maxsize=4096)


def headline_plan(conn: Connection, filters: Filters) -> Plan | None:
    """The table for figures over everything in view (no grouping): a customer table without a date range (the
    rollups without the date), else the smallest rollup (``choose_plan``)."""
    return entity_plan(conn, filters, ()) or choose_plan(conn, filters)


@statement_cache
def _kpis_statement(plan: Plan | None, filters: Filters) -> Select[Any]:
    if plan is None:
        t = order_lines
        return select(*_metric_columns(t, STORED)).where(filters.where(t))
    stmt = rollup_select(plan, filters, (), tuple(m for m in STORED if m != "product_line_count"))
    lines = rollup_rows(line_table(plan, filters), filters)
    count = select(ROLLUP_SQL["product_line_count"](lines))
    return stmt.add_columns(count.scalar_subquery().label("product_line_count"))


def kpis(conn: Connection, filters: Filters) -> dict[str, Any]:
    """Headline metrics for the order lines in view."""
    row = conn.execute(_kpis_statement(headline_plan(conn, filters), filters)).mappings().one()
    return finish({name: row[name] for name in STORED})


@statement_cache
def _total_revenue_statement(plan: Plan | None, filters: Filters) -> Select[Any]:
    if plan is not None:
        return select(ROLLUP_SQL["revenue"](rollup_rows(plan.table, filters)))
    t = order_lines
    return select(SQL["revenue"](t)).where(filters.where(t))


def total_revenue(conn: Connection, filters: Filters) -> float:
    return cents_to_money(
        conn.execute(_total_revenue_statement(headline_plan(conn, filters), filters)).scalar_one()
    )


@statement_cache
def grouped_statement(
    plan: Plan | None, filters: Filters, dimension: str, metrics: tuple[str, ...] = BREAKDOWN_METRICS
) -> Select[Any]:
    """The stored ``metrics`` (raw: revenue in cents) and the dimension's descriptive columns per value of
    ``dimension``, unordered, from ``plan`` (``breakdown_plan``; None: the order lines)."""
    key_names = DIMENSIONS[dimension]
    if plan is None:
        t = order_lines
        keys = [t.c[name] for name in key_names]
        return (
            select(*keys, *_metric_columns(t, metrics), *_extras(t, dimension))
            .where(filters.where(t))
            .group_by(*keys)
        )
    stmt = rollup_select(plan, filters, key_names, metrics, rollup_extras(dimension))
    if dimension == "product_line":
        rolled = stmt.subquery("rolled")
        codes = product_code_counts(filters).subquery("codes")
        stmt = select(*rolled.c, codes.c.product_code_count).select_from(
            rolled.outerjoin(codes, rolled.c.product_line == codes.c.product_line)
        )
    return stmt


def breakdown_plan(conn: Connection, filters: Filters, dimension: str) -> Plan | None:
    """The table that answers a breakdown by ``dimension`` exactly: a customer table, or a rollup (None: the
    order lines)."""
    grouped = tuple(k for k in LINE_KEYS if k in DIMENSIONS[dimension])
    plan = entity_plan(conn, filters, DIMENSIONS[dimension]) or choose_plan(conn, filters, grouped)
    if plan is not None and dimension == "product_code":
        plan = Plan(rollup_codes, plan.state.codes_exact, plan.state)
    return plan


@statement_cache
def _breakdown_statement(
    plan: Plan | None,
    filters: Filters,
    dimension: str,
    limit: int | None,
    offset: int,
    sort: str,
    descending: bool,
) -> Select[Any]:
    stmt = grouped_statement(plan, filters, dimension)
    stmt = _ordered(stmt, [(sort, descending), *((k, False) for k in DIMENSIONS[dimension])])
    return stmt if limit is None else stmt.limit(limit).offset(offset)


def breakdown(
    conn: Connection,
    filters: Filters,
    dimension: str,
    *,
    limit: int | None = None,
    offset: int = 0,
    sort: str = "revenue",
    descending: bool = True,
) -> pd.DataFrame:
    """Metrics per value of ``dimension``: revenue, order_count, line_count, units, customer_count,
    average_order_value, average_unit_price, revenue_share (plus the dimension's descriptive columns); with
    ``limit``, the page of that many rows after ``offset`` rows (ties on ``sort`` broken by the key)."""
    if dimension not in DIMENSIONS:
        raise InvalidParameter(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    if sort not in (*BREAKDOWN_METRICS, *DIMENSIONS[dimension]):
        raise InvalidParameter(f"cannot sort by {sort!r}")
    products = None
    if dimension == "product_code" and limit is not None and sort != "customer_count":
        products = product_plan(conn, filters)
    if products is not None:
        assert limit is not None
        stmt = _product_page_statement(products, filters, limit, offset, sort, descending)
    else:
        plan = breakdown_plan(conn, filters, dimension)
        stmt = _breakdown_statement(plan, filters, dimension, limit, offset, sort, descending)
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = [tuple(r) for r in result.all()]  # one fetch; plain tuples (pandas probes a Row per row)
    values = finish_columns(names, rows)
    total = total_revenue(conn, filters) if limit is not None else sum(values["revenue"])
    values["revenue_share"] = [round(r / total, 6) if total else None for r in values["revenue"]]
    columns = [*DIMENSIONS[dimension], *BREAKDOWN_METRICS, "average_order_value", "average_unit_price"]
    columns += [e.name for e in _extras(order_lines, dimension)] + ["revenue_share"]
    missing = [float("nan")] * len(rows)  # what reindexing to a column the answer lacks would give
    # built once from an ordered dict (columns= would make pandas reindex it a second time)
    return pd.DataFrame({c: values.get(c, missing) for c in columns})


_PAGE_METRICS = tuple(m for m in BREAKDOWN_METRICS if m != "customer_count")


@statement_cache
def _product_page_statement(
    plan: Plan, filters: Filters, limit: int, offset: int, sort: str, descending: bool
) -> Select[Any]:
    """The page's rows from agg_products, joined with the distinct customers of just the page's codes (from
    agg_codes, a semi-join on the page: no list of codes in the SQL text)."""
    ranked = rollup_select(plan, filters, ("product_code",), _PAGE_METRICS, rollup_extras("product_code"))
    order = [(sort, descending), ("product_code", False)]
    page = _ordered(ranked, order).limit(limit).offset(offset).subquery("page")
    r = rollup_rows(rollup_codes, filters)
    counts = (
        select(r.c.product_code, ROLLUP_SQL["customer_count"](r).label("customer_count"))
        .where(r.c.product_code.in_(select(page.c.product_code)))
        .group_by(r.c.product_code)
        .subquery("page_customers")
    )
    joined = select(*page.c, func.coalesce(counts.c.customer_count, 0).label("customer_count")).select_from(
        page.outerjoin(counts, page.c.product_code == counts.c.product_code)
    )
    return _ordered(joined, order)


def group_count(conn: Connection, filters: Filters, dimension: str) -> int:
    """How many rows ``breakdown`` answers for ``dimension`` (product_code or product_line) in view: the
    total of a paged ranking."""
    key = DIMENSIONS[dimension][0]
    if dimension not in ("product_code", "product_line"):
        raise InvalidParameter(f"no group count for {dimension!r}")
    plan = product_plan(conn, filters)
    if plan is None:
        coarse = choose_plan(conn, filters, tuple(k for k in LINE_KEYS if k == key))
        plan = None if coarse is None else Plan(rollup_codes, coarse.orders_exact, coarse.state)
    if plan is None:
        t = order_lines
        stmt = select(func.count(func.distinct(t.c[key]))).where(filters.where(t))
    else:
        r = rollup_rows(plan.table, filters)
        stmt = select(func.count(func.distinct(r.c[key])))
    return int(conn.execute(stmt).scalar_one())


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


@statement_cache
def _over_time_statement(plan: Plan | None, filters: Filters, grain: str) -> Select[Any]:
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
    stmt = rollup_select(plan, filters, key_names, BREAKDOWN_METRICS)
    return _ordered(stmt, [(k, False) for k in key_names])


def over_time(conn: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """Metrics per period of ``grain`` (only periods with order lines in view), oldest first."""
    stmt = _over_time_statement(choose_plan(conn, filters), filters, grain)
    result = conn.execute(stmt)
    names = list(result.keys())
    rows = [tuple(r) for r in result.all()]
    starts = [period_start(grain, dict(zip(names, r, strict=True))) for r in rows]
    values = finish_columns(names, rows)
    columns = ["period", "period_start", *BREAKDOWN_METRICS, "average_order_value"]
    found = {"period": [period_label(grain, s) for s in starts], "period_start": starts} | values
    return pd.DataFrame({c: found[c] for c in columns})  # an ordered dict: no columns= (see breakdown)


@statement_cache
def _matrix_statement(plan: Plan | None, filters: Filters, metric: str) -> Select[Any]:
    if plan is None:
        t = order_lines
        return (
            select(t.c.year, t.c.month, *_metric_columns(t, (metric,)))
            .where(filters.where(t))
            .group_by(t.c.year, t.c.month)
        )
    return rollup_select(plan, filters, ("year", "month"), (metric,))


def month_year_matrix(conn: Connection, filters: Filters, metric: str = "revenue") -> pd.DataFrame:
    """Rows month 1-12, one column per year; months with no order lines in view are NaN (not 0)."""
    if metric not in BREAKDOWN_METRICS:
        raise InvalidParameter(f"unknown metric {metric!r} for the heatmap")
    stmt = _matrix_statement(choose_plan(conn, filters), filters, metric)
    rows = [finish(r) for r in conn.execute(stmt).mappings()]
    frame = pd.DataFrame(rows, columns=["year", "month", metric])
    matrix = frame.pivot(index="month", columns="year", values=metric) if len(frame) else pd.DataFrame()
    matrix = matrix.reindex(index=range(1, 13))
    matrix.index.name = "month"
    matrix.columns = [int(y) for y in matrix.columns]
    return matrix.astype("float64")


@statement_cache
def _date_range_statement(plan: Plan | None, filters: Filters | None) -> Select[Any]:
    if plan is not None:
        r = rollup_rows(plan.table, filters)
        return select(func.min(r.c.first_date), func.max(r.c.last_date))
    t = order_lines
    stmt = select(func.min(t.c.order_date), func.max(t.c.order_date))
    return stmt if filters is None else stmt.where(filters.where(t))


def data_date_range(conn: Connection, filters: Filters | None = None) -> tuple[date | None, date | None]:
    """First and last order date in view (all stored lines when ``filters`` is None: once per data version
    where the store can tell, ``store.per_version``)."""

    def read() -> tuple[date | None, date | None]:
        statement = _date_range_statement(choose_plan(conn, filters or Filters()), filters)
        first, last = conn.execute(statement).one()
        return _as_date(first), _as_date(last)

    return per_version(conn, "data_date_range", read) if filters is None else read()


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def filter_options(conn: Connection, *, listed: bool = True) -> dict[str, Any]:
    """Every value each declared filter can take in the stored data (all statuses included), under the filter's
    ``options_key``; read from the smallest rollup that holds the filter's column, else from the order lines
    (once per data version where the store can tell, ``store.per_version``; the caller gets its own dict).

    ``listed`` False: a filter with a finder (customers, product codes: 100,000s of values) gets how many
    values it has instead of the list (:func:`filter_values` reads them when they are needed)."""
    options: dict[str, Any] = per_version(
        conn, ("filter_options", listed), lambda: _filter_options(conn, listed)
    )
    return {key: value if isinstance(value, int) else type(value)(value) for key, value in options.items()}


def _option_source(conn: Connection, column_name: str) -> Column[Any]:
    """The column ``column_name`` of the smallest table holding every value it takes: a rollup (when they are
    current) or the order lines."""
    sources: list[Table] = (
        [
            rollup_products,  # every status, product line, deal size and code, in a row per code and status
            CUSTOMER_TABLES[()],  # every customer, in a row per customer, status, country and territory
            *(MONTHLY[ROLLUPS[keys]] for keys in ((), ("product_line",), ("deal_size",))),
        ]
        if current_state(conn) is not None
        else []
    )
    table = next((t for t in sources if column_name in t.c), order_lines)
    return table.c[column_name]


def filter_values(conn: Connection, column_name: str) -> list[str]:
    """The distinct values of a filter's column in the stored data (unordered), fetched at once."""
    column = _option_source(conn, column_name)
    return [
        str(v) for v in conn.execute(select(column).where(column.is_not(None)).distinct()).scalars().all()
    ]


def _filter_options(conn: Connection, listed: bool = True) -> dict[str, Any]:
    filters = [f for f in FILTERS if f.options_key is not None and f.column is not None]
    shown = [(f.options_key or "", f.column or "") for f in filters if listed or not f.finder]
    counted = [(f.options_key or "", f.column or "") for f in filters if not listed and f.finder]

    def distinct(position: int, column_name: str) -> Select[Any]:
        """The column's distinct values, tagged with the filter's position (every filter column is text)."""
        column = _option_source(conn, column_name)
        tag = cast(literal(position), Integer).label("filter")
        return select(tag, column.label("value")).where(column.is_not(None)).distinct()

    # one statement for every filter (on Spark each statement is a job of its own: one, not one per filter)
    values = union_all(*(distinct(i, column) for i, (_key, column) in enumerate(shown))).subquery()
    found: list[list[Any]] = [[] for _ in shown]
    # fetched at once: row by row, 200K customer names cost a third of a second more on DuckDB
    for position, value in conn.execute(select(values).order_by(values.c["filter"], values.c.value)).all():
        found[position].append(value)
    options: dict[str, Any] = {key: found[i] for i, (key, _column) in enumerate(shown)}
    if counted:
        sizes = [
            select(func.count(func.distinct(column))).scalar_subquery()
            for column in (_option_source(conn, name) for _key, name in counted)
        ]
        row = conn.execute(select(*sizes)).one()
        options.update({key: int(n) for (key, _column), n in zip(counted, row, strict=True)})
    first, last = data_date_range(conn)
    options["date_range"] = {
        "start": first.isoformat() if first else None,
        "end": last.isoformat() if last else None,
    }
    return options


MAX_SEARCH_LENGTH = 100


def order_search(table: Table, q: str | None) -> ColumnElement[bool] | None:
    """Lines whose order number, customer name or product code contains ``q`` (any case; ``%`` and ``_`` are
    literal characters, the text is one bound parameter)."""
    text = (q or "").strip()
    if not text:
        return None
    c = table.c
    number = cast(c.order_number, String)
    return or_(
        *(column.icontains(text, autoescape=True) for column in (number, c.customer_name, c.product_code))
    )


def order_line_page(
    conn: Connection,
    filters: Filters,
    *,
    limit: int = 100,
    offset: int = 0,
    sort: str = "order_date",
    descending: bool = False,
    q: str | None = None,
) -> tuple[pd.DataFrame, int]:
    """The order lines in view (matching the search ``q`` when given), one page at a time, and how many there
    are in all. Ties on ``sort`` are broken by (order number, order line number), which is unique, so pages
    never repeat or drop a line."""
    if sort not in ORDER_SORT_COLUMNS:
        raise InvalidParameter(
            f"cannot sort order lines by {sort!r}; use one of {', '.join(ORDER_SORT_COLUMNS)}"
        )
    t = order_lines
    where = filters.where(t)
    search = order_search(t, q)
    if search is not None:
        where = and_(where, search)
    plan = choose_plan(conn, filters) if search is None else None
    if plan is None:
        total = int(conn.execute(select(func.count()).select_from(t).where(where)).scalar_one())
    else:
        lines = select(ROLLUP_SQL["line_count"](rollup_rows(plan.table, filters)))
        total = int(conn.execute(lines).scalar_one())
    sort_col = t.c.sales_cents if sort == "sales" else t.c[sort]
    order = [sort_col.desc() if descending else sort_col.asc()]
    order += [k.asc() for k in (t.c.order_number, t.c.order_line_number) if k is not sort_col]
    stmt = select(*_line_columns(t)).where(where).order_by(*order).limit(limit).offset(offset)
    return _lines_frame(conn, stmt), total


def _line_columns(t: Table) -> list[ColumnElement[Any]]:
    return [*(c for c in t.c if c.name != "sales_cents"), t.c.sales_cents]


def _lines_frame(conn: Connection, stmt: Select[Any]) -> pd.DataFrame:
    """Order lines as a frame, ``sales`` (money, from the stored cents) after ``price_each``."""
    names = [c.name for c in order_lines.c if c.name != "sales_cents"] + ["sales_cents"]
    frame = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=names)
    frame.insert(
        frame.columns.get_loc("price_each") + 1, "sales", frame.pop("sales_cents").map(cents_to_money)
    )
    return frame


ORDER_TOTALS = ("revenue", "line_count", "units")


def order_detail(conn: Connection, order_number: int) -> dict[str, Any]:
    """One order, whatever its status: its lines (by line number), status, customer, dates and totals (the
    metrics' own definitions over its lines). NotFound when no line has that number."""
    t = order_lines
    mine = t.c.order_number == order_number
    stmt = select(*_line_columns(t)).where(mine).order_by(t.c.order_line_number.asc())
    lines = _lines_frame(conn, stmt)
    if lines.empty:
        raise NotFound(
            f"There is no order {order_number} in the data.",
            details=[{"parameter": "ordernumber", "value": order_number, "message": "no such order"}],
        )
    row = conn.execute(select(*_metric_columns(t, ORDER_TOTALS)).where(mine)).mappings().one()
    totals = finish({name: row[name] for name in ORDER_TOTALS})
    totals.pop("average_unit_price", None)
    first = lines.iloc[0]
    return {
        "order_number": int(order_number),
        "status": first["status"],
        "order_date": _as_date(first["order_date"]),
        "customer_name": first["customer_name"],
        "country": first["country"],
        "territory": first["territory"],
        "deal_sizes": sorted(set(lines["deal_size"])),
        # the order's own sum of line sales: "revenue" would claim it counts, and a Cancelled order does not
        "totals": {"sales": totals.pop("revenue"), **totals},
        "in_revenue": first["status"] != CANCELLED,
        "lines": lines,
    }
