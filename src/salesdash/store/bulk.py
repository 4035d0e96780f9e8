"""Bulk inserts of order lines, the fast way on each engine, inside the caller's transaction.

- DuckDB: the lines as an Arrow table registered on the connection, then one ``INSERT ... SELECT``.
- PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` fed by Arrow's CSV writer (psycopg 3 copy).
- SQLite: ``executemany`` of plain tuples on the DB-API cursor.
- Spark: Arrow batches sent through Spark Connect and appended with ``insertInto`` (Spark writes Parquet);
  ``spark_load.frame_writer`` stages a larger frame as a Parquet file the cluster reads instead.

``execute_script`` runs a list of parameterless statements (the incremental rollup update) the same way: on
PostgreSQL in one round trip, elsewhere one by one.

Every path runs on the connection of the caller's transaction, so a failure (or a kill) rolls the whole load
back with it. Values are converted once, column by column, with Arrow (no per-row Python on DuckDB and
PostgreSQL).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Executable, Table, column, insert, select
from sqlalchemy import table as sa_table
from sqlalchemy.sql.elements import ClauseElement

from salesdash.store.schema import ORDER_LINE_COLUMNS, order_lines

Progress = Callable[[str, int, int], None]

# Arrow type per order_lines column (matches store/schema.py)
_INT64 = ("order_number", "sales_cents")
_INT32 = ("order_line_number", "quantity_ordered", "msrp")
_INT16 = ("year", "quarter", "month", "day", "iso_year", "iso_week")
_FLOAT = ("price_each",)
_DATE = ("order_date",)
BATCH_ROWS = 100_000


def _arrow_type(name: str) -> pa.DataType:
    if name in _INT64:
        return pa.int64()
    if name in _INT32:
        return pa.int32()
    if name in _INT16:
        return pa.int16()
    if name in _FLOAT:
        return pa.float64()
    if name in _DATE:
        return pa.date32()
    return pa.string()


def _column(series: pd.Series, kind: pa.DataType) -> pa.Array:
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories
        codes = series.cat.codes.to_numpy()
        values = pa.array(list(categories), type=kind) if len(categories) else pa.array([], type=kind)
        indices = pa.array(codes.astype(np.int32), mask=codes < 0)
        return values.take(indices) if len(values) else pa.nulls(len(series), type=kind)
    if pa.types.is_date32(kind) and series.dtype.kind == "M":
        return pa.array(series.to_numpy().astype("datetime64[D]"), type=kind)
    return pa.array(series, type=kind, from_pandas=True)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The order lines (columns = ORDER_LINE_COLUMNS) as an Arrow table typed like the order_lines table.

    Accepts both flavours of cleaned frame: the row path's (object text, date objects) and the columnar
    path's (categoricals)."""
    arrays = [_column(frame[name], _arrow_type(name)) for name in ORDER_LINE_COLUMNS]
    return pa.Table.from_arrays(arrays, names=list(ORDER_LINE_COLUMNS))


def _batches(table: pa.Table, rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    yield from table.to_batches(max_chunksize=rows)


def _insert_duckdb(conn: Connection, target: Table, table: pa.Table, progress: Progress | None) -> None:
    raw: Any = conn.connection.driver_connection
    name = f"salesdash_incoming_{uuid.uuid4().hex[:8]}"
    total = table.num_rows
    incoming = sa_table(name, *(column(c) for c in table.column_names))
    raw.register(name, table)
    try:
        # one statement: DuckDB parallelises it (progress shows its start and its end)
        conn.execute(insert(target).from_select(table.column_names, select(*incoming.c)))
    finally:
        raw.unregister(name)
    if progress:
        progress("load", total, total)


def _insert_postgresql(conn: Connection, target: Table, table: pa.Table, progress: Progress | None) -> None:
    from psycopg import sql

    raw: Any = conn.connection.driver_connection
    total = table.num_rows
    done = 0
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(target.name), sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    )
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for batch in _batches(table):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, write_options=options)
            copy.write(buffer.getbuffer())
            done += batch.num_rows
            if progress:
                progress("load", done, total)


def _python_columns(batch: pa.RecordBatch) -> list[list[Any]]:
    columns: list[list[Any]] = []
    for values in batch.columns:
        if pa.types.is_date32(values.type):
            values = pc.cast(values, pa.string())  # SQLite stores dates as ISO text (as SQLAlchemy does)
        columns.append(values.to_pylist())
    return columns


