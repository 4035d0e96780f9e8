"""One data load at a time per database, across processes (CLI ingests, API refreshes, several API workers).

- SQLite / DuckDB files: an exclusive ``flock`` on ``<database file>.lock`` next to the database. The kernel
  drops it when the holder exits for any reason (SIGKILL included), so a crashed load never leaves a stale lock.
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated connection; the
  server drops it when that connection closes (a killed process closes it).
- Spark: an exclusive ``flock`` on a file under the user's cache directory named after the Connect URL and base
  database (``store/spark_load.py``), so loaders on this host take turns; writers on several hosts need a lock
  they all see (docs/scaling.md).
- In-memory databases live in one process: a process-local lock.

The lock never waits: a second loader is told at once that another load is running
(:class:`~salesdash.errors.RefreshInProgress`, HTTP 409). It is re-entrant within the thread that holds it, so
``ingest_file`` can hold it around validation and ``replace_data`` take it again around the write.
Readers never take it: they read the previous data version until the writer's transaction commits.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from salesdash.errors import RefreshInProgress, StoreUnavailable

# pg advisory lock key: a fixed 64-bit number derived from a name (advisory keys are per database)
PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"salesdash.write_lock").digest()[:8], "big", signed=True)
BUSY_MESSAGE = "Another data load is running on this database{holder}; try again when it has finished."

_held = threading.local()
_finished = {"count": 0}  # write-lock blocks (loads, restores, appends) this process has finished
_finished_guard = threading.Lock()
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


def lock_path(engine: Engine) -> Path | None:
    """The lock file of a file-backed SQLite/DuckDB database or a Spark store, or None (PostgreSQL, in-memory)."""
    if engine.dialect.name == "spark":
        from salesdash.store.spark import remote_of, spark_database_of
        from salesdash.store.spark_load import lock_file

        return lock_file(remote_of(engine), spark_database_of(engine))
    if engine.dialect.name not in ("sqlite", "duckdb"):
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).resolve().with_name(Path(database).name + ".lock")


def _key(engine: Engine) -> str:
    path = lock_path(engine)
    if path is not None:
        return str(path)
    return engine.url.render_as_string(hide_password=True) + (
        f"#{id(engine)}" if engine.dialect.name != "postgresql" else ""
    )


def _held_keys() -> set[str]:
    keys: set[str] | None = getattr(_held, "keys", None)
    if keys is None:
        keys = set()
        _held.keys = keys
    return keys


@contextlib.contextmanager
def _file_lock(path: Path, purpose: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", errors="replace").strip()
            raise RefreshInProgress(
                BUSY_MESSAGE.format(holder=f" ({holder})" if holder else ""),
                details=[{"lock": str(path), "holder": holder or None}],
            ) from None
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"{purpose}, pid {os.getpid()}, started {started}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _pg_lock(engine: Engine) -> Iterator[None]:
    try:
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"The database is unreachable: {getattr(exc, 'orig', exc)}") from None
    try:
        if not conn.execute(select(func.pg_try_advisory_lock(PG_LOCK_KEY))).scalar_one():
            raise RefreshInProgress(BUSY_MESSAGE.format(holder=""), details=[{"lock": "pg_advisory"}])
        try:
            yield
        finally:
            with contextlib.suppress(SQLAlchemyError):
                conn.execute(select(func.pg_advisory_unlock(PG_LOCK_KEY)))
    finally:
        conn.close()


@contextlib.contextmanager
def _memory_lock(key: str) -> Iterator[None]:
    with _memory_guard:
        lock = _memory_locks.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=False):
        raise RefreshInProgress(BUSY_MESSAGE.format(holder=""))
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def write_lock(engine: Engine, purpose: str = "data load") -> Iterator[None]:
    """Hold the database's write lock for the block, or raise RefreshInProgress at once if another holds it."""
    key = _key(engine)
    held = _held_keys()
    if key in held:  # re-entrant: this thread already holds it
        yield
        return
    path = lock_path(engine)
    if path is not None:
        lock = _file_lock(path, purpose)
    elif engine.dialect.name == "postgresql":
        lock = _pg_lock(engine)
    else:
        lock = _memory_lock(key)
    with lock:
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            with _finished_guard:
                _finished["count"] += 1


def writes_finished() -> int:
    """How many write-lock blocks this process has left (a load, a restore, an append, a failed one too): a
    number that changes whenever this process may have changed some store's data (``store/watch.py``)."""
    with _finished_guard:
        return _finished["count"]


def is_locked(engine: Engine) -> bool:
    """Whether some load holds the write lock right now (a probe; for health checks and tests)."""
    if _key(engine) in _held_keys():
        return True
    try:
        with write_lock(engine, purpose="probe"):
            return False
    except RefreshInProgress:
        return True


def wait_unlocked(engine: Engine, timeout: float, interval: float = 0.05) -> bool:
    """Wait until no load holds the lock (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while is_locked(engine):
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


__all__ = ["PG_LOCK_KEY", "is_locked", "lock_path", "wait_unlocked", "write_lock", "writes_finished"]
