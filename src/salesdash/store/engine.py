"""Engines per database URL, and the read snapshot every query runs in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from salesdash.errors import StoreUnavailable
from salesdash.store.schema import OUTDATED_TABLES, metadata

# How long SQLite's busy handler retries a locked database before giving up (then: StoreUnavailable, 503).
SQLITE_BUSY_TIMEOUT_MS = 10_000
BUSY_MESSAGE = (
    "The database is busy (locked by another process) and did not free up in time; try again shortly."
)


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text or "could not set lock" in text


def _sqlite_setup(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level=None hands transaction control to the explicit BEGIN below (pysqlite's own
    # transaction handling would otherwise start transactions lazily and break snapshot reads).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, spark_database: str | None = None, spark_location: str | None = None) -> Engine:
    """Create an engine for ``url`` with the per-engine settings salesdash relies on.

    ``sc://host:port`` is a Spark Connect endpoint (``store/spark.py``): the store's tables live in the Spark
    database ``spark_database`` and its version databases (created under ``spark_location`` when given)."""
    from salesdash.store.spark import DEFAULT_DATABASE, is_spark_url, make_spark_engine

    if is_spark_url(url):
        return make_spark_engine(url, spark_database or DEFAULT_DATABASE, spark_location)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_setup)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "duckdb":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # One DuckDB database file may be opened by one process; keep one pooled connection per thread.
        return create_engine(url)
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    return create_engine(url, poolclass=NullPool)


def ensure_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet (idempotent); drop derived tables of earlier versions."""
    if engine.dialect.name == "spark":
        from salesdash.store.spark_load import ensure_empty_version

        try:
            ensure_empty_version(engine)
        except OperationalError as exc:
            raise StoreUnavailable(
                f"Cannot reach Spark at {engine.url.query.get('remote')}: {exc.orig}"
            ) from None
        return
    try:
        metadata.create_all(engine)
        if any(inspect(engine).has_table(name) for name in OUTDATED_TABLES):
            with engine.begin() as conn:
                for name in OUTDATED_TABLES:
                    Table(name, MetaData()).drop(conn, checkfirst=True)
    except OperationalError as exc:
        raise StoreUnavailable(
            f"Cannot open the database at {engine.url!r}: {exc.orig}{_hint(engine, exc)}"
        ) from None


def _hint(engine: Engine, exc: OperationalError) -> str:
    if engine.dialect.name == "duckdb" and "lock" in str(exc.orig).lower():
        return (
            ". A DuckDB file can be open in one process at a time: stop the process holding it (the API server?)"
            " or load through the running API (POST /api/data-refresh)."
        )
    return ""


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("data_versions")


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection in one transaction: every query in it sees the same data version.

    SQLite (WAL) and DuckDB give a transaction a consistent snapshot; on PostgreSQL the transaction is
    REPEATABLE READ so that several statements see one snapshot; on Spark the transaction reads one data
    version's database (chosen when it begins: ``store/spark.py``).
    """
    try:
        if engine.dialect.name == "postgresql":
            conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        else:
            conn = engine.connect()
    except OperationalError as exc:
        if _is_busy(exc):
            raise StoreUnavailable(BUSY_MESSAGE, details=[{"problem": "database_locked"}]) from None
        raise StoreUnavailable(f"The database is unreachable: {exc.orig}") from None
    try:
        with conn.begin():
            yield conn
    except OperationalError as exc:
        if _is_busy(exc):  # SQLite's busy handler has retried for SQLITE_BUSY_TIMEOUT_MS already
            raise StoreUnavailable(BUSY_MESSAGE, details=[{"problem": "database_locked"}]) from None
        raise
    finally:
        conn.close()
