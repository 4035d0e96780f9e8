"""Atomic loads on Spark, without transactions: a new database per data version and one view switched to it.

A load, under the store's write lock (``store/lock.py``: a file lock on this host):

1. drops what no reader can be using: every version database except the current one and the one before it
   (a reader that began just before the last switch may still read that one); this also removes the
   half-written database of a load that was killed or failed;
2. creates ``<base>__v<N>`` (N one more than any existing), its tables, the data version history (copied from the
   current version), the order lines and the rollups (built by Spark SQL from the lines:
   ``store/aggregates.py``'s portable statements), then the new data version row;
3. switches ``<base>.salesdash_current`` to it: one ``CREATE OR REPLACE VIEW``, a single catalog operation, so a
   reader sees either the previous version or the new one, whole;
4. drops the versions older than the previous one.

A load killed at any point before step 3 leaves the previous version served; the next load removes its leftovers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, MetaData, func, insert, select

from salesdash.store.aggregates import rebuild_rollups
from salesdash.store.bulk import BATCH_ROWS, check_not_null, insert_lines, to_arrow
from salesdash.store.schema import api_tokens, data_versions, metadata, order_lines, saved_views
from salesdash.store.spark import CURRENT_VIEW, SparkConnection, cache_dir, check_database_name, location_of

Progress = Callable[[str, int, int], None]
# Writes lines into the (current) version database of the connection; returns how many.
LineWriter = Callable[[Connection], int]
STAGE_ROWS = BATCH_ROWS  # a frame of more lines than one Arrow batch is staged as a file (frame_writer)
VERSION_TABLES = tuple(t for t in metadata.sorted_tables if t not in (api_tokens, saved_views))


def _raw(conn: Connection) -> SparkConnection:
    raw = conn.connection.driver_connection
    assert isinstance(raw, SparkConnection)
    return raw


def _location(database: str, location: str | None) -> str:
    if not location:
        return ""
    path = f"{location.rstrip('/')}/{database}.db"
    return " LOCATION '" + path.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ensure_base(conn: Connection, location: str | None = None) -> None:
    """The base database and the tables that outlive data versions (API tokens, saved views)."""
    raw = _raw(conn)
    raw.run(f"CREATE DATABASE IF NOT EXISTS `{raw.base}`{_location(raw.base, location)}")
    api_tokens.create(conn, checkfirst=True)
    saved_views.create(conn, checkfirst=True)


def version_databases(conn: Connection) -> dict[int, str]:
    """{N: database name} of every version database of this store."""
    raw = _raw(conn)
    pattern = re.compile(rf"^{re.escape(raw.base)}__v(\d+)$", re.IGNORECASE)
    found = conn.exec_driver_sql("SHOW DATABASES").all()
    out: dict[int, str] = {}
    for (name,) in found:
        match = pattern.match(str(name))
        if match:
            out[int(match.group(1))] = str(name)
    return out


def _drop_except(conn: Connection, keep: set[str]) -> None:
    for name in version_databases(conn).values():
        if name not in keep:
            _raw(conn).run(f"DROP DATABASE IF EXISTS `{check_database_name(name)}` CASCADE")


def _keep_before_current(conn: Connection, current: str | None) -> set[str]:
    """The current version database and the newest one older than it."""
    if current is None:
        return set()
    versions = version_databases(conn)
    numbers = sorted(n for n, name in versions.items() if name == current)
    if not numbers:
        return {current}
    older = [n for n in versions if n < numbers[0]]
    return {current} | ({versions[max(older)]} if older else set())


def publish(conn: Connection, database: str) -> None:
    raw = _raw(conn)
    check_database_name(database)
    raw.run(f"CREATE OR REPLACE VIEW `{raw.base}`.`{CURRENT_VIEW}` AS SELECT '{database}' AS db_name")


def write_version(
    engine: Engine,
    write_lines: LineWriter,
    *,
    version: str,
    source: str,
    source_sha256: str,
    loaded_at: datetime,
    report: dict[str, Any] | Callable[[Connection], dict[str, Any]],
    progress: Progress | None = None,
) -> None:
    """Write a new data version (lines from ``write_lines``) and switch readers to it. Hold the write lock.

    ``report`` may be a function of the connection, called once the lines and rollups are written (the
    cluster ingest counts the report's figures from the stored lines)."""
    location = location_of(engine)
    with engine.connect().execution_options(salesdash_version_db=True) as conn:
        raw = _raw(conn)
        ensure_base(conn, location)
        current = raw.published()
        _drop_except(conn, _keep_before_current(conn, current))
        number = max(version_databases(conn), default=0) + 1
        database = check_database_name(f"{raw.base}__v{number}")
        raw.run(f"CREATE DATABASE `{database}`{_location(database, location)}")
        raw.use(database)
        metadata.create_all(conn, tables=list(VERSION_TABLES), checkfirst=False)
        if current is not None:
            previous = data_versions.to_metadata(MetaData(), schema=current)
            conn.execute(insert(data_versions).from_select(list(previous.c.keys()), select(previous)))
        rows = write_lines(conn)
        rebuild_rollups(conn, version, progress)
        if callable(report):
            report = report(conn)
        next_id = conn.execute(select(func.coalesce(func.max(data_versions.c.id), 0) + 1)).scalar_one()
        conn.execute(
            insert(data_versions).values(
                id=int(next_id),
                version=version,
                source=source,
                source_sha256=source_sha256,
                loaded_at=loaded_at,
                row_count=rows,
                report=json.dumps(report, default=str),
            )
        )
        publish(conn, database)
        _drop_except(conn, {database} | ({current} if current else set()))


def on_this_machine(remote: str) -> bool:
    """Whether the Spark Connect server of ``remote`` (sc://host:port) runs on this machine (a loopback host:
    the local cluster, whose executors read this machine's files)."""
    import ipaddress
    from urllib.parse import urlparse

    host = urlparse(remote.replace("sc://", "http://", 1)).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _staged_insert(conn: Connection, frame: pd.DataFrame, progress: Progress | None) -> int:
    """The lines written to a Parquet file in a temporary directory, which the cluster reads and appends
    (nothing held by the Connect server: a frame sent as Arrow batches is kept by it for the session)."""
    import tempfile

    import pyarrow.parquet as pq

    raw = _raw(conn)
    table = to_arrow(frame)
    check_not_null(order_lines, table)
    with tempfile.TemporaryDirectory(prefix="salesdash-stage-") as directory:
        path = Path(directory) / "order_lines.parquet"
        pq.write_table(table, path, row_group_size=STAGE_ROWS)
        del table
        lines = raw.session.read.parquet(path.as_uri())
        lines.select(*[f"`{c.name}`" for c in order_lines.columns]).write.insertInto(
            f"`{raw.database}`.`{order_lines.name}`"
        )
    if progress:
        progress("load", len(frame), len(frame))
    return len(frame)


def frame_writer(frame: pd.DataFrame, progress: Progress | None = None, *, stage: bool = False) -> LineWriter:
    """Lines from a cleaned frame (the small-file path and confirmed uploads): sent to the cluster as Arrow
    batches; with ``stage`` (the cluster reads this machine's files), a frame of more than STAGE_ROWS lines is
    staged as a Parquet file the cluster reads instead."""

    def write(conn: Connection) -> int:
        if progress:
            progress("load", 0, len(frame))
        if stage and len(frame) > STAGE_ROWS:
            return _staged_insert(conn, frame, progress)
        return insert_lines(conn, frame, progress)

    return write


def ensure_empty_version(engine: Engine) -> None:
    """Before the first load: an empty version 0 (so readers find the tables, and no data)."""
    from salesdash.errors import RefreshInProgress
    from salesdash.store.lock import write_lock

    location = location_of(engine)
    with engine.connect().execution_options(salesdash_version_db=True) as conn:
        raw = _raw(conn)
        ensure_base(conn, location)
        if raw.published() is not None:
            return
    try:
        with write_lock(engine, purpose="schema"), engine.connect() as conn:
            conn = conn.execution_options(salesdash_version_db=True)
            raw = _raw(conn)
            if raw.published() is not None:
                return
            database = check_database_name(f"{raw.base}__v0")
            raw.run(f"DROP DATABASE IF EXISTS `{database}` CASCADE")
            raw.run(f"CREATE DATABASE `{database}`{_location(database, location)}")
            raw.use(database)
            metadata.create_all(conn, tables=list(VERSION_TABLES), checkfirst=False)
            publish(conn, database)
    except RefreshInProgress:
        return  # a load is running: it publishes the first version


def lock_file(remote: str, base: str) -> Path:
    """The write lock of a store on Spark (this host's loaders share it): under the user's cache directory."""
    key = hashlib.sha256(f"{remote}\n{base}".encode()).hexdigest()[:16]
    return cache_dir() / "locks" / f"spark-{key}.lock"


__all__ = [
    "ensure_base",
    "ensure_empty_version",
    "frame_writer",
    "lock_file",
    "on_this_machine",
    "publish",
    "version_databases",
    "write_version",
]
