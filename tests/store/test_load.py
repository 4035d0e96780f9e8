"""Loading is atomic on every engine: a failed ingest leaves the previous data and version untouched."""

from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesdash.errors import SalesdashError
from salesdash.ingest import ingest_file, prepare
from salesdash.metrics import Filters, kpis
from salesdash.store import current_version, replace_data, snapshot, version_history
from tests.conftest import SAMPLE_CSV, SMALL_CSV


def _kpis(engine: Engine) -> dict:
    with snapshot(engine) as conn:
        return kpis(conn, Filters())


def test_ingest_records_a_data_version(small_engine: Engine):
    version = current_version(small_engine)
    assert version is not None
    assert version.row_count == 8
    assert version.version.endswith(version.source_sha256[:12])
    assert version.report["rows_loaded"] == 8


def test_second_ingest_replaces_data_and_adds_a_version(small_engine: Engine):
    first = current_version(small_engine)
    ingest_file(small_engine, SAMPLE_CSV)
    assert _kpis(small_engine)["order_count"] == 303
    history = version_history(small_engine)
    assert [v.version for v in history][1] == first.version
    assert history[0].row_count == 2823


def test_a_broken_csv_leaves_the_old_data_intact(small_engine: Engine, tmp_path: Path):
    before = _kpis(small_engine)
    version_before = current_version(small_engine)
    broken = tmp_path / "broken.csv"
    lines = SMALL_CSV.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("600.25", "lots")
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SalesdashError):
        ingest_file(small_engine, broken)
    assert _kpis(small_engine) == before
    assert current_version(small_engine) == version_before


def test_a_load_that_fails_midway_rolls_back(small_engine: Engine):
    before = _kpis(small_engine)
    prepared = prepare(SAMPLE_CSV)
    frame = prepared.frame.copy()
    frame.loc[len(frame) - 1, "customer_name"] = None  # violates NOT NULL on the very last row
    with pytest.raises(Exception):
        replace_data(
            small_engine,
            frame,
            version="bad",
            source="x",
            source_sha256="0" * 64,
            loaded_at=current_version(small_engine).loaded_at,
            report={},
        )
    assert _kpis(small_engine) == before
    assert current_version(small_engine).row_count == 8
