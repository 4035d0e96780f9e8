"""Apache Spark (through Spark Connect) as a store: a small SQLAlchemy dialect and a DB-API shim.

The metric layer's SQLAlchemy Core statements are compiled by :class:`SparkDialect` to Spark SQL text with named
parameter markers (``:name``) and run with ``spark.sql(text, args=...)``: values are always bound, never inlined.
Only integer LIMIT/OFFSET counts (from code, never from a request string) are written into the text.

Spark has no transactions, so a store on Spark keeps every data version in its own Spark database
(``<base>__v<N>``) and a one-row view ``<base>.salesdash_current`` names the one readers use
(``store/spark_load.py`` writes a version and switches the view in one catalog operation). At the start of each
SQLAlchemy transaction the connection reads that view and makes the version's database the session's current
database, so every unqualified table of ``store/schema.py`` is read from one version for the whole transaction
(a snapshot): a load that finishes meanwhile is seen by the next transaction, never halfway. Tables that are not
data (``api_tokens``) live in the base database.

Engine differences stay here: ``DELETE`` without a condition becomes ``TRUNCATE TABLE``; temporary tables are
plain tables in the (private, still unpublished) version database; constraints and sequences are not rendered
(salesdash writes its ids itself); tables are Parquet.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL, default, make_url
from sqlalchemy.sql import compiler

CURRENT_VIEW = "salesdash_current"
BASE_TABLES = frozenset({"api_tokens", "saved_views"})  # kept in the base database, across data versions
DEFAULT_DATABASE = "salesdash"
DEFAULT_INGEST_BYTES = (
    32 << 20
)  # files from this size are ingested by the cluster (SALESDASH_SPARK_INGEST_BYTES)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
_ROW_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "VALUES", "(")
# every statement with its time at DEBUG (SALESDASH_LOG_LEVEL=DEBUG): where a request's time goes
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """salesdash's per-user cache directory (the local Spark cluster's run directory and the write locks)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "salesdash"


def is_spark_url(url: str) -> bool:
    return url.startswith("sc://")


def split_url(url: str) -> tuple[str, str | None]:
    """``sc://host:port/;a=b;salesdash_database=name`` -> (the Connect URL without that parameter, name).

    The parameter lets one URL name the base database (the tests give each store its own); otherwise the
    SALESDASH_SPARK_DATABASE setting does."""
    head, sep, params = url.partition("/;")
    if not sep:
        return url, None
    kept, database = [], None
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key == "salesdash_database":
            database = check_database_name(value)
        elif part:
            kept.append(part)
    return (head + "/;" + ";".join(kept)) if kept else head, database


def check_database_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"not a Spark database name (letters, digits, underscore): {name!r}")
    return name


def sqlalchemy_url(url: str, database: str = DEFAULT_DATABASE, location: str | None = None) -> URL:
    """The SQLAlchemy URL for a Spark Connect URL ``sc://host:port[/;params]``, a base database and where the
    cluster creates the databases (None: its warehouse directory)."""
    check_database_name(database)
    query = {"remote": url, "database": database} | ({"location": location} if location else {})
    return URL.create("spark+connect", query=query)


# -- DB-API 2.0 shim over a Spark Connect session -----------------------------------------------------------


class Warning(Exception):
    pass


class Error(Exception):
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class OperationalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class DataError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


def _translate(exc: Exception) -> Error:
    """A pyspark error as the DB-API error SQLAlchemy expects (unreachable server: OperationalError)."""
    from pyspark.errors import AnalysisException, PySparkException

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, AnalysisException):
        return ProgrammingError(text)
    name = type(exc).__name__
    if "Grpc" in name or "Unavailable" in text or "Connection" in name or "RetriesExceeded" in name:
        return OperationalError(text)
    if isinstance(exc, PySparkException):
        return DatabaseError(text)
    return OperationalError(text)


