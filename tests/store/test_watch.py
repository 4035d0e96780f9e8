"""The data version watch: one lookup per change, never a stale version (real SQLite files, real processes)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import event

from salesdash.ingest import ingest_file
from salesdash.store import current_version_label, make_engine
from salesdash.store.watch import VersionWatch
from tests.conftest import SAMPLE_CSV


def _count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def _ingest_in_another_process(url: str) -> None:
    """``salesdash ingest`` of the sample into ``url`` by a process of its own (a load this one did not make)."""
    done = subprocess.run(
        [sys.executable, "-m", "salesdash", "ingest", str(SAMPLE_CSV)],
        env={"SALESDASH_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()


def test_sqlite_lookup_happens_once_until_another_connection_commits(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    watch = VersionWatch(engine)
    first = watch.label()
    assert first == current_version_label(engine)
    statements = _count_statements(engine)
    for _ in range(20):
        assert watch.label() == first
    assert statements == []  # nothing changed: no lookup at all

    # a load from another process commits a new version: the very next call sees it
    _ingest_in_another_process(url)
    second = watch.label()
    assert second != first
    assert second == current_version_label(engine)


def test_a_file_replaced_under_the_same_path_is_noticed(tmp_path: Path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for path in (a, b):
        loader = make_engine(f"sqlite:///{path}")
        ingest_file(loader, SAMPLE_CSV)
        loader.dispose()  # the last connection checkpoints the WAL into the file
    engine = make_engine(f"sqlite:///{a}")
    watch = VersionWatch(engine)
    before = watch.label()
    engine.dispose()
    shutil.copyfile(b, tmp_path / "swap.db")
    (tmp_path / "swap.db").replace(a)  # a new file (inode) at the same path
    for extra in ("a.db-wal", "a.db-shm"):
        (tmp_path / extra).unlink(missing_ok=True)
    after = watch.label()
    assert after == current_version_label(make_engine(f"sqlite:///{a}"))
    assert after != before


def test_duckdb_lookup_happens_once_until_a_write_here_or_a_load_by_another_process(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 's.duckdb'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    watch = VersionWatch(engine)
    first = watch.label()
    assert first == current_version_label(engine)
    statements = _count_statements(engine)
    for _ in range(20):
        assert watch.label() == first
    assert [s for s in statements if "data_versions" in s] == []  # nothing changed: no lookup

    # a load in this process (a refresh, a stream batch): the very next call sees it
    ingest_file(engine, SAMPLE_CSV)
    second = watch.label()
    assert second != first and second == current_version_label(engine)

    # a load by another process, once this one has let go of the file
    engine.dispose()
    _ingest_in_another_process(url)
    third = watch.label()
    assert third not in (first, second)
    assert third == current_version_label(engine)


def test_postgresql_looks_up_every_time(scratch):
    engine = make_engine(scratch.url("postgresql"))
    try:
        ingest_file(engine, SAMPLE_CSV)
        watch = VersionWatch(engine)
        statements = _count_statements(engine)
        assert watch.label() == watch.label() == current_version_label(engine)
        assert len([s for s in statements if "data_versions" in s]) == 3
    finally:
        engine.dispose()


def test_disposing_the_engine_closes_the_probe_so_the_file_can_be_locked(tmp_path: Path):
    import sqlite3

    db = tmp_path / "s.db"
    engine = make_engine(f"sqlite:///{db}")
    ingest_file(engine, SAMPLE_CSV)
    watch = VersionWatch(engine)
    label = watch.label()
    engine.dispose()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # refused while any other connection still has the file open
    holder.execute("ROLLBACK")
    holder.close()
    assert watch.label() == label