def _insert_sqlite(conn: Connection, target: Table, table: pa.Table, progress: Progress | None) -> None:
    raw: Any = conn.connection.driver_connection
    total = table.num_rows
    done = 0
    columns = [target.c[name] for name in table.column_names]
    statement = str(insert(target).compile(dialect=conn.dialect, column_keys=[c.key for c in columns]))
    cursor = raw.cursor()
    try:
        for batch in _batches(table):
            cursor.executemany(statement, zip(*_python_columns(batch), strict=True))
            done += batch.num_rows
            if progress:
                progress("load", done, total)
    finally:
        cursor.close()


def check_not_null(target: Table, table: pa.Table) -> None:
    """Spark does not enforce NOT NULL on Parquet tables: check before writing."""
    from salesdash.store.spark import IntegrityError

    for col in target.columns:
        if not col.nullable and col.name in table.column_names and table[col.name].null_count:
            raise IntegrityError(f"{target.name}.{col.name} may not be NULL")


def _insert_spark(conn: Connection, target: Table, table: pa.Table, progress: Progress | None) -> None:
    raw: Any = conn.connection.driver_connection
    total = table.num_rows
    done = 0
    ordered = table.select([c.name for c in target.columns if c.name in table.column_names])
    check_not_null(target, ordered)
    name = f"`{raw.database}`.`{target.name}`"
    for batch in _batches(ordered):
        frame = raw.session.createDataFrame(pa.Table.from_batches([batch]))
        frame.write.insertInto(name)
        done += batch.num_rows
        if progress:
            progress("load", done, total)


def insert_arrow(conn: Connection, target: Table, table: pa.Table, progress: Progress | None = None) -> int:
    """Insert ``table`` (columns named as ``target``'s) into ``target`` the fast way for the engine."""
    if table.num_rows == 0:
        return 0
    dialect = conn.dialect.name
    if dialect == "duckdb":
        _insert_duckdb(conn, target, table, progress)
    elif dialect == "postgresql":
        _insert_postgresql(conn, target, table, progress)
    elif dialect == "sqlite":
        _insert_sqlite(conn, target, table, progress)
    elif dialect == "spark":
        _insert_spark(conn, target, table, progress)
    else:  # any other SQLAlchemy dialect: portable executemany
        for batch in _batches(table):
            conn.execute(insert(target), batch.to_pylist())
    return table.num_rows


def execute_script(conn: Connection, statements: Sequence[Executable]) -> None:
    """Run ``statements`` in order on ``conn`` (inside the caller's transaction), the fewest round trips the engine
    allows. Each must take no bound parameter and return no row (INSERT ... SELECT, DELETE, DDL).

    PostgreSQL: the compiled statements go as ONE simple-query message (one round trip, one server response;
    the first failure aborts the rest and the transaction, as one by one would); a statement with parameters (or
    a ``%`` the driver would have to unescape) is run on its own. Other engines: one by one."""
    if conn.dialect.name != "postgresql":
        for statement in statements:
            conn.execute(statement)
        return
    script: list[str] = []

    def flush() -> None:
        if script:
            conn.exec_driver_sql(";\n".join(script), execution_options={"no_parameters": True})
            script.clear()

    for statement in statements:
        if not isinstance(statement, ClauseElement):  # not compilable on its own: run it as it is
            flush()
            conn.execute(statement)
            continue
        compiled = statement.compile(dialect=conn.dialect)
        text = str(compiled)
        if getattr(compiled, "params", None) or "%" in text:
            flush()
            conn.execute(statement)
        else:
            script.append(text)
    flush()


def insert_lines(
    conn: Connection, frame: pd.DataFrame, progress: Progress | None = None, target: Table = order_lines
) -> int:
    """Insert the order lines of ``frame`` into ``target`` (order_lines or a table of its columns) on ``conn``
    (inside the caller's transaction); returns the count."""
    table = to_arrow(frame)
    if progress:
        progress("load", 0, table.num_rows)
    return insert_arrow(conn, target, table, progress)


__all__ = ["check_not_null", "execute_script", "insert_arrow", "insert_lines", "to_arrow"]
