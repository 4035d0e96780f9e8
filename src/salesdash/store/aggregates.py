"""Rollups built at load: the order lines pre-aggregated, in the same transaction as the lines themselves.

The tables are defined in ``store/schema.py`` (``ROLLUPS``, ``rollup_state``); the metric layer reads them when
they answer a question exactly (``metrics/queries.py``) and the order lines otherwise.

How they are built, in portable SQL (INSERT ... SELECT ... GROUP BY, the same on every engine):

1. ``parts``: one row per (order, day, status, customer, country, territory, product line, deal size) with the
   sums of its lines (a temporary table: the lines grouped once);
2. for each rollup, ``parts`` grouped by the order plus the rollup's keys (one row per order and key), then by
   the keys alone: ``order_count`` = the number of those rows = distinct orders with a line in the row;
3. ``agg_state`` records the data version the rollups belong to, and whether every order has one country and
   territory (validation guarantees one day, status and customer). When that fails, order counts come from the
   order lines; sums and distinct counts of keys still come from the rollups.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    FromClause,
    MetaData,
    Table,
    delete,
    func,
    insert,
    select,
)

from salesdash.store.schema import (
    LINE_KEYS,
    ORDER_KEYS,
    ROLLUP_MEASURES,
    ROLLUPS,
    order_lines,
    rollup_state,
)

Progress = Callable[[str, int, int], None]
SUMS = ("line_count", "units", "revenue_cents")


def _parts_table() -> Table:
    keys = [Column(k, order_lines.c[k].type) for k in ORDER_KEYS + LINE_KEYS]
    sums = [Column(m, BigInteger) for m in SUMS]
    return Table(
        "salesdash_order_parts",
        MetaData(),
        Column("order_number", BigInteger),
        *keys,
        *sums,
        prefixes=["TEMPORARY"],
    )


def _fill_parts(conn: Connection, parts: Table) -> None:
    ol = order_lines
    keys = [ol.c[k] for k in ORDER_KEYS + LINE_KEYS]
    grouped = select(
        ol.c.order_number,
        *keys,
        func.count().label("line_count"),
        func.sum(ol.c.quantity_ordered).label("units"),
        func.sum(ol.c.sales_cents).label("revenue_cents"),
    ).group_by(ol.c.order_number, *keys)
    conn.execute(insert(parts).from_select(["order_number", *ORDER_KEYS, *LINE_KEYS, *SUMS], grouped))


def _fill_rollup(conn: Connection, parts: Table, line_keys: tuple[str, ...], target: Table) -> None:
    keys = ORDER_KEYS + line_keys
    per_order: FromClause
    if line_keys == LINE_KEYS:
        per_order = parts.alias("per_order")  # parts already has one row per order and key
    else:
        grain = [parts.c.order_number, *(parts.c[k] for k in keys)]
        per_order = (
            select(*grain, *(func.sum(parts.c[m]).label(m) for m in SUMS))
            .group_by(*grain)
            .subquery("per_order")
        )
    rolled = select(
        *(per_order.c[k] for k in keys),
        func.count().label("order_count"),
        *(func.sum(per_order.c[m]).label(m) for m in SUMS),
    ).group_by(*(per_order.c[k] for k in keys))
    conn.execute(insert(target).from_select([*keys, *ROLLUP_MEASURES], rolled))


def _orders_exact(conn: Connection, parts: Table) -> bool:
    """Whether every order has one (day, status, customer, country, territory): then an order lies in one row
    of agg_orders and order counts add up."""
    per_order = select(parts.c.order_number, *(parts.c[k] for k in ORDER_KEYS)).distinct().subquery()
    combos, orders = conn.execute(
        select(func.count(), func.count(func.distinct(per_order.c.order_number)))
    ).one()
    return int(combos) == int(orders)


def clear_rollups(conn: Connection) -> None:
    conn.execute(delete(rollup_state))
    for table in ROLLUPS.values():
        conn.execute(delete(table))


def rebuild_rollups(conn: Connection, version: str, progress: Progress | None = None) -> None:
    """Rebuild every rollup from order_lines on ``conn`` (inside the caller's transaction) for ``version``."""
    steps = len(ROLLUPS) + 2
    if progress:
        progress("rollups", 0, steps)
    clear_rollups(conn)
    parts = _parts_table()
    parts.drop(conn, checkfirst=True)
    parts.create(conn)
    # on failure the caller's transaction rolls back, the temporary table with it
    _fill_parts(conn, parts)
    if progress:
        progress("rollups", 1, steps)
    for done, (line_keys, table) in enumerate(ROLLUPS.items(), start=2):
        _fill_rollup(conn, parts, line_keys, table)
        if progress:
            progress("rollups", done, steps)
    exact = _orders_exact(conn, parts)
    parts.drop(conn)
    lines = int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())
    conn.execute(
        insert(rollup_state).values(
            version=version,
            orders_exact=exact,
            line_rows=lines,
            built_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )
    if progress:
        progress("rollups", steps, steps)


__all__ = ["clear_rollups", "rebuild_rollups"]
