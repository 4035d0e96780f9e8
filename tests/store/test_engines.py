"""Engines by URL: what a user sees when a store cannot be opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, inspect

from salesdash.errors import StoreUnavailable
from salesdash.store import ensure_schema, make_engine


def test_a_duckdb_file_held_by_another_process_gets_a_clear_message(tmp_path: Path):
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        engine = make_engine(f"duckdb:///{path}")
        with pytest.raises(StoreUnavailable) as info:
            ensure_schema(engine)
        assert "one process at a time" in info.value.message
        assert "POST /api/data-refresh" in info.value.message
        engine.dispose()
    finally:
        holder.kill()
        holder.wait(timeout=30)  # the kernel drops a process's file locks before its parent can reap it
    engine = make_engine(f"duckdb:///{path}")
    ensure_schema(engine)  # free again once the other process is gone
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_the_schema_is_checked_once_per_store(tmp_path: Path, kind: str):
    """ensure_schema runs before token lookups, saved views and stream batches: after the first call it asks
    the database nothing, until the file under the URL is another one (deleted and made again)."""
    path = tmp_path / f"store.{kind}"
    engine = make_engine(f"{kind}:///{path}")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda c, cur, sql, *rest: statements.append(sql))
    ensure_schema(engine)
    assert statements, "the first call creates the tables"
    statements.clear()
    ensure_schema(engine)
    assert statements == []
    engine.dispose()
    path.unlink()
    ensure_schema(engine)  # a new, empty file: its tables are made again
    assert statements
    assert inspect(engine).has_table("data_versions")
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_a_store_built_with_a_monthly_codes_rollup_drops_it_and_answers_the_same(tmp_path: Path, kind: str):
    """Stores built before agg_codes lost its monthly copy (agg_codes_m, 2026-12-04) have the table: the schema
    check drops it (OUTDATED_TABLES) and the answers, read from agg_codes by day now, are unchanged."""
    from sqlalchemy import BigInteger, Column, MetaData, Table

    from salesdash.filters import Filters
    from salesdash.ingest import ingest_file
    from salesdash.metrics import breakdown
    from salesdash.store import snapshot
    from tests.conftest import SMALL_CSV

    url = f"{kind}:///{tmp_path / f'store.{kind}'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    with snapshot(engine) as conn:
        before = breakdown(conn, Filters(), "product_code").to_dict("records")
    with engine.begin() as conn:  # what the older build left
        Table("agg_codes_m", MetaData(), Column("order_count", BigInteger)).create(conn)
    engine.dispose()
    reopened = make_engine(url)
    ensure_schema(reopened)
    assert not inspect(reopened).has_table("agg_codes_m")
    with snapshot(reopened) as conn:
        assert breakdown(conn, Filters(), "product_code").to_dict("records") == before
    reopened.dispose()
