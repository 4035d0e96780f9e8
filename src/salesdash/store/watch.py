"""The current data version, looked up again only when the store may have changed since the last lookup.

Every API request names the data version it answers from (the cache key, ``X-Data-Version``, the ETag), so the
lookup is on every request's path. On a SQLite file, ``PRAGMA data_version`` on one connection of its own tells,
in microseconds, whether any other connection (this process's pool, an ``ingest`` in another process, a stream
consumer) has committed since it last asked; only then is the version read again. The file's identity (device,
inode, size, modification time) is part of the check, so a file replaced under the same path is noticed too.
A DuckDB file is open in one process at a time, so while this process has it open every write to it is this
process's own, and each goes through the write lock (``store.lock.writes_finished`` counts them: a load, a stream
batch, a restore, an append); another process can write it only while this one has let go of it, and closing it
rewrites the file. So on DuckDB the token is that count plus the identity of the file and of its write-ahead log:
the version is read again after any write here or any change to the file.
PostgreSQL has no such counter: there every call is the one indexed lookup of ``current_version_label``.

On Spark every lookup is a round trip to the cluster (tens of milliseconds at best), so it is made again only when
this process has finished a write since the last one (``store.lock.writes_finished``: an API refresh, upload or
restore is seen by the very next request) or when the last lookup is older than ``REMOTE_RECHECK_SECONDS`` (a
load by another process, e.g. ``salesdash ingest``, is seen within that time). What a request computes is always
read from one version in its own snapshot and labelled with it (``api/respond.py``); only a cached answer can be
the previous version's for up to that time after another process's load.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

from salesdash.store.load import current_version_label
from salesdash.store.lock import writes_finished

Token = tuple[Any, ...]
REMOTE_RECHECK_SECONDS = 1.0  # Spark: how old the last lookup may be (loads by other processes)


class VersionWatch:
    """``label()`` = ``current_version_label(engine)``, cheaply when the engine can tell nothing changed."""

    def __init__(self, engine: Engine, recheck_seconds: float = REMOTE_RECHECK_SECONDS) -> None:
        self.engine = engine
        self.recheck_seconds = recheck_seconds  # Spark only (see the module docstring)
        self._lock = threading.Lock()
        self._path = _sqlite_file(engine)
        self._duckdb_path = _duckdb_file(engine)
        self._probe: sqlite3.Connection | None = None
        self._seen: tuple[Token, str | None] | None = None
        self._remote = engine.dialect.name == "spark"
        if self._path is not None:
            # the probe closes with the engine's own connections (a caller that disposes the engine expects
            # the file to be free, e.g. for an exclusive lock); the next call opens it again
            event.listen(engine, "engine_disposed", self._close)

    def label(self) -> str | None:
        if self._remote:
            return self._remote_label()
        token = self._token()
        if token is None:
            return current_version_label(self.engine)
        with self._lock:
            seen = self._seen
        if seen is not None and seen[0] == token:
            return seen[1]
        # The token is read BEFORE the lookup: a commit in between makes the next token differ, so the worst
        # case is one lookup too many, never a stale version.
        label = current_version_label(self.engine)
        with self._lock:
            self._seen = (token, label)
        return label

    def _remote_label(self) -> str | None:
        # The token (writes finished here, the time) is taken BEFORE the lookup, as for SQLite: a write that
        # ends meanwhile changes the next token.
        now = time.monotonic()
        writes = writes_finished()
        with self._lock:
            seen = self._seen
        if seen is not None and seen[0][0] == writes and now - seen[0][1] < self.recheck_seconds:
            return seen[1]
        label = current_version_label(self.engine)
        with self._lock:
            self._seen = ((writes, now), label)
        return label

    def _close(self, _engine: Engine | None = None) -> None:
        with self._lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None
            self._seen = None

    def _token(self) -> Token | None:
        if self._duckdb_path is not None:
            return _duckdb_token(self._duckdb_path)
        if self._path is None:
            return None
        try:
            stat = os.stat(self._path)
        except OSError:
            return None  # no file (yet): the lookup says what there is
        with self._lock:
            try:
                if self._probe is None:
                    uri = f"file:{self._path}?mode=ro"
                    self._probe = sqlite3.connect(
                        uri, uri=True, check_same_thread=False, isolation_level=None
                    )
                (counter,) = self._probe.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                if self._probe is not None:
                    self._probe.close()
                self._probe = None
                return None
        return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, counter)


def _duckdb_token(path: str) -> Token | None:
    """This process's finished writes, then the file's and its WAL's identity (see the module docstring)."""
    # first: a write that ends while the files are looked at changes the next token
    writes = writes_finished()
    try:
        stat = os.stat(path)
    except OSError:
        return None  # no file (yet): the lookup says what there is
    try:
        wal = os.stat(path + ".wal")
        log: Token = (wal.st_ino, wal.st_size, wal.st_mtime_ns)
    except OSError:
        log = ()
    return (writes, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, log)


def _duckdb_file(engine: Engine) -> str | None:
    """The path of a DuckDB database file, or None (another engine, or an in-memory database)."""
    if engine.dialect.name != "duckdb":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return os.path.abspath(database)


def _sqlite_file(engine: Engine) -> str | None:
    """The path of a SQLite database file, or None (another engine, or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


__all__ = ["REMOTE_RECHECK_SECONDS", "VersionWatch"]
