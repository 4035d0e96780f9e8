"""Crash safety: an ingest killed with SIGKILL in the middle of its load leaves the previous data serving (to the
metric layer and to a running API), no stale lock, and the next ingest succeeds. On every engine of the contract
suite; the running API on SQLite and PostgreSQL (a DuckDB file is opened by one process at a time, so a CLI
ingest cannot run beside a server on it: see docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

from benchmarks.reliability.common import Server, start_server
from salesdash.generate import generate
from salesdash.ingest import ingest_file
from salesdash.store import current_version, make_engine, snapshot
from salesdash.store.archive import restorable, restorable_in
from salesdash.store.lock import is_locked, wait_unlocked
from salesdash.store.schema import order_lines, staged_lines
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.reliability.support import BAD, Ingest, metric_outputs

CHUNK = 20_000
CHUNKED_ROWS = 200_000  # as Parquet, "more than 32 MB of CSV": the chunked path (ingest/chunked.py)


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


def test_sigkill_of_a_chunked_duckdb_load_keeps_previous_data_and_the_next_load_clears_its_leftovers(
    tmp_path: Path,
):
    """A chunked load into DuckDB commits its lines chunk by chunk into a staged table (store/load.py): killed
    after some of them, the previous data is served, and the next load (here a one-shot one) drops the table."""
    path = generate(rows=CHUNKED_ROWS, out=tmp_path / "chunked.parquet", seed=8, source=SAMPLE_CSV)
    url = f"duckdb:///{tmp_path / 'staged.duckdb'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    before = metric_outputs(engine)
    engine.dispose()

    child = Ingest(url, path, tmp_path, settings={"SALESDASH_INGEST_CHUNK_ROWS": str(CHUNK)})
    try:  # the progress line of the third chunk comes after the first two chunks' commits
        child.kill_during_load(min_done=3 * CHUNK)
    finally:
        child.stop()

    engine = make_engine(url)
    try:
        assert metric_outputs(engine) == before
        with snapshot(engine) as conn:
            assert conn.execute(select(func.count()).select_from(staged_lines)).scalar_one() >= 2 * CHUNK
            assert restorable_in(conn) == {before["version"]}
        result = ingest_file(engine, BAD / "formula_names.csv")
        assert current_version(engine) == result.version
        assert not inspect(engine).has_table(staged_lines.name)
        assert restorable(engine) == {before["version"], result.version.version}
    finally:
        engine.dispose()
