"""Engines per database URL, and the read snapshot every query runs in."""

from __future__ import annotations

import contextlib
import errno
import weakref
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from salesdash.errors import SalesdashError, StoreUnavailable
from salesdash.store.schema import (
    INDEXED_DIALECTS,
    OUTDATED_TABLES,
    metadata,
    rollup_products,
)

# How long SQLite's busy handler retries a locked database before giving up (then: StoreUnavailable, 503).
SQLITE_BUSY_TIMEOUT_MS = 10_000
BUSY_MESSAGE = (
    "The database is busy (locked by another process) and did not free up in time; try again shortly."
)


DISK_FULL_MESSAGE = (
    "The disk is full; nothing was changed. Free some space on the disk that holds the database (or point "
    "SALESDASH_DATABASE_URL at one with room) and load again."
)


def explain(exc: BaseException, engine: Engine | None = None) -> SalesdashError | None:
    """The clear error for a storage failure people can act on, or None: a full disk (any engine, or a file
    written next to the database) and a damaged SQLite file ("file is not a database", "database disk image
    is malformed"). Both are StoreUnavailable (503; the CLI's exit 2)."""
    orig: BaseException = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    if (
        (isinstance(orig, OSError) and orig.errno == errno.ENOSPC)
        or "database or disk is full" in text
        or "no space left on device" in text
        or "could not extend file" in text
    ):
        return StoreUnavailable(DISK_FULL_MESSAGE, details=[{"problem": "disk_full"}])
    if "file is not a database" in text or "database disk image is malformed" in text:
        path = engine.url.database if engine is not None and engine.dialect.name == "sqlite" else None
        return StoreUnavailable(
            f"The SQLite database file{f' {path}' if path else ''} is damaged ({orig}): nothing can be read "
            "from it or written to it. Restore it from a backup, or move it aside and run `salesdash ingest` "
            "to build a new one from the CSV.",
            details=[{"problem": "database_damaged"}],
        )
    return None


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


def make_engine(
    url: str,
    *,
    spark_database: str | None = None,
    spark_location: str | None = None,
    spark_ingest_bytes: int | None = None,
    spark_shared_files: str | None = None,
) -> Engine:
    """Create an engine for ``url`` with the per-engine settings salesdash relies on.

    ``sc://host:port`` is a Spark Connect endpoint (``store/spark.py``): the store's tables live in the Spark
    database ``spark_database`` and its version databases (created under ``spark_location`` when given); files
    of ``spark_ingest_bytes`` or more are ingested by the cluster when it reads this machine's files
    (``spark_shared_files``: auto, yes, no)."""
    from salesdash.store.spark import DEFAULT_DATABASE, is_spark_url, make_spark_engine

    if is_spark_url(url):
        return make_spark_engine(
            url, spark_database or DEFAULT_DATABASE, spark_location, spark_ingest_bytes, spark_shared_files
        )
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


def writes_rows(engine: Engine) -> bool:
    """Whether the store inserts single rows with generated ids and deletes rows by a condition (SQLite, DuckDB,
    PostgreSQL); the Spark store writes whole tables only (each load is a new database)."""
    return engine.dialect.name != "spark"


T = TypeVar("T")


def per_version(conn: Connection, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``; on a store whose data versions never change once published (Spark: a database per
    version, ``store/spark.py``) computed once per version and session and then remembered, for answers that
    depend on the version alone (its label, the rollups' state, the data's date span, the filter values).
    Callers must not change what it returns."""
    if conn.dialect.name == "spark":
        from salesdash.store.spark import per_version as on_spark

        value: T = on_spark(conn, key, compute)
        return value
    return compute()


# engine -> the identity of the store its schema was last ensured in (see _store_identity)
_SCHEMA_READY: weakref.WeakKeyDictionary[Engine, Hashable] = weakref.WeakKeyDictionary()


def _store_identity(engine: Engine) -> Hashable | None:
    """What says the store is still the one whose schema was ensured: a database file's device and inode (a
    file deleted or replaced under the same path is a new store), the server otherwise; None when there is no
    file yet, or an in-memory database (each connection may be a database of its own: checked every time)."""
    database = engine.url.database
    if engine.dialect.name in ("sqlite", "duckdb"):
        if not database or database == ":memory:":
            return None
        try:
            stat = Path(database).stat()
        except OSError:
            return None
        return (stat.st_dev, stat.st_ino)
    return "server"


def ensure_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet (idempotent); drop derived tables of earlier versions.

    Once per engine and store: it runs before token lookups, saved views and stream batches, and its checks
    are several catalogue queries (on Spark, round trips to the cluster)."""
    identity = _store_identity(engine)
    if identity is not None and _SCHEMA_READY.get(engine) == identity:
        return
    _ensure_schema(engine)
    after = _store_identity(engine)  # a new file exists now
    if after is not None:
        _SCHEMA_READY[engine] = after


def _ensure_schema(engine: Engine) -> None:
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
        products_missing = has_schema(engine) and not inspect(engine).has_table(rollup_products.name)
        metadata.create_all(engine)
        _ensure_indexes(engine)
        if products_missing:  # a store built before agg_products: build it from the stored rollups once
            from salesdash.store.aggregates import fill_products

            with engine.begin() as conn:
                fill_products(conn)
        if any(inspect(engine).has_table(name) for name in OUTDATED_TABLES):
            with engine.begin() as conn:
                for name in OUTDATED_TABLES:
                    Table(name, MetaData()).drop(conn, checkfirst=True)
    except DBAPIError as exc:
        if (known := explain(exc, engine)) is not None:
            raise known from None
        if not isinstance(exc, OperationalError):
            raise
        raise StoreUnavailable(
            f"Cannot open the database at {engine.url!r}: {exc.orig}{_hint(engine, exc)}"
        ) from None


_INDEXED: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose tables were checked for their indexes


def _ensure_indexes(engine: Engine) -> None:
    """Indexes added to an existing table by a later version (create_all only creates missing tables, with
    their indexes). Checked once per engine: ensure_schema runs before every stream batch, and an inspection
    per table would be a round trip each on PostgreSQL."""
    if engine.dialect.name not in INDEXED_DIALECTS or engine in _INDEXED:
        return
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        if not table.indexes:
            continue
        have = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                try:
                    index.create(engine, checkfirst=True)
                except DBAPIError:  # another process or engine created it in between: it is there
                    if index.name not in {i["name"] for i in inspect(engine).get_indexes(table.name)}:
                        raise
    _INDEXED.add(engine)


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
    except DBAPIError as exc:
        if (known := explain(exc, engine)) is not None:
            raise known from None
        if isinstance(exc, OperationalError) and _is_busy(exc):
            raise StoreUnavailable(BUSY_MESSAGE, details=[{"problem": "database_locked"}]) from None
        raise StoreUnavailable(f"The database is unreachable: {exc.orig}") from None
    try:
        with conn.begin():
            yield conn
    except DBAPIError as exc:
        if (known := explain(exc, engine)) is not None:
            raise known from None
        if isinstance(exc, OperationalError) and _is_busy(exc):
            # SQLite's busy handler has retried for SQLITE_BUSY_TIMEOUT_MS already
            raise StoreUnavailable(BUSY_MESSAGE, details=[{"problem": "database_locked"}]) from None
        raise
    finally:
        conn.close()