def _query(session: Any, text: str, args: Mapping[str, Any] | None) -> Any:
    """The DataFrame of a query with bound named parameters, not yet executed. ``session.sql`` would run the
    text as a command first and return a reference to its result, which ``toArrow`` then fetches: two round
    trips to the Connect server per query instead of this one (a query's plan sent once with its rows asked
    for). The parameters are bound as ``session.sql`` binds them (``lit`` values)."""
    from pyspark.sql.connect import functions
    from pyspark.sql.connect.dataframe import DataFrame
    from pyspark.sql.connect.plan import SQL

    named = {key: functions.lit(value) for key, value in (args or {}).items()}
    return DataFrame(SQL(text, [], named, []), session)


class Cursor:
    arraysize = 1000

    def __init__(self, connection: SparkConnection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self._rows: Iterator[tuple[Any, ...]] = iter(())
        self.lastrowid = None

    def execute(self, operation: str, parameters: Mapping[str, Any] | None = None) -> None:
        session = self.connection.session
        args = dict(parameters) if parameters else None
        started = time.perf_counter()
        try:
            rows = operation.lstrip().upper().startswith(_ROW_STATEMENTS)
            if rows:  # one round trip: the query's plan, executed as its rows are fetched
                table = _query(session, operation, args).toArrow()
            else:  # a command runs at once (Spark Connect executes commands eagerly)
                session.sql(operation, args=args)
                table = None
        except Error:
            raise
        except Exception as exc:
            raise _translate(exc) from exc
        finally:
            self.connection.statements += 1
            if log.isEnabledFor(logging.DEBUG):
                elapsed = 1000 * (time.perf_counter() - started)
                log.debug("spark %.0f ms: %s", elapsed, " ".join(operation.split())[:300])
        if table is None:
            self.description = None
            self._rows = iter(())
            self.rowcount = -1
            return
        self.description = [(name, None, None, None, None, None, True) for name in table.column_names]
        columns = [column.to_pylist() for column in table.columns]
        self.rowcount = table.num_rows
        self._rows = iter(
            list(zip(*columns, strict=True)) if columns else [() for _ in range(table.num_rows)]
        )

    def executemany(self, operation: str, seq_of_parameters: Sequence[Mapping[str, Any]]) -> None:
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self._rows, None)

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        out = []
        for _ in range(size or self.arraysize):
            row = next(self._rows, None)
            if row is None:
                break
            out.append(row)
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def close(self) -> None:
        self._rows = iter(())

    def setinputsizes(self, *_: Any) -> None:
        pass

    def setoutputsize(self, *_: Any) -> None:
        pass


