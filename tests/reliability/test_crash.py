"""Crash safety: an ingest killed with SIGKILL in the middle of its load leaves the previous data serving (to the
metric layer and to a running API), no stale lock, and the next ingest succeeds. On every engine of the contract
suite; the running API on SQLite and PostgreSQL (a DuckDB file is opened by one process at a time, so a CLI
ingest cannot run beside a server on it: see docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.reliability.common import Server, start_server
from salesdash.ingest import ingest_file
from salesdash.store import current_version, make_engine, snapshot
from salesdash.store.lock import is_locked, wait_unlocked
from salesdash.store.schema import order_lines
from tests.conftest import SMALL_CSV
from tests.reliability.support import BAD, Ingest, metric_outputs


def served_kpis(server: Server) -> dict[str, Any]:
    response = server.get("/api/kpis")
    assert response.status_code == 200, response.text
    body = response.json()
    return {"version": body["meta"]["data_version"], "data": body["data"]}


def test_sigkill_during_load_keeps_previous_data(
    engine_kind: str, db_url: str, big_csv: Path, tmp_path: Path
):
    engine = make_engine(db_url)
    ingest_file(engine, SMALL_CSV)
    before = metric_outputs(engine)
    engine.dispose()  # DuckDB: one process at a time may open the file

    server = start_server(tmp_path, db_url, api_threads="2") if engine_kind != "duckdb" else None
    try:
        served = served_kpis(server) if server else None
        child = Ingest(db_url, big_csv, tmp_path)
        try:
            child.kill_during_load()
        finally:
            child.stop()
        if server:
            assert served_kpis(server) == served  # the API answered throughout with the previous data

        engine = make_engine(db_url)
        try:
            # PostgreSQL drops the killed session's advisory lock once it notices the closed socket
            assert wait_unlocked(engine, timeout=20)
            assert metric_outputs(engine) == before  # same version, same numbers, nothing half-loaded
            with snapshot(engine) as conn:
                assert conn.execute(select(func.count()).select_from(order_lines)).scalar_one() == 8

            result = ingest_file(engine, BAD / "formula_names.csv")  # the next ingest succeeds
            assert result.version.version != before["version"]
            assert current_version(engine) == result.version
            assert metric_outputs(engine) != before
            assert not is_locked(engine)
            if server:  # and the running API serves it
                assert served_kpis(server)["version"] == result.version.version
        finally:
            engine.dispose()
    finally:
        if server:
            assert server.stop() == 0, server.output()
            assert "Traceback" not in server.output()
