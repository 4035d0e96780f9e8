"""Rollups built at load: the order lines pre-aggregated, in the same transaction as the lines themselves.

The tables are defined in ``store/schema.py`` (``ROLLUPS``, ``rollup_state``); the metric layer reads them when
they answer a question exactly (``metrics/rollups.py``, the planner) and the order lines otherwise.

How they are built, in portable SQL (INSERT ... SELECT ... GROUP BY, the same on every engine):

1. ``parts``: one row per (order, day, status, customer, country, territory, product line, deal size) with the
   sums of its lines (a temporary table: the lines grouped once);
2. for each rollup, ``parts`` grouped by the order plus the rollup's keys (one row per order and key), then by
   the keys alone: ``order_count`` = the number of those rows = distinct orders with a line in the row;
3. ``agg_pairs`` numbers the (product line, deal size) pairs (one bit each) and ``agg_order_masks`` holds, per
   order and ORDER_KEYS, the OR of its pairs' bits (``parts`` joined to the pairs and summed: each pair occurs
   once per order row, so the sum is the OR); the metric layer counts orders of several product lines or deal
   sizes from it;
4. ``agg_rollup_state`` records the data version the rollups belong to, and whether every order has one country
   and territory (validation guarantees one day, status and customer). When that fails, order counts come from
   the order lines or the masks; sums and distinct counts of keys still come from the rollups.

A replace of many lines computes the very same rows from the lines in memory instead (``frame_rollups``:
integer codes and numpy, a few seconds for 10M lines where string GROUP BYs take tens of seconds) and inserts
them with the engine's bulk loader. The tests build rollups both ways and compare them with the order lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Executable,
    FromClause,
    MetaData,
    Table,
    cast,
    delete,
    func,
    insert,
    select,
)

from salesdash.store.schema import (
    CODE_KEYS,
    ENTITY_SOURCES,
    LINE_KEYS,
    MAX_PAIRS,
    MONTHLY,
    ORDER_KEYS,
    PRODUCT_KEYS,
    ROLLUP_MEASURES,
    ROLLUPS,
    order_lines,
    order_masks,
    pair_bits,
    rollup_codes,
    rollup_products,
    rollup_state,
)

Progress = Callable[[str, int, int], None]
SUMS = ("line_count", "units", "revenue_cents")
MEASURES_OF_MONTH = (*ROLLUP_MEASURES, "msrp_max", "first_date", "last_date")
# replaces of at least this many lines build the rollups from the frame in memory
FRAME_ROLLUP_ROWS = 100_000
_MAX_KEY = 1 << 62
_BITMAP_PAIRS = 1 << 28  # 256 MB of bytes at most for a distinct count by bitmap
# Engines that read a date range faster from rows stored in date order: DuckDB skips every row group whose
# min/max (its zone maps) lie outside the range (a 17-day range of agg_codes: 60 ms -> 6 ms at 10M lines), and
# appends after the rows a reload deletes, so the order holds. PostgreSQL reuses deleted rows' space (no order
# after a reload) and Spark would pay a shuffle at every load.
DATE_ORDERED_DIALECTS = frozenset({"duckdb"})


def date_ordered(conn: Connection) -> bool:
    """Whether the rollups are written in date order on this connection's engine."""
    return conn.dialect.name in DATE_ORDERED_DIALECTS


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


def _fill_parts(conn: Connection, parts: Table, lines: FromClause = order_lines) -> None:
    """``parts`` from ``lines`` (order_lines, or the lines of some rollup rows: see store/incremental.py)."""
    conn.execute(parts_insert(parts, lines))


def parts_insert(parts: Table, lines: FromClause) -> Executable:
    ol = lines
    keys = [ol.c[k] for k in ORDER_KEYS + LINE_KEYS]
    grouped = select(
        ol.c.order_number,
        *keys,
        func.count().label("line_count"),
        func.sum(ol.c.quantity_ordered).label("units"),
        func.sum(ol.c.sales_cents).label("revenue_cents"),
    ).group_by(ol.c.order_number, *keys)
    return insert(parts).from_select(["order_number", *ORDER_KEYS, *LINE_KEYS, *SUMS], grouped)


def _fill_rollup(conn: Connection, parts: Table, line_keys: tuple[str, ...], target: Table) -> None:
    conn.execute(rollup_insert(parts, line_keys, target, ordered=date_ordered(conn)))


