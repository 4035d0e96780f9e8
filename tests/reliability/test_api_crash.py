"""Crash safety of the real server (`salesdash serve`, waitress) over HTTP: the API process SIGKILLed in the
middle of loading an upload (POST /api/data-refresh) restarts on the previous data, no lock is left behind, and
the next refresh succeeds. Every engine. (A CLI ingest killed while the API serves: tests/reliability/test_crash.)
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text

from benchmarks.reliability.common import Server, start_server
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.store.lock import is_locked, wait_unlocked
from salesdash.tokens import create_token
from tests.conftest import SMALL_CSV
from tests.reliability.support import BAD, metric_outputs

pytestmark = pytest.mark.e2e


def wait_until_loading(engine: Engine, timeout: float = 60.0) -> str:
    """Block until the server is writing the new rows; returns the evidence seen.

    The refresh holds the write lock from the upload on; the load itself shows as a growing SQLite WAL (pages of
    the open transaction spill into it) or as a writing transaction in pg_stat_activity. A DuckDB file is
    the server's alone: there the evidence is the lock (the kill may land while the upload is validated)."""
    deadline = time.monotonic() + timeout
    while not is_locked(engine):
        assert time.monotonic() < deadline, "the refresh never took the write lock"
        time.sleep(0.02)
    if engine.dialect.name == "duckdb":
        return "write lock held"
    if engine.dialect.name == "sqlite":
        wal = Path(f"{engine.url.database}-wal")
        start = wal.stat().st_size if wal.exists() else 0
        while not (wal.exists() and wal.stat().st_size > start + (1 << 20)):
            assert time.monotonic() < deadline, "the load never wrote to the WAL"
            time.sleep(0.01)
        return "WAL growing"
    # a session holding a transaction id has written in its open transaction: the load's DELETE/COPY
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while not conn.execute(query).scalar_one():
            assert time.monotonic() < deadline, "the load never showed in pg_stat_activity"
            time.sleep(0.01)
    return "a writing transaction open"


def kpis(server: Server) -> dict[str, Any]:
    response = server.get("/api/kpis")
    assert response.status_code == 200, response.text
    body = response.json()
    return {"version": body["meta"]["data_version"], "data": body["data"]}


def test_api_killed_during_refresh_restarts_on_the_previous_data(db_url: str, big_csv: Path, tmp_path: Path):
    engine = make_engine(db_url)
    ingest_file(engine, SMALL_CSV)
    admin = create_token(engine, "admin", "crash test")
    before = metric_outputs(engine)
    engine.dispose()  # DuckDB: the server must be the only process with the file open

    server = start_server(tmp_path, db_url, api_threads="4")
    outcome: dict[str, Any] = {}

    def upload() -> None:
        try:
            with big_csv.open("rb") as fh:
                outcome["response"] = requests.post(
                    server.url + "/api/data-refresh",
                    headers={"Authorization": f"Bearer {admin}"},
                    files={"file": ("big.csv", fh, "text/csv")},
                    timeout=300,
                )
        except requests.RequestException as exc:
            outcome["error"] = exc

    try:
        served = kpis(server)
        assert served["version"] == before["version"]
        poster = threading.Thread(target=upload)
        poster.start()
        probe = make_engine(db_url)  # the lock probe opens no DuckDB file (it is a lock file next to it)
        wait_until_loading(probe)
        assert "response" not in outcome, "the refresh finished before the kill; use a bigger file"
        server.kill()
        poster.join(timeout=60)
        assert "error" in outcome  # the client saw the connection drop
        assert wait_unlocked(probe, timeout=20)  # the kernel / PostgreSQL released the dead server's lock
        probe.dispose()
    finally:
        server.kill()

    engine = make_engine(db_url)
    assert metric_outputs(engine) == before  # nothing of the interrupted load is visible
    engine.dispose()

    restarted = start_server(tmp_path, db_url, api_threads="4")
    try:
        assert kpis(restarted) == served  # same version, same numbers
        with (BAD / "formula_names.csv").open("rb") as fh:
            response = requests.post(
                restarted.url + "/api/data-refresh",
                headers={"Authorization": f"Bearer {admin}"},
                files={"file": ("formula_names.csv", fh, "text/csv")},
                timeout=120,
            )
        assert response.status_code == 200, response.text
        new_version = response.json()["data"]["data_version"]
        assert new_version != served["version"]
        assert kpis(restarted)["version"] == new_version
    finally:
        assert restarted.stop() == 0, restarted.output()
    assert "Traceback" not in restarted.output()
