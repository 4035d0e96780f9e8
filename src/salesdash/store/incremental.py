"""Rollups kept up to date by an append: only the rows the new lines touch are rebuilt.

A rollup row is keyed by ORDER_KEYS (day, status, customer, country, territory and the calendar columns of the
day) plus its line keys, and it gathers the lines with those keys. New lines therefore change exactly the rows
of their "cells" (their distinct values of CELL_KEYS; the calendar columns follow from the day). After the new
lines are inserted, in the same transaction:

1. the cells of every line of the batch's orders (stored lines of those orders may lie in other cells when an
   order spans two countries) go into a temporary table;
2. every daily rollup row of those cells is deleted and built again from the lines of those cells, with the very
   GROUP BYs of the full build (``store/aggregates.py``), and so are the monthly rows of their months, the
   order masks of the batch's orders and the customer rows (``agg_customers*``) of the cells' customers (from
   their monthly rows, as the full build);
3. ``agg_rollup_state`` moves to the new data version: ``orders_exact``/``codes_exact`` can only turn false
   when lines are added, so the old flag and a check over the batch's orders give the full build's flag.

The statements of steps 1-2 never depend on an answer in between, so they go as a few scripts
(``bulk.execute_script``: one round trip each on PostgreSQL, where a round trip per statement was most of a
batch's wait); the flags come from one query, and the line count is the state's plus the batch's.

No statement reads a whole table: every touched row lies in a month of one of the batch's customers, so each
condition is "in those (customer, year, month)s" (served by the index leading with ``CUSTOMER_MONTH`` on the
lines and on the daily and monthly rollups, ``store/schema.py``) and the exact match beside it. A batch's cost
therefore follows the lines it brings, not the lines stored (a scan of every rollup per batch made the
customer-table refresh and the cell rebuild slower with every batch).

The answer is the full rebuild's, row for row (tests compare both after random batches on every engine). A
batch with a (product line, deal size) pair never seen before renumbers the mask bits: then, and when no
rollups exist yet, the rollups are rebuilt in full.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Executable,
    FromClause,
    Index,
    MetaData,
    ScalarSelect,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    true,
    tuple_,
)
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from salesdash.store import aggregates
from salesdash.store.bulk import execute_script, insert_arrow
from salesdash.store.schema import (
    CODE_KEYS,
    CUSTOMER_MONTH,
    ENTITY_SOURCES,
    INDEXED_DIALECTS,
    LINE_KEYS,
    MONTH_KEYS,
    MONTHLY,
    ROLLUPS,
    order_lines,
    order_masks,
    pair_bits,
    rollup_codes,
    rollup_products,
    rollup_state,
)

# the keys of a rollup row that are not derived from another one (the calendar columns follow order_date)
CELL_KEYS: tuple[str, ...] = ("order_date", "status", "customer_name", "country", "territory")
_MONTH_CELL_KEYS: tuple[str, ...] = MONTH_KEYS


def _temporary(name: str, columns: list[Column[Any]]) -> Table:
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


def _same(a: ColumnElement[Any], b: ColumnElement[Any], nullable: bool) -> ColumnElement[bool]:
    return a.is_not_distinct_from(b) if nullable else a == b


def _match(table: FromClause, cells: FromClause, keys: tuple[str, ...]) -> ColumnElement[bool]:
    return and_(*(_same(table.c[k], cells.c[k], bool(order_lines.c[k].nullable)) for k in keys))


def _new_pairs(conn: Connection, batch: pd.DataFrame) -> bool:
    """Whether the batch has a (product line, deal size) pair that agg_pairs does not number yet."""
    known = {
        (str(pl), str(ds)) for pl, ds in conn.execute(select(pair_bits.c.product_line, pair_bits.c.deal_size))
    }
    found = {
        (str(pl), str(ds)) for pl, ds in batch[list(LINE_KEYS)].drop_duplicates().itertuples(index=False)
    }
    return not found <= known


def update_rollups(conn: Connection, version: str, batch: pd.DataFrame) -> int:
    """Bring every rollup up to date after ``batch`` (columns = ORDER_LINE_COLUMNS) was inserted on ``conn``
    (inside the caller's transaction), for ``version``; returns the number of stored lines."""
    found = conn.execute(select(rollup_state)).all()  # all(): DuckDB wants every result read to the end
    state = found[0] if found else None
    if state is None or (state.masks_built and _new_pairs(conn, batch)):
        aggregates.rebuild_rollups(conn, version)
        return int(conn.execute(select(rollup_state.c.line_rows)).scalar_one())
    orders = _temporary("salesdash_batch_orders", [Column("order_number", BigInteger)])
    cells = _temporary("salesdash_batch_cells", [Column(k, order_lines.c[k].type) for k in CELL_KEYS])
    months = _temporary(
        "salesdash_batch_months", [Column(k, order_lines.c[k].type) for k in _MONTH_CELL_KEYS]
    )
    parts = aggregates._parts_table()
    # SQLite runs the correlated EXISTS below as lookups into these (DuckDB and PostgreSQL hash-join them)
    Index("ix_salesdash_batch_cells", cells.c.order_date, cells.c.customer_name)
    Index("ix_salesdash_batch_months", months.c.year, months.c.month, months.c.customer_name)
    temporary = (orders, cells, months, parts)
    # on failure the caller's transaction rolls back, the temporary tables with it. The statements go in a few
    # scripts (execute_script: one round trip each on PostgreSQL) and never depend on an answer in between.
    execute_script(
        conn,
        [
            *(DropTable(table, if_exists=True) for table in temporary),
            *(CreateTable(table) for table in temporary),
            *(CreateIndex(index) for table in temporary for index in table.indexes),
        ],
    )
    numbers = sorted({int(n) for n in batch["order_number"]})
    insert_arrow(conn, orders, pa.table({"order_number": pa.array(numbers, type=pa.int64())}))
    ol = order_lines

    indexed = conn.dialect.name in INDEXED_DIALECTS

    def near(table: FromClause) -> ColumnElement[bool]:
        """Rows of the batch's customers' months: a superset of the touched rows that the index leading with
        CUSTOMER_MONTH finds without reading the whole table (the exact match is the EXISTS beside it). DuckDB
        has no such index and hash-joins the EXISTS alone faster than with the row-value IN beside it."""
        if not indexed:
            return true()
        keys = select(*(months.c[k] for k in CUSTOMER_MONTH)).distinct()
        return tuple_(*(table.c[k] for k in CUSTOMER_MONTH)).in_(keys)

    def in_cells(table: FromClause) -> ColumnElement[bool]:
        return and_(near(table), exists().where(_match(table, cells, CELL_KEYS)))

    def in_months(table: FromClause) -> ColumnElement[bool]:
        return and_(near(table), exists().where(_match(table, months, _MONTH_CELL_KEYS)))

    of_orders = ol.join(orders, ol.c.order_number == orders.c.order_number)
    # the lines of the touched cells, as one FROM clause the full build's GROUP BYs read
    lines = select(*ol.c).where(in_cells(ol)).subquery("cell_lines")
    touched = select(cells.c.customer_name).distinct()  # the batch's customers (their customer-table rows)
    statements: list[Executable] = [
        insert(cells).from_select(
            list(CELL_KEYS), select(*(ol.c[k] for k in CELL_KEYS)).select_from(of_orders).distinct()
        ),
        insert(months).from_select(
            list(_MONTH_CELL_KEYS),
            select(*(ol.c[k] for k in _MONTH_CELL_KEYS)).select_from(of_orders).distinct(),
        ),
        *(delete(table).where(in_cells(table)) for table in (*ROLLUPS.values(), rollup_codes)),
        aggregates.parts_insert(parts, lines),
        *(aggregates.rollup_insert(parts, line_keys, table) for line_keys, table in ROLLUPS.items()),
        aggregates.codes_insert(lines),
        *(delete(monthly).where(in_months(monthly)) for monthly in MONTHLY.values()),
        *aggregates.monthly_inserts(in_months),
        # the customer rows of the cells' customers, again from their (rebuilt) monthly rows
        *(delete(entity).where(entity.c.customer_name.in_(touched)) for entity in ENTITY_SOURCES),
        *aggregates.entity_inserts(lambda monthly: monthly.c.customer_name.in_(touched)),
    ]
    statements += _product_refresh(of_orders)
    if state.masks_built:
        statements += [
            delete(order_masks).where(order_masks.c.order_number.in_(select(orders.c.order_number))),
            delete(parts).where(parts.c.order_number.not_in(select(orders.c.order_number))),
            aggregates.masks_insert(parts),
        ]
    execute_script(conn, statements)
    # the exactness flags in one query (the line count follows from the state's: counting the stored lines
    # would read them all, a cost growing with the store, in every batch)
    checks: dict[str, ScalarSelect[Any]] = {}
    # the lines of the batch's orders by an IN (SQLite would otherwise read the whole order-number index)
    of_batch = select(*ol.c).where(ol.c.order_number.in_(select(orders.c.order_number))).subquery()
    if state.orders_exact:
        checks |= _one_row_each(of_batch, "orders", ("order_number", *CELL_KEYS))
    if state.codes_exact:
        checks |= _one_row_each(
            of_batch, "codes", ("order_number", *CELL_KEYS, *CODE_KEYS), ("order_number", "product_code")
        )
    counts: dict[str, Any] = {}
    if checks:
        found_counts = conn.execute(select(*(value.label(name) for name, value in checks.items()))).one()
        counts = dict(found_counts._mapping)
    orders_exact = bool(state.orders_exact) and counts["orders_combos"] == counts["orders_units"]
    codes_exact = bool(state.codes_exact) and counts["codes_combos"] == counts["codes_units"]
    line_rows = int(state.line_rows) + len(batch)
    execute_script(conn, [delete(rollup_state), *(DropTable(table) for table in temporary)])
    conn.execute(
        insert(rollup_state).values(
            version=version,
            orders_exact=orders_exact,
            codes_exact=codes_exact,
            masks_built=bool(state.masks_built),
            line_rows=line_rows,
            built_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )
    return line_rows


def _product_refresh(batch_lines: FromClause) -> list[Executable]:
    """agg_products' rows of the batch's product codes, again from their (rebuilt) agg_codes rows (the other
    codes' rows are unchanged: a code's rows change only with lines of that code)."""
    codes = select(order_lines.c.product_code).select_from(batch_lines).distinct()
    return [
        delete(rollup_products).where(rollup_products.c.product_code.in_(codes)),
        aggregates.products_insert(lambda rolled: rolled.c.product_code.in_(codes)),
    ]


def _one_row_each(
    lines: FromClause, name: str, grain: tuple[str, ...], unit: tuple[str, ...] = ("order_number",)
) -> dict[str, ScalarSelect[Any]]:
    """Counts whose equality says whether each distinct ``unit`` of ``lines`` (of the batch's orders) has one
    distinct ``grain``: ``<name>_combos`` and ``<name>_units``."""
    combos = select(*(lines.c[k] for k in grain)).distinct().subquery()
    units = select(*(lines.c[k] for k in unit)).distinct().subquery()
    return {
        f"{name}_combos": select(func.count()).select_from(combos).scalar_subquery(),
        f"{name}_units": select(func.count()).select_from(units).scalar_subquery(),
    }


__all__ = ["CELL_KEYS", "update_rollups"]
