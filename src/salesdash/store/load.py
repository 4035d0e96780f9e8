"""Atomic loading: the new data, its data version and its quality report become visible together.

All writes happen in one transaction (delete the old rows, insert the new ones, record the version), except a
chunked load into DuckDB, which stages the lines in committed steps and switches in one short transaction.
A failed or interrupted load rolls back and leaves the previous data exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from salesdash.store.aggregates import rebuild_rollups
from salesdash.store.archive import DEFAULT_KEEP_VERSIONS, archive_lines, copy_lines, prune_archive
from salesdash.store.bulk import insert_lines
from salesdash.store.engine import ensure_schema, per_version
from salesdash.store.lock import write_lock
from salesdash.store.schema import ORDER_LINE_COLUMNS, data_versions, order_lines, staged_lines

Progress = Callable[[str, int, int], None]
BATCH_ROWS = 50_000
# DuckDB during a chunked load: its buffer pool is capped (past it, it spills to ``<database>.tmp``) and it may
# reorder rows within a statement (no order is promised without ORDER BY anyway), so that the load's memory does
# not grow with the file; RESET gives DuckDB's defaults back (80% of RAM, insertion order kept) when it ends.
DUCKDB_LOAD_SETTINGS = ("SET memory_limit = '4GB'", "SET preserve_insertion_order = false")
DUCKDB_LOAD_RESET = ("RESET memory_limit", "RESET preserve_insertion_order")
# the staged lines become order_lines (fixed text: the names of staged_lines and order_lines, checked at import)
SWITCH_STAGED = "ALTER TABLE order_lines_staged RENAME TO order_lines"
assert SWITCH_STAGED.split()[2::3] == [staged_lines.name, order_lines.name]


@dataclass(frozen=True)
class DataVersion:
    id: int
    version: str
    source: str
    source_sha256: str
    loaded_at: datetime
    row_count: int
    report: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "row_count": self.row_count,
        }


def _records(frame: pd.DataFrame, start: int, stop: int) -> list[dict[str, Any]]:
    chunk = frame.iloc[start:stop]
    out: list[dict[str, Any]] = chunk.astype(object).where(chunk.notna(), None).to_dict("records")
    return out


def _insert_rows(conn: Connection, frame: pd.DataFrame, progress: Progress | None) -> None:
    total = len(frame)
    if progress:  # the load stage has begun (the old rows are already deleted in this transaction)
        progress("load", 0, total)
    for start in range(0, total, BATCH_ROWS):
        stop = min(start + BATCH_ROWS, total)
        conn.execute(insert(order_lines), _records(frame, start, stop))
        if progress:
            progress("load", stop, total)


def replace_data(
    engine: Engine,
    frame: pd.DataFrame,
    *,
    version: str,
    source: str,
    source_sha256: str,
    loaded_at: datetime,
    report: dict[str, Any],
    progress: Progress | None = None,
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
) -> DataVersion:
    """Replace all order lines with ``frame`` (columns = ORDER_LINE_COLUMNS) in one transaction.

    Holds the database's write lock (``store.lock``): a concurrent load gets RefreshInProgress at once.
    On Spark (no transactions) the load writes a new version database and switches to it (``spark_load``)."""
    if engine.dialect.name == "spark":
        from salesdash.store.spark import remote_of
        from salesdash.store.spark_load import frame_writer, on_this_machine, write_version

        with write_lock(engine):
            write_version(
                engine,
                frame_writer(
                    frame.loc[:, list(ORDER_LINE_COLUMNS)], progress, stage=on_this_machine(remote_of(engine))
                ),
                version=version,
                source=source,
                source_sha256=source_sha256,
                loaded_at=loaded_at,
                report=report,
                progress=progress,
            )
            current = current_version(engine)
        assert current is not None
        return current
    with write_lock(engine):
        ensure_schema(engine)
        frame = frame.loc[:, list(ORDER_LINE_COLUMNS)]
        with engine.begin() as conn:
            drop_leftover_stage(conn)
            conn.execute(delete(order_lines))
            if progress:  # the load stage has begun (the old rows are already deleted in this transaction)
                progress("load", 0, len(frame))
            insert_lines(conn, frame, progress)
            rebuild_rollups(conn, version, progress, frame=frame)
            done = Finished(version=version, source_sha256=source_sha256, report=report)
            _record(conn, done, source=source, loaded_at=loaded_at, rows=len(frame))
            archive_lines(conn, version, keep_versions)  # this version stays restorable
        current = current_version(engine)
    assert current is not None
    return current


@contextlib.contextmanager
def _load_settings(engine: Engine) -> Iterator[Connection]:
    """A connection for one load; on DuckDB with DUCKDB_LOAD_SETTINGS from before its first statement to after
    its last commit (or rollback), then DuckDB's defaults again."""
    with engine.connect() as conn:
        duckdb = conn.dialect.name == "duckdb"
        if duckdb:
            for statement in DUCKDB_LOAD_SETTINGS:
                conn.exec_driver_sql(statement)
            conn.commit()
        try:
            yield conn
        finally:
            if duckdb:
                conn.rollback()  # nothing of the load is left open (a no-op after its commit)
                for statement in DUCKDB_LOAD_RESET:
                    conn.exec_driver_sql(statement)
                conn.commit()


@dataclass(frozen=True)
class Finished:
    """What a chunked load learns only once every chunk is read: its data version, the file's sha256, the report."""

    version: str
    source_sha256: str
    report: dict[str, Any]


def _record(conn: Connection, done: Finished, *, source: str, loaded_at: datetime, rows: int) -> None:
    conn.execute(
        insert(data_versions).values(
            version=done.version,
            source=source,
            source_sha256=done.source_sha256,
            loaded_at=loaded_at,
            row_count=rows,
            report=json.dumps(done.report, default=str),
        )
    )


