"""Restore: every load keeps its lines restorable (the newest N versions); a restore brings back the old figures
exactly, as a new data version, on every engine."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from salesdash.errors import NotFound
from salesdash.ingest import ingest_file, make_version
from salesdash.metrics import Filters, kpis
from salesdash.store import current_version, snapshot, version_history
from salesdash.store.archive import restorable
from salesdash.store.restore import restore_version
from salesdash.store.schema import ORDER_LINE_COLUMNS, order_lines
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.reference import ORDERS, REVENUE


def _kpis(engine: Engine) -> dict:
    with snapshot(engine) as conn:
        return kpis(conn, Filters())


def _restore(engine: Engine, version: str, keep: int = 5):
    now = datetime.now(UTC).replace(tzinfo=None)
    return restore_version(engine, version, label=make_version, loaded_at=now, keep=keep)


def test_load_a_load_b_restore_a_gives_a_figures(fresh_engine: Engine):
    a = ingest_file(fresh_engine, SAMPLE_CSV).version
    figures_a = _kpis(fresh_engine)
    b = ingest_file(fresh_engine, SMALL_CSV).version
    assert _kpis(fresh_engine)["order_count"] != figures_a["order_count"]
    assert {a.version, b.version} <= restorable(fresh_engine)

    restored = _restore(fresh_engine, a.version)

    assert _kpis(fresh_engine) == figures_a
    assert figures_a["order_count"] == ORDERS and figures_a["revenue"] == pytest.approx(REVENUE, abs=0.005)
    assert restored.version not in (a.version, b.version)
    assert restored.source == f"restore:{a.version}"
    assert restored.row_count == a.row_count
    assert restored.report["restored_from"] == a.version
    assert restored.report["previous_data_version"] == b.version
    assert current_version(fresh_engine) == restored
    # the restore is itself a kept version: B can be restored back
    assert restored.version in restorable(fresh_engine)
    _restore(fresh_engine, b.version)
    assert _kpis(fresh_engine)["order_count"] != ORDERS


def test_pruned_and_unknown_versions_are_refused(fresh_engine: Engine):
    first = ingest_file(fresh_engine, SMALL_CSV, keep_versions=2).version
    ingest_file(fresh_engine, SAMPLE_CSV, keep_versions=2)
    ingest_file(fresh_engine, SMALL_CSV, keep_versions=2)
    kept = restorable(fresh_engine)
    assert len(kept) == 2 and first.version not in kept
    before = current_version(fresh_engine)
    with pytest.raises(NotFound, match="no longer kept"):
        _restore(fresh_engine, first.version)
    with pytest.raises(NotFound, match="no load has that version"):
        _restore(fresh_engine, "19990101T000000000000-000000000000")
    assert current_version(fresh_engine) == before
    assert len(version_history(fresh_engine)) == 3


def test_keep_zero_keeps_nothing(fresh_engine: Engine):
    ingest_file(fresh_engine, SMALL_CSV, keep_versions=0)
    assert restorable(fresh_engine) == set()


@pytest.mark.parametrize("write", ["append", "restore"])
def test_an_append_or_a_restore_drops_the_lines_a_killed_chunked_load_staged(tmp_path: Path, write: str):
    """A chunked DuckDB load killed mid-way leaves its staged lines (store/load.py ``_staged``); the next write
    under the write lock gives their disk back, whatever it is, and serves its own answer."""
    from sqlalchemy import insert, inspect

    from salesdash.ingest import prepare
    from salesdash.ingest.uploads import confirm
    from salesdash.store import make_engine
    from salesdash.store.schema import staged_lines

    engine = make_engine(f"duckdb:///{tmp_path / 'store.duckdb'}")  # only DuckDB stages a load's lines
    first = ingest_file(engine, SMALL_CSV).version
    with engine.begin() as conn:  # what the killed load had committed: the table and a chunk of lines
        staged_lines.create(conn)
        conn.execute(insert(staged_lines).from_select(list(ORDER_LINE_COLUMNS), select(order_lines)))
    assert inspect(engine).has_table(staged_lines.name)
    if write == "append":
        done = confirm(engine, prepare(SAMPLE_CSV), "append", source="sample").version
    else:
        done = _restore(engine, first.version)
    assert not inspect(engine).has_table(staged_lines.name)
    assert current_version(engine) == done and done.version != first.version
    engine.dispose()
