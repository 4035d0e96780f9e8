"""Concurrency: one load at a time per database (the other is refused at once with a clear message), readers
never see a half-loaded table, and a locked SQLite database becomes a clear StoreUnavailable (503)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from salesdash import cli
from salesdash.errors import RefreshInProgress, StoreUnavailable
from salesdash.ingest import ingest_file
from salesdash.store import current_version_label_in, make_engine, snapshot
from salesdash.store import engine as store_engine
from salesdash.store.lock import is_locked, lock_path, write_lock
from salesdash.store.schema import order_lines
from tests.conftest import SMALL_CSV
from tests.reliability.support import BAD, Ingest, metric_outputs, write_big_csv


def observe(engine: Engine) -> tuple[str | None, int, int]:
    """(data version, order lines, total cents) as one reader sees them in one snapshot."""
    with snapshot(engine) as conn:
        version = current_version_label_in(conn)
        lines, cents = conn.execute(
            select(func.count(), func.coalesce(func.sum(order_lines.c.sales_cents), 0))
        ).one()
    return version, int(lines), int(cents)


def test_second_ingest_is_refused_while_one_runs(
    engine_kind: str,
    db_url: str,
    big_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    engine = make_engine(db_url)
    ingest_file(engine, SMALL_CSV)
    before = observe(engine)
    engine.dispose()

    first = Ingest(db_url, big_csv, tmp_path)
    try:
        first.wait_for_stage("read")  # printed once the first ingest holds the lock
        monkeypatch.setenv("SALESDASH_DATABASE_URL", db_url)
        capsys.readouterr()
        code = cli.main(["ingest", str(SMALL_CSV), "--quiet"])
        # refused at once, not after waiting for the first load: that one is still running and holds the lock
        still_running = first.proc.poll() is None
        err = capsys.readouterr().err
        assert code == cli.EXIT_USER_ERROR
        assert err.startswith("salesdash: error: Another data load is running on this database")
        assert "try again when it has finished" in err
        assert err.count("\n") == 1
        assert still_running, "the second ingest waited for the first one instead of being refused"
        if engine_kind != "postgresql":  # the lock file names the holder
            assert f"ingest of big.csv, pid {first.proc.pid}" in err
        assert first.finish(timeout=180) == 0, "".join(first.stderr)[-2000:]
        engine = make_engine(db_url)
        version, lines, _ = observe(engine)
        assert lines == 100_000
        assert version != before[0]
        assert not is_locked(engine)
        engine.dispose()
    finally:
        first.stop()


def test_threads_one_loads_the_other_is_refused(small_engine: Engine):
    before = metric_outputs(small_engine)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            ingest_file(small_engine, BAD / "formula_names.csv")
        except BaseException as exc:
            errors.append(exc)

    with write_lock(small_engine, "test holder"):
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=30)
    assert len(errors) == 1 and isinstance(errors[0], RefreshInProgress)
    assert errors[0].http_status == 409
    assert metric_outputs(small_engine) == before
    # once the holder is done, the same ingest goes through
    ingest_file(small_engine, BAD / "formula_names.csv")
    assert metric_outputs(small_engine) != before


def test_lock_is_reentrant_and_released_on_error(small_engine: Engine):
    with pytest.raises(ValueError, match="boom"), write_lock(small_engine):
        with write_lock(small_engine):  # the holder may take it again (ingest_file -> replace_data)
            assert is_locked(small_engine)
        raise ValueError("boom")
    assert not is_locked(small_engine)
    with write_lock(small_engine):
        pass


def test_lock_file_sits_next_to_the_database(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    path = lock_path(engine)
    assert path == (tmp_path / "a.db.lock").resolve()
    with write_lock(engine, "unit test"):
        assert "unit test, pid" in path.read_text()
    assert path.read_text() == ""  # the holder line is cleared on release
    assert lock_path(make_engine("sqlite://")) is None
    engine.dispose()


def test_readers_never_see_a_half_loaded_table(engine_kind: str, small_engine: Engine, tmp_path: Path):
    copies = 6_250  # 50,000 lines
    path = tmp_path / "next.csv"
    write_big_csv(path, copies)
    old = observe(small_engine)
    loading = threading.Event()
    loaded = threading.Event()
    failure: list[BaseException] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "load" and done < total:
            loading.set()

    def writer() -> None:
        try:
            ingest_file(small_engine, path, progress=progress)
        except BaseException as exc:
            failure.append(exc)
        finally:
            loaded.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[tuple[tuple[str | None, int, int], bool]] = []
    while not loaded.is_set():
        during = loading.is_set()
        seen.append((observe(small_engine), during))
    thread.join(timeout=120)
    assert not failure, failure
    new = observe(small_engine)
    assert new[1] == copies * 8
    assert new[2] == old[2] * copies  # small.csv's total, `copies` times over
    assert new[0] != old[0]
    during_load = [obs for obs, during in seen if during]
    assert during_load, "no read happened during the load stage"
    bad = [obs for obs, _ in seen if obs not in (old, new)]
    assert bad == [], f"a reader saw a state that is neither the old nor the new data: {bad[:3]}"
    assert old in during_load  # reads went on during the load, and saw the previous data


def test_locked_sqlite_becomes_store_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 300)
    db = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{db}")
    ingest_file(engine, SMALL_CSV)
    before = metric_outputs(engine)
    engine.dispose()

    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM api_tokens")  # a write: the exclusive lock is now really held
    try:
        with pytest.raises(StoreUnavailable) as info:
            metric_outputs(engine)
        assert info.value.http_status == 503
        assert "busy" in info.value.message and "try again" in info.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert metric_outputs(engine) == before  # served again once the lock is gone
    # the refusal came from SQLite's busy handler, which retries for the configured time before giving up
    # (read back from the engine's connection, not timed)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 300
    engine.dispose()