def replace_data_chunks(
    engine: Engine,
    chunks: Iterable[pd.DataFrame],
    finish: Callable[[], Finished],
    *,
    source: str,
    loaded_at: datetime,
    progress: Progress | None = None,
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
) -> DataVersion:
    """Replace all order lines with the lines of ``chunks`` (frames with ORDER_LINE_COLUMNS), holding one chunk
    in memory at a time; the rollups are built with SQL from the loaded lines.

    ``finish`` runs after the last chunk: it names the version or raises (a validation failure), and then
    nothing is published: the previous data stays as it was. SQLite and PostgreSQL write everything in one
    transaction. DuckDB keeps a transaction's changes in memory until it commits (about 0.1 GB per million
    lines), so there the lines go into ``staged_lines`` a committed chunk at a time (and into the archive, when
    versions are kept) and one short transaction switches: order_lines dropped, the staged table renamed to
    it, the rollups built, the version recorded (:func:`_staged`). Not for Spark (no transactions)."""
    if engine.dialect.name == "spark":
        raise NotImplementedError("chunked loads need transactions: Spark loads a whole frame (replace_data)")
    with write_lock(engine):
        ensure_schema(engine)
        with _load_settings(engine) as conn:
            if conn.dialect.name == "duckdb":
                _staged(
                    conn,
                    chunks,
                    finish,
                    source=source,
                    loaded_at=loaded_at,
                    progress=progress,
                    keep=keep_versions,
                )
            else:
                with conn.begin():
                    conn.execute(delete(order_lines))
                    rows = 0
                    for frame in chunks:
                        rows += insert_lines(conn, frame.loc[:, list(ORDER_LINE_COLUMNS)])
                    done = finish()
                    rebuild_rollups(conn, done.version, progress)
                    _record(conn, done, source=source, loaded_at=loaded_at, rows=rows)
                    archive_lines(conn, done.version, keep_versions)
        current = current_version(engine)
    assert current is not None
    return current


def _staged(
    conn: Connection,
    chunks: Iterable[pd.DataFrame],
    finish: Callable[[], Finished],
    *,
    source: str,
    loaded_at: datetime,
    progress: Progress | None,
    keep: int,
) -> None:
    """The DuckDB load of :func:`replace_data_chunks`. Readers see the previous data until the switch commits;
    a failure drops what the load wrote, and a killed load's leftovers (the staged table; an archive copy under a
    version never recorded) are dropped by the next load (here, and by ``prune_archive``)."""
    staged_lines.drop(conn, checkfirst=True)
    staged_lines.create(conn)
    conn.commit()
    try:
        rows = 0
        for frame in chunks:
            rows += insert_lines(conn, frame.loc[:, list(ORDER_LINE_COLUMNS)], target=staged_lines)
            conn.commit()
        done = finish()
        if keep > 0:
            copy_lines(conn, done.version, staged_lines)
            conn.commit()
        with conn.begin():
            order_lines.drop(conn)
            conn.exec_driver_sql(SWITCH_STAGED)
            rebuild_rollups(conn, done.version, progress)
            _record(conn, done, source=source, loaded_at=loaded_at, rows=rows)
            prune_archive(conn, keep)
    except BaseException:
        conn.rollback()
        with contextlib.suppress(SQLAlchemyError):  # the error that stopped the load is the one to report
            staged_lines.drop(conn, checkfirst=True)
            prune_archive(conn, keep)  # a copy of this load's lines (its version is not recorded)
            conn.commit()
        raise


def drop_leftover_stage(conn: Connection) -> None:
    """Drop the staged lines a killed chunked DuckDB load left behind (``_staged``), in every write that holds
    the write lock (a replace, an append, a restore), so the disk they take is given back by the next write."""
    if conn.dialect.name == "duckdb":
        staged_lines.drop(conn, checkfirst=True)


def _row_to_version(row: Any) -> DataVersion:
    return DataVersion(
        id=row.id,
        version=row.version,
        source=row.source,
        source_sha256=row.source_sha256,
        loaded_at=row.loaded_at,
        row_count=row.row_count,
        report=json.loads(row.report),
    )


def current_version_in(conn: Connection) -> DataVersion | None:
    """The data version visible to ``conn`` (call it inside the same snapshot as the data queries)."""
    row = conn.execute(select(data_versions).order_by(data_versions.c.id.desc()).limit(1)).first()
    return _row_to_version(row) if row else None


def current_version_label_in(conn: Connection) -> str | None:
    """Only the name of the data version visible to ``conn`` (one indexed lookup; no report; on Spark once per
    published version and session: ``engine.per_version``)."""
    return per_version(conn, "version_label", lambda: _version_label(conn))


def _version_label(conn: Connection) -> str | None:
    value = conn.execute(
        select(data_versions.c.version).order_by(data_versions.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def current_version_label(engine: Engine) -> str | None:
    """The name of the current data version, cheaply (for cache keys and polling); None when no data.

    Assumes the schema exists (``ensure_schema``); raises the driver's error otherwise.
    """
    with engine.connect() as conn:
        return current_version_label_in(conn)


def current_version(engine: Engine) -> DataVersion | None:
    from salesdash.store.engine import has_schema, snapshot

    if not has_schema(engine):
        return None
    with snapshot(engine) as conn:
        return current_version_in(conn)


def version_history(engine: Engine, limit: int = 50) -> list[DataVersion]:
    from salesdash.store.engine import has_schema, snapshot

    if not has_schema(engine):
        return []
    with snapshot(engine) as conn:
        rows = conn.execute(select(data_versions).order_by(data_versions.c.id.desc()).limit(limit)).all()
    return [_row_to_version(r) for r in rows]