class SparkConnection:
    """One Spark Connect session; ``database`` is the session's current database (a data version)."""

    def __init__(self, remote: str, database: str) -> None:
        import logging

        from pyspark.sql import SparkSession

        # pyspark logs every analysis error of the server to stderr; salesdash reports errors itself
        logging.getLogger("SQLQueryContextLogger").disabled = True
        self.base = check_database_name(database)
        self.remote = remote
        try:
            self.session = SparkSession.builder.remote(remote).create()
            self.session.conf.set("spark.sql.session.timeZone", "UTC")
        except Exception as exc:
            raise _translate(exc) from exc
        with _open_guard:
            _open.add(self)
        self.database: str | None = None
        self.reading: str | None = None  # the published version this transaction reads (follow_current)
        self.statements = 0  # statements run on this session (measurements, tests)
        # answers that depend only on a published version's database, which no one writes after it is
        # published (e.g. its data version label): (database, key) -> value, for this session's life
        self.memo: dict[tuple[str, Hashable], Any] = {}

    def cursor(self) -> Cursor:
        return Cursor(self)

    def commit(self) -> None:
        pass  # no transactions: a load publishes its version by switching the view (spark_load.py)

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        import contextlib

        with _open_guard:
            _open.discard(self)
        with contextlib.suppress(Exception):
            self.session.stop()

    def run(self, statement: str) -> None:
        Cursor(self).execute(statement)

    def use(self, database: str) -> None:
        """Make ``database`` the current database of this session (unqualified tables resolve to it)."""
        check_database_name(database)
        self.reading = None
        if database != self.database:
            self.run(f"USE `{database}`")
            self.database = database

    def published(self) -> str | None:
        """The database of the current data version (read from the base database's view), None before any."""
        cursor = Cursor(self)
        try:
            cursor.execute(f"SELECT db_name FROM `{self.base}`.`{CURRENT_VIEW}`")  # noqa: S608  # nosec B608 -- checked names
        except ProgrammingError:
            return None
        row = cursor.fetchone()
        return None if row is None else str(row[0])

    def follow_current(self) -> None:
        """Point the session at the current data version (at the start of every transaction)."""
        database = self.published()
        if database is not None:
            self.use(database)
        self.reading = database

    def per_version(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per published version for this session (a value that cannot change while that
        version's database exists: nothing writes a version after it is published); computed every time
        when this transaction is not reading a published version (a load writing its own)."""
        database = self.reading
        if database is None or database != self.database:
            return compute()
        if (database, key) not in self.memo:
            if any(seen != database for seen, _ in self.memo):
                self.memo.clear()  # the answers of one version at a time (the filter values may be large)
            self.memo[(database, key)] = compute()
        return self.memo[(database, key)]


# Every session still open is stopped before the interpreter exits: a Spark Connect session left to the garbage
# collector at exit closes its gRPC channel after gRPC's own threads are gone and waits forever (an ingest
# that had finished its work never exited).
_open: weakref.WeakSet[SparkConnection] = weakref.WeakSet()
_open_guard = threading.Lock()


@atexit.register
def _close_all() -> None:
    with _open_guard:
        still = list(_open)
    for connection in still:
        connection.close()


# DB-API module attributes (SQLAlchemy reads them from the object import_dbapi returns)
apilevel = "2.0"
threadsafety = 1
paramstyle = "named"


def connect(remote: str, database: str = DEFAULT_DATABASE) -> SparkConnection:
    return SparkConnection(remote, database)


# -- SQLAlchemy dialect ---------------------------------------------------------------------------------------


def _base(dialect: Any) -> str:
    return str(dialect.base_database)


class SparkTypeCompiler(compiler.GenericTypeCompiler):
    def visit_string(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_CHAR(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_TEXT(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_unicode(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_unicode_text(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP_NTZ"

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP_NTZ"

    def visit_INTEGER(self, type_: Any, **kw: Any) -> str:
        return "INT"


class SparkIdentifierPreparer(compiler.IdentifierPreparer):
    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect, initial_quote="`", escape_quote="`")

    def _requires_quotes(self, value: str) -> bool:
        return True  # year, month, day, ... are keywords in Spark SQL: quote every identifier


class SparkCompiler(compiler.SQLCompiler):
    def limit_clause(self, select: Any, **kw: Any) -> str:
        # integer counts (ints from the code), rendered at execution ("post-compile": the cached statement
        # keeps the marker, each execution gets its own number): Spark wants constants here
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, literal_execute=True, **kw)
        if select._offset_clause is not None:
            text += " OFFSET " + self.process(select._offset_clause, literal_execute=True, **kw)
        return text

    def visit_delete(self, delete_stmt: Any, **kw: Any) -> str:  # type: ignore[override]
        if delete_stmt.whereclause is not None:
            raise NotSupportedError("the Spark store deletes whole tables only (versions are new databases)")
        return "TRUNCATE TABLE " + self.preparer.format_table(delete_stmt.table)

    def visit_table(self, table: Any, asfrom: bool = False, **kw: Any) -> str:  # type: ignore[override]
        if table.schema is None and table.name in BASE_TABLES and (asfrom or kw.get("iscrud")):
            base = _base(self.dialect)
            return f"{self.preparer.quote_schema(base)}.{self.preparer.quote(table.name)}"
        return str(super().visit_table(table, asfrom=asfrom, **kw))

    def visit_insert(self, insert_stmt: Any, **kw: Any) -> str:  # type: ignore[override]
        text = str(super().visit_insert(insert_stmt, **kw))
        table = insert_stmt.table
        if table.schema is None and table.name in BASE_TABLES:
            plain = "INSERT INTO " + self.preparer.format_table(table)
            base = _base(self.dialect)
            qualified = f"INSERT INTO {self.preparer.quote_schema(base)}.{self.preparer.quote(table.name)}"
            text = text.replace(plain, qualified, 1)
        return text


class SparkDDLCompiler(compiler.DDLCompiler):
    def visit_create_table(self, create: Any, **kw: Any) -> str:
        text = str(super().visit_create_table(create, **kw))
        text = text.replace("CREATE TEMPORARY TABLE", "CREATE TABLE", 1)  # the version database is private
        table = create.element
        if table.schema is None and table.name in BASE_TABLES:
            plain = "CREATE TABLE " + self.preparer.format_table(table)
            base = _base(self.dialect)
            text = text.replace(
                plain, f"CREATE TABLE {self.preparer.quote_schema(base)}.{self.preparer.quote(table.name)}", 1
            )
        return text

    def create_table_constraints(self, table: Any, **kw: Any) -> str:  # type: ignore[override]
        return ""  # Spark tables carry no keys or unique constraints

    def post_create_table(self, table: Any) -> str:
        return " USING parquet"

    def get_column_specification(self, column: Any, **kw: Any) -> str:
        spec = (
            self.preparer.format_column(column)
            + " "
            + self.dialect.type_compiler_instance.process(column.type)
        )
        if not column.nullable and not column.primary_key:
            spec += " NOT NULL"
        return spec

    def visit_drop_table(self, drop: Any, **kw: Any) -> str:
        return "DROP TABLE IF EXISTS " + self.preparer.format_table(drop.element)


class SparkDialect(default.DefaultDialect):
    name = "spark"
    driver = "connect"
    supports_statement_cache = True
    supports_native_boolean = True
    supports_native_decimal = True
    supports_sequences = False
    supports_alter = False
    supports_comments = False
    supports_default_values = False
    supports_empty_insert = False
    supports_multivalues_insert = True
    use_insertmanyvalues = True
    use_insertmanyvalues_wo_returning = True
    insertmanyvalues_max_parameters = 2000
    insert_returning = False
    update_returning = False
    delete_returning = False
    postfetch_lastrowid = False
    supports_is_distinct_from = True
    default_paramstyle = "named"
    statement_compiler = SparkCompiler
    ddl_compiler = SparkDDLCompiler
    type_compiler_cls = SparkTypeCompiler
    preparer = SparkIdentifierPreparer  # type: ignore[assignment]

    def __init__(self, base_database: str = DEFAULT_DATABASE, **kw: Any) -> None:
        super().__init__(**kw)
        self.base_database = check_database_name(base_database)

    @classmethod
    def import_dbapi(cls) -> Any:
        import salesdash.store.spark as module

        return module

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        remote = str(url.query["remote"])
        return [], {"remote": remote, "database": str(url.query.get("database", DEFAULT_DATABASE))}

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        return SparkConnection(cparams["remote"], cparams["database"])

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        return ()

    def _get_default_schema_name(self, connection: Any) -> str:
        return self.base_database

    def get_isolation_level(self, dbapi_connection: Any) -> Any:
        return "AUTOCOMMIT"

    def get_default_isolation_level(self, dbapi_conn: Any) -> Any:
        return "AUTOCOMMIT"

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        pass

    def do_begin(self, dbapi_connection: Any) -> None:
        pass

    def do_commit(self, dbapi_connection: Any) -> None:
        pass

    def do_rollback(self, dbapi_connection: Any) -> None:
        pass

    def do_ping(self, dbapi_connection: Any) -> bool:
        Cursor(dbapi_connection).execute("SELECT 1")
        return True

    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        raw: SparkConnection = connection.connection.driver_connection
        if raw.database is None:
            raw.follow_current()
        database = schema or (self.base_database if table_name in BASE_TABLES else raw.database)
        if database is None:
            return False
        check_database_name(database)
        cursor = Cursor(raw)
        try:
            cursor.execute(f"SHOW TABLES IN `{database}` LIKE :name", {"name": table_name})
        except ProgrammingError:
            return False  # no such database
        return any(str(row[1]) == table_name for row in cursor.fetchall())

    def has_schema(self, connection: Any, schema_name: str, **kw: Any) -> bool:
        return schema_name in self.get_schema_names(connection)

    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        cursor = Cursor(connection.connection.driver_connection)
        cursor.execute("SHOW DATABASES")
        return [str(row[0]) for row in cursor.fetchall()]

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        raw: SparkConnection = connection.connection.driver_connection
        database = schema or raw.database or self.base_database
        check_database_name(database)
        cursor = Cursor(raw)
        cursor.execute(f"SHOW TABLES IN `{database}`")
        return [str(row[1]) for row in cursor.fetchall() if not row[2]]

    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    def get_columns(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> list[Any]:
        raise NotImplementedError("reflection is not needed by salesdash")

    def get_pk_constraint(
        self, connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> Any:
        return {"constrained_columns": [], "name": None}

    def get_foreign_keys(self, *args: Any, **kw: Any) -> list[Any]:
        return []

    def get_indexes(self, *args: Any, **kw: Any) -> list[Any]:
        return []


def _begin(conn: Connection) -> None:
    raw = conn.connection.driver_connection
    if isinstance(raw, SparkConnection) and not conn.get_execution_options().get("salesdash_version_db"):
        raw.follow_current()


def per_version(conn: Connection, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()``, remembered per published data version on a Spark connection (see
    :meth:`SparkConnection.per_version`); on any other connection just ``compute()``."""
    raw = conn.connection.driver_connection
    if isinstance(raw, SparkConnection) and not conn.get_execution_options().get("salesdash_version_db"):
        return raw.per_version(key, compute)
    return compute()


def make_spark_engine(
    url: str,
    database: str = DEFAULT_DATABASE,
    location: str | None = None,
    ingest_bytes: int | None = None,
    shared_files: str | None = None,
) -> Engine:
    """An engine on the Spark Connect endpoint ``url`` (sc://host:port) keeping its tables under ``database``;
    ``ingest_bytes`` and ``shared_files``: when a file is ingested on the cluster (``ingest/spark.py``)."""
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import registry

    url, named = split_url(url)
    database = named or database
    registry.register("spark.connect", "salesdash.store.spark", "SparkDialect")
    target = sqlalchemy_url(url, database, location)
    options = {"ingest_bytes": ingest_bytes, "shared_files": shared_files}
    target = target.update_query_dict({k: str(v) for k, v in options.items() if v is not None})
    engine = create_engine(
        target,
        base_database=database,
        pool_size=4,
        max_overflow=8,
        pool_use_lifo=True,  # the most recent session first: its per-version answers are remembered
    )
    event.listen(engine, "begin", _begin)
    return engine


def spark_database_of(engine: Engine) -> str:
    return str(engine.url.query.get("database", DEFAULT_DATABASE))


def location_of(engine: Engine) -> str | None:
    value = engine.url.query.get("location")
    return None if value is None else str(value)


def ingest_options_of(engine: Engine) -> tuple[int, str]:
    """(the size from which a file is ingested on the cluster, whether the cluster reads this machine's
    files: "auto", "yes" or "no") of an engine from :func:`make_spark_engine`."""
    query = engine.url.query
    return int(str(query.get("ingest_bytes", DEFAULT_INGEST_BYTES))), str(query.get("shared_files", "auto"))


def remote_of(engine: Engine) -> str:
    return str(make_url(engine.url).query["remote"])


__all__ = [
    "BASE_TABLES",
    "CURRENT_VIEW",
    "DEFAULT_DATABASE",
    "SparkConnection",
    "SparkDialect",
    "cache_dir",
    "check_database_name",
    "ingest_options_of",
    "is_spark_url",
    "location_of",
    "make_spark_engine",
    "per_version",
    "remote_of",
    "spark_database_of",
    "sqlalchemy_url",
]
