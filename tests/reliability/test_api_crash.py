"""Crash safety with the real server (`salesdash serve`, gunicorn) over HTTP:

- the API process SIGKILLed in the middle of POST /api/data-refresh: after a restart it serves the previous data,
  no lock is left behind, and the next refresh succeeds (every engine);
- a CLI ingest SIGKILLed mid-load while the API is up: the API answers throughout, with the previous data
  (SQLite and PostgreSQL; a DuckDB file is opened by one process at a time, so the CLI cannot load while the API
  holds it, see docs/reliability.md).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from benchmarks.reliability.common import Server, start_server
from sqlalchemy import Engine

from salesdash.auth import create_token
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.store.lock import is_locked, wait_unlocked
from tests.conftest import ENGINE_PARAMS, SMALL_CSV
from tests.reliability.support import BAD, Ingest, metric_outputs

pytestmark = pytest.mark.e2e


def wait_until_locked(engine: Engine, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not is_locked(engine):
        assert time.monotonic() < deadline, "the load never started"
        time.sleep(0.05)


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
        wait_until_locked(probe)  # the server holds the write lock: it is inside the load
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


@pytest.mark.parametrize("engine_kind", [p for p in ENGINE_PARAMS if p.id != "duckdb"], indirect=True)
def test_api_serves_the_previous_data_while_an_ingest_is_killed(db_url: str, big_csv: Path, tmp_path: Path):
    engine = make_engine(db_url)
    ingest_file(engine, SMALL_CSV)
    engine.dispose()
    server = start_server(tmp_path, db_url, api_threads="4")
    try:
        served = kpis(server)
        child = Ingest(db_url, big_csv, tmp_path)
        try:
            child.kill_during_load()
            during = [kpis(server) for _ in range(3)]
        finally:
            child.stop()
        assert during == [served] * 3  # the API answers throughout, unchanged
        assert kpis(server) == served
        again = Ingest(db_url, SMALL_CSV, tmp_path)  # the next ingest succeeds...
        assert again.finish(timeout=120) == 0, "".join(again.stderr)
        after = kpis(server)  # ...and the running API serves it
        assert after["version"] != served["version"]
        assert after["data"] == served["data"]  # the same file: the same numbers under a new version
    finally:
        assert server.stop() == 0, server.output()