def rollup_insert(
    parts: Table, line_keys: tuple[str, ...], target: Table, ordered: bool = False
) -> Executable:
    """The rows of the rollup ``target`` (keyed by ORDER_KEYS + ``line_keys``) from ``parts``, in date order
    when ``ordered``."""
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
    if ordered:
        rolled = rolled.order_by(per_order.c.order_date)
    return insert(target).from_select([*keys, *ROLLUP_MEASURES], rolled)


def _sorted_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs in the order their bits are given (the same in the SQL and the in-memory build)."""
    return sorted(pairs)


def _fill_masks(conn: Connection, parts: Table) -> bool:
    """agg_pairs and agg_order_masks from ``parts``; False (and nothing written) past MAX_PAIRS pairs."""
    found = conn.execute(select(parts.c.product_line, parts.c.deal_size).distinct()).all()
    pairs = _sorted_pairs([(str(pl), str(ds)) for pl, ds in found])
    if len(pairs) > MAX_PAIRS:
        return False
    if pairs:
        rows = [
            {"bit_value": 1 << i, "product_line": pl, "deal_size": ds} for i, (pl, ds) in enumerate(pairs)
        ]
        conn.execute(insert(pair_bits), rows)
    _insert_masks(conn, parts)
    return True


def _insert_masks(conn: Connection, parts: Table) -> None:
    """agg_order_masks rows of the orders in ``parts`` (agg_pairs already numbers every pair they have)."""
    conn.execute(masks_insert(parts))


def masks_insert(parts: Table) -> Executable:
    keys = [parts.c.order_number, *(parts.c[k] for k in ORDER_KEYS)]
    joined = parts.join(
        pair_bits,
        (parts.c.product_line == pair_bits.c.product_line) & (parts.c.deal_size == pair_bits.c.deal_size),
    )
    masks = (
        select(*keys, cast(func.sum(pair_bits.c.bit_value), BigInteger).label("pair_mask"))
        .select_from(joined)
        .group_by(*keys)
    )
    return insert(order_masks).from_select(["order_number", *ORDER_KEYS, "pair_mask"], masks)


def _orders_exact(conn: Connection, parts: Table) -> bool:
    """Whether every order has one (day, status, customer, country, territory): then an order lies in one row
    of agg_orders and order counts add up."""
    per_order = select(parts.c.order_number, *(parts.c[k] for k in ORDER_KEYS)).distinct().subquery()
    combos, orders = conn.execute(
        select(func.count(), func.count(func.distinct(per_order.c.order_number)))
    ).one()
    return int(combos) == int(orders)


def _fill_codes(conn: Connection) -> bool:
    """agg_codes from order_lines; returns whether every (order, product code) lies in one of its rows."""
    ol = order_lines
    pairs = select(ol.c.order_number, ol.c.product_code).distinct().subquery()
    distinct_pairs = int(conn.execute(select(func.count()).select_from(pairs)).scalar_one())
    lines = int(conn.execute(select(func.count()).select_from(ol)).scalar_one())
    # each line its own (order, code), as in the sample and at realistic cardinality: one grouping, not two
    one_line_each = distinct_pairs == lines
    conn.execute(codes_insert(ol, ordered=date_ordered(conn), one_line_per_pair=one_line_each))
    if one_line_each:  # a row's order_count is its lines, each a pair of its own: they add up to the pairs
        return True
    counted = conn.execute(select(func.coalesce(func.sum(rollup_codes.c.order_count), 0))).scalar_one()
    return distinct_pairs == int(counted)


def codes_insert(lines: FromClause, ordered: bool = False, one_line_per_pair: bool = False) -> Executable:
    """agg_codes rows of ``lines`` (order_lines, or the lines of some rollup rows), in date order when
    ``ordered``. ``one_line_per_pair``: no two of ``lines`` share an (order, product code), so the per-order
    grouping would give the lines themselves (10M lines: 11.2 s -> 7.6 s without it, DuckDB)."""
    ol = lines
    keys = ORDER_KEYS + CODE_KEYS
    per_order: FromClause = ol
    if not one_line_per_pair:
        grain = [ol.c.order_number, *(ol.c[k] for k in keys)]
        per_order = (
            select(
                *grain,
                func.count().label("line_count"),
                func.sum(ol.c.quantity_ordered).label("units"),
                func.sum(ol.c.sales_cents).label("revenue_cents"),
                func.max(ol.c.msrp).label("msrp_max"),
            )
            .group_by(*grain)
            .subquery("per_order")
        )
    c = per_order.c
    # per line or per (order, code): the sums of the lines either way
    line_count, units, revenue, msrp = (
        (func.count(), func.sum(c.quantity_ordered), func.sum(c.sales_cents), func.max(c.msrp))
        if one_line_per_pair
        else (func.sum(c.line_count), func.sum(c.units), func.sum(c.revenue_cents), func.max(c.msrp_max))
    )
    rolled = select(
        *(c[k] for k in keys),
        func.count().label("order_count"),
        line_count.label("line_count"),
        units.label("units"),
        revenue.label("revenue_cents"),
        msrp.label("msrp_max"),
    ).group_by(*(c[k] for k in keys))
    if ordered:
        rolled = rolled.order_by(per_order.c.order_date)
    return insert(rollup_codes).from_select([*keys, *ROLLUP_MEASURES, "msrp_max"], rolled)


def clear_rollups(conn: Connection) -> None:
    conn.execute(delete(rollup_state))
    for table in (
        *ROLLUPS.values(),
        rollup_codes,
        *MONTHLY.values(),
        *ENTITY_SOURCES,
        rollup_products,
        order_masks,
        pair_bits,
    ):
        conn.execute(delete(table))


def fill_entities(conn: Connection, only: Callable[[Table], Any] | None = None) -> None:
    """Each customer table from its monthly rollup (:func:`entity_inserts`)."""
    for statement in entity_inserts(only):
        conn.execute(statement)


def entity_inserts(only: Callable[[Table], Any] | None = None) -> list[Executable]:
    """The statements that fill each customer table from its monthly rollup: sums add up over the months, and so
    does order_count (an order has one month, so the month rows gathered into one customer row hold disjoint
    orders); first and last dates are the rows' min and max.

    ``only``: a condition on a monthly rollup's rows to build just some customers' rows (store/incremental.py)."""
    statements: list[Executable] = []
    for entity, monthly in ENTITY_SOURCES.items():
        names = [c.name for c in entity.c if c.name in monthly.c]
        keys = [monthly.c[n] for n in names if n not in MEASURES_OF_MONTH]
        rolled = select(
            *keys,
            *(func.sum(monthly.c[m]).label(m) for m in ROLLUP_MEASURES),
            func.min(monthly.c.first_date).label("first_date"),
            func.max(monthly.c.last_date).label("last_date"),
        )
        if only is not None:
            rolled = rolled.where(only(monthly))
        rolled = rolled.group_by(*keys)
        statements.append(insert(entity).from_select([c.name for c in rolled.selected_columns], rolled))
    return statements


def fill_products(conn: Connection, only: Callable[[Table], Any] | None = None) -> None:
    """agg_products from agg_codes (:func:`products_insert`)."""
    conn.execute(products_insert(only))


def products_insert(only: Callable[[Table], Any] | None = None) -> Executable:
    """The statement that fills agg_products from the product-code rollup: sums add up over the days,
    customers and countries, and so does order_count where agg_codes' does (those keys are shared by all lines of
    an order, so the rows gathered into one product row hold disjoint (order, code) pairs).

    ``only``: a condition on agg_codes' rows to build just some product codes' rows (store/incremental.py)."""
    codes = rollup_codes
    keys = [codes.c[k] for k in PRODUCT_KEYS]
    rolled = select(
        *keys,
        *(func.sum(codes.c[m]).label(m) for m in ROLLUP_MEASURES),
        func.max(codes.c.msrp_max).label("msrp_max"),
        func.min(codes.c.order_date).label("first_date"),
        func.max(codes.c.order_date).label("last_date"),
    )
    if only is not None:
        rolled = rolled.where(only(codes))
    rolled = rolled.group_by(*keys)
    return insert(rollup_products).from_select([c.name for c in rolled.selected_columns], rolled)


def _fill_monthly(conn: Connection, only: Callable[[Table], Any] | None = None) -> None:
    """Each monthly rollup from its daily one: sums add up over the days of a month, and so does order_count
    (an order has one date, so the orders of a month's row are those of its days' rows, disjoint).

    ``only``: a condition on a daily table's rows, to build just some months' rows (store/incremental.py)."""
    for statement in monthly_inserts(only, ordered=date_ordered(conn)):
        conn.execute(statement)


def monthly_inserts(only: Callable[[Table], Any] | None = None, ordered: bool = False) -> list[Executable]:
    """The rows of each monthly rollup from its daily one (in month order when ``ordered``)."""
    statements: list[Executable] = []
    for daily, monthly in MONTHLY.items():
        keys = [daily.c[c.name] for c in monthly.c if c.name in daily.c and c.name not in MEASURES_OF_MONTH]
        sums = [func.sum(daily.c[m]).label(m) for m in ROLLUP_MEASURES]
        extra = [func.max(daily.c.msrp_max).label("msrp_max")] if "msrp_max" in daily.c else []
        dates = [
            func.min(daily.c.order_date).label("first_date"),
            func.max(daily.c.order_date).label("last_date"),
        ]
        rolled = select(*keys, *sums, *extra, *dates)
        if only is not None:
            rolled = rolled.where(only(daily))
        rolled = rolled.group_by(*keys)
        if ordered:
            rolled = rolled.order_by(daily.c.year, daily.c.month)
        names = (
            [c.name for c in keys]
            + list(ROLLUP_MEASURES)
            + [e.name for e in extra]
            + ["first_date", "last_date"]
        )
        statements.append(insert(monthly).from_select(names, rolled))
    return statements


def _record_state(conn: Connection, version: str, exact: bool, codes_exact: bool, masks_built: bool) -> None:
    lines = int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())
    conn.execute(
        insert(rollup_state).values(
            version=version,
            orders_exact=exact,
            codes_exact=codes_exact,
            masks_built=masks_built,
            line_rows=lines,
            built_at=datetime.now(UTC).replace(tzinfo=None),
        )
    )


def rebuild_rollups(
    conn: Connection,
    version: str,
    progress: Progress | None = None,
    frame: pd.DataFrame | None = None,
) -> None:
    """Rebuild every rollup on ``conn`` (inside the caller's transaction) for ``version``.

    ``frame``: the lines just written, when order_lines holds exactly them (a replace); large frames are
    rolled up in memory, anything else with SQL from order_lines."""
    if frame is not None and len(frame) >= FRAME_ROLLUP_ROWS:
        from salesdash.store.bulk import insert_arrow

        if progress:
            progress("rollups", 0, 1)
        clear_rollups(conn)
        tables, exact, codes_exact, masks_built = frame_rollups(frame)
        if progress:
            progress("rollups", 1, len(tables) + 1)
        for done, (target, rows) in enumerate(tables.items(), start=2):
            if date_ordered(conn) and "order_date" in rows.column_names:
                rows = rows.sort_by("order_date")
            insert_arrow(conn, target, rows)
            if progress:
                progress("rollups", done, len(tables) + 1)
        _fill_monthly(conn)
        fill_entities(conn)
        fill_products(conn)
        _record_state(conn, version, exact, codes_exact, masks_built)
        return
    steps = len(ROLLUPS) + 3
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
    masks_built = _fill_masks(conn, parts)
    parts.drop(conn)
    codes_exact = _fill_codes(conn)
    _fill_monthly(conn)
    fill_entities(conn)
    fill_products(conn)
    _record_state(conn, version, exact, codes_exact, masks_built)
    if progress:
        progress("rollups", steps, steps)


# -- the same rollups from the lines in memory -----------------------------------------------------------------


class _Codes:
    """A column as integer codes (-1 = missing) into its distinct values."""

    def __init__(self, series: pd.Series) -> None:
        if isinstance(series.dtype, pd.CategoricalDtype):
            self.codes = series.cat.codes.to_numpy().astype(np.int64)
            self.values = np.asarray(series.cat.categories, dtype=object)
        else:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            self.codes = codes.astype(np.int64)
            self.values = np.asarray(uniques, dtype=object)
        self.radix = len(self.values) + 1  # shifted by one: missing is 0

    def shifted(self) -> np.ndarray:
        return self.codes + 1


def _first_rows(ids: np.ndarray) -> np.ndarray:
    """Row of the first occurrence of each id, for ids numbered in order of first appearance (pd.factorize)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    running = np.maximum.accumulate(ids)
    return np.flatnonzero(np.r_[True, ids[1:] > running[:-1]])


def _combine(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Ids of the distinct combinations of several code arrays (numbered in order of first appearance)."""
    key = np.zeros(len(parts[0][0]), dtype=np.int64)
    span = 1
    for codes, radix in parts:
        if span * radix >= _MAX_KEY:
            key, uniques = pd.factorize(key)
            span = len(uniques)
        key = key * radix + codes
        span *= radix
    ids, _ = pd.factorize(key)
    return ids.astype(np.int64)


def _distinct_count(a: np.ndarray, a_radix: int, b: np.ndarray, b_radix: int) -> int:
    """How many distinct (a, b) pairs: a bitmap over the pair space when it is small enough (a fraction of a
    second for 10M pairs), else a hash of the combined keys."""
    span = a_radix * b_radix
    if span <= _BITMAP_PAIRS:
        seen = np.zeros(span, dtype=bool)
        seen[a * b_radix + b] = True
        return int(np.count_nonzero(seen))
    return int(_combine([(a, a_radix), (b, b_radix)]).max(initial=-1)) + 1


def _sums(ids: np.ndarray, count: int, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    frame = pd.DataFrame(values).groupby(ids, sort=True).sum()
    return {name: frame[name].to_numpy(np.int64)[:count] for name in values}


def _arrow_values(codes: _Codes, rows: np.ndarray, column: Column) -> pa.Array:
    kind = {"DATE": pa.date32(), "SMALLINT": pa.int16()}.get(str(column.type), pa.string())
    picked = codes.codes[rows]
    values = pa.array(codes.values.tolist(), type=kind) if len(codes.values) else pa.array([], type=kind)
    if not len(values):
        return pa.nulls(len(rows), type=kind)
    return values.take(pa.array(picked.astype(np.int32), mask=picked < 0))


def frame_rollups(frame: pd.DataFrame) -> tuple[dict[Table, pa.Table], bool, bool, bool]:
    """The rows of every rollup for the order lines in ``frame``, whether order counts add up in agg_orders
    and in agg_codes, and whether the order masks were built (at most MAX_PAIRS pairs).

    The same GROUP BYs as the SQL build, on integer codes: a "cell" is a distinct combination of ORDER_KEYS,
    a "part" a distinct (cell, line keys, order); each rollup row gathers parts."""
    columns = {name: _Codes(frame[name]) for name in ORDER_KEYS + CODE_KEYS}
    order_ids, orders = pd.factorize(frame["order_number"].to_numpy())
    order_ids = order_ids.astype(np.int64)
    n_orders = max(len(orders), 1)
    cell = _combine([(columns[k].shifted(), columns[k].radix) for k in ORDER_KEYS])
    cells = int(cell.max(initial=0)) + 1
    line_sums = {
        "line_count": np.ones(len(frame), dtype=np.int64),
        "units": frame["quantity_ordered"].to_numpy(np.int64),
        "revenue_cents": frame["sales_cents"].to_numpy(np.int64),
    }

    def keyed(rows: np.ndarray, names: tuple[str, ...]) -> list[tuple[np.ndarray, int]]:
        return [(columns[k].shifted()[rows], columns[k].radix) for k in names]

    def table_of(
        target: Table, keys: tuple[str, ...], row_of: np.ndarray, lines: np.ndarray, order_count: np.ndarray
    ) -> dict[str, pa.Array]:
        data = {k: _arrow_values(columns[k], lines, target.c[k]) for k in keys}
        data["order_count"] = pa.array(order_count.astype(np.int64))
        return data

    out: dict[Table, pa.Table] = {}
    # parts: one per (cell, product_line, deal_size, order)
    every = np.arange(len(frame))
    part = _combine([(cell, cells), *keyed(every, LINE_KEYS), (order_ids, n_orders)])
    part_rows = _first_rows(part)  # a representative line of each part
    part_sums = _sums(part, len(part_rows), line_sums)
    part_cell, part_order = cell[part_rows], order_ids[part_rows]
    exact = True
    for line_keys, target in ROLLUPS.items():
        row_of_part = _combine([(part_cell, cells), *keyed(part_rows, line_keys)])
        row_parts = _first_rows(row_of_part)
        n_rows = len(row_parts)
        if line_keys == LINE_KEYS:  # parts are distinct (row, order) already
            order_count = np.bincount(row_of_part, minlength=n_rows)
        else:
            pairs = _combine([(row_of_part, n_rows), (part_order, n_orders)])
            order_count = np.bincount(row_of_part[_first_rows(pairs)], minlength=n_rows)
        if not line_keys:
            exact = int(order_count.sum()) == len(orders)
        data = table_of(target, ORDER_KEYS + line_keys, row_of_part, part_rows[row_parts], order_count)
        rolled = _sums(row_of_part, n_rows, part_sums)
        data.update({m: pa.array(rolled[m]) for m in SUMS})
        out[target] = pa.table(data)
    masks_built = _frame_masks(out, columns, part_rows, part_cell, cells, part_order, orders)
    # product codes: rows per (cell, product_line, deal_size, product_code); parts add the order
    row_of_line = _combine([(cell, cells), *keyed(every, CODE_KEYS)])
    code_rows = _first_rows(row_of_line)
    n_rows = len(code_rows)
    code = columns["product_code"]
    order_codes = _distinct_count(order_ids, n_orders, code.shifted(), code.radix)  # distinct (order, code)
    if order_codes == len(frame):
        # no order has one product code on two lines, so every (row, order) is a single line: a row's orders
        # are its lines, and every (order, code) lies in one row
        order_count = np.bincount(row_of_line, minlength=n_rows)
        codes_exact = True
    else:
        code_parts = _combine([(row_of_line, n_rows), (order_ids, n_orders)])
        order_count = np.bincount(row_of_line[_first_rows(code_parts)], minlength=n_rows)
        codes_exact = int(order_count.sum()) == order_codes
    data = table_of(rollup_codes, ORDER_KEYS + CODE_KEYS, row_of_line, code_rows, order_count)
    rolled = _sums(row_of_line, n_rows, line_sums)
    data.update({m: pa.array(rolled[m]) for m in SUMS})
    msrp = frame["msrp"].astype("Int64").groupby(row_of_line, sort=True).max()
    data["msrp_max"] = pa.array(
        msrp.to_numpy(dtype="float64", na_value=np.nan)[:n_rows], from_pandas=True
    ).cast(pa.int32())
    out[rollup_codes] = pa.table(data)
    return out, exact, codes_exact, masks_built


def _frame_masks(
    out: dict[Table, pa.Table],
    columns: dict[str, _Codes],
    part_rows: np.ndarray,
    part_cell: np.ndarray,
    cells: int,
    part_order: np.ndarray,
    orders: np.ndarray,
) -> bool:
    """agg_pairs and agg_order_masks rows from the parts (as _fill_masks does in SQL) into ``out``."""
    line = {k: columns[k] for k in LINE_KEYS}
    pair = _combine([(line[k].shifted()[part_rows], line[k].radix) for k in LINE_KEYS])
    first_of_pair = part_rows[_first_rows(pair)]
    pl, ds = (line[k] for k in LINE_KEYS)
    found = [(str(pl.values[pl.codes[row]]), str(ds.values[ds.codes[row]])) for row in first_of_pair]
    if len(found) > MAX_PAIRS:
        return False
    ordered = _sorted_pairs(found)
    bit_of_pair = np.array([1 << ordered.index(p) for p in found], dtype=np.int64)
    n_orders = max(len(orders), 1)
    group = _combine([(part_cell, cells), (part_order, n_orders)])
    first = _first_rows(group)
    masks = np.zeros(len(first), dtype=np.int64)
    if len(pair):
        np.add.at(masks, group, bit_of_pair[pair])  # each pair once per group: the sum is the OR
    rows = part_rows[first]
    data = {"order_number": pa.array(np.asarray(orders)[part_order[first]].astype(np.int64))}
    data.update({k: _arrow_values(columns[k], rows, order_masks.c[k]) for k in ORDER_KEYS})
    data["pair_mask"] = pa.array(masks)
    out[order_masks] = pa.table(data)
    out[pair_bits] = pa.table(
        {
            "bit_value": pa.array([1 << i for i in range(len(ordered))], type=pa.int64()),
            "product_line": pa.array([p[0] for p in ordered], type=pa.string()),
            "deal_size": pa.array([p[1] for p in ordered], type=pa.string()),
        }
    )
    return True


__all__ = ["clear_rollups", "fill_entities", "frame_rollups", "rebuild_rollups"]
