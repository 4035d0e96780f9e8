"""Processed outputs of the ETL (CSV, Parquet, quality report): read back and compared with the store and with
an independent pandas reading of the source file, on every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, kpis
from salesdash.processed import COLUMNS, read_processed_csv, write_processed
from salesdash.store import current_version, snapshot
from salesdash.store.schema import order_lines
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.reference import REVENUE
from tests.test_cli import run


def _store_lines(engine: Engine) -> pd.DataFrame:
    with snapshot(engine) as conn:
        rows = conn.execute(
            select(order_lines).order_by(order_lines.c.order_number, order_lines.c.order_line_number)
        ).all()
    frame = pd.DataFrame(rows, columns=[c.name for c in order_lines.columns])
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    return frame


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    """The bundled file read with pandas alone (no salesdash code)."""
    return pd.read_csv(SAMPLE_CSV, encoding="cp437", keep_default_na=False)


def test_processed_files_hold_the_store(sample_engine: Engine, tmp_path: Path, source: pd.DataFrame):
    written = write_processed(sample_engine, tmp_path / "out", chunk_rows=500)  # several chunks
    assert written.line_count == len(source) == 2823
    store = _store_lines(sample_engine)
    csv = read_processed_csv(written.files["csv"])
    parquet = pd.read_parquet(written.files["parquet"])
    for frame in (csv, parquet):
        assert tuple(frame.columns) == COLUMNS
        assert frame["order_number"].dtype == "int64"
        assert frame["quantity_ordered"].dtype == "int32"
        assert frame["sales"].dtype == "float64"
        assert frame["order_date"].map(type).eq(type(store["order_date"].iloc[0])).all()
        assert (frame["sales"] * 100).round().astype("int64").tolist() == store["sales_cents"].tolist()
        for column in (
            "order_number",
            "order_line_number",
            "status",
            "customer_name",
            "territory",
            "order_date",
        ):
            assert frame[column].tolist() == store[column].tolist(), column
        # independent of salesdash: the source file's own SALES, Cancelled kept with its status
        kept = frame["status"] != "Cancelled"
        expected = source.loc[source["STATUS"] != "Cancelled", "SALES"].sum()
        assert round(frame.loc[kept, "sales"].sum(), 2) == round(expected, 2) == REVENUE
        assert frame["status"].eq("Cancelled").sum() == source["STATUS"].eq("Cancelled").sum() > 0
        assert frame.loc[frame["country"] == "USA", "territory"].eq("NA").all()  # not NaN
        assert frame["order_number"].nunique() == source["ORDERNUMBER"].nunique()


def test_quality_report_and_summary_match_the_store(sample_engine: Engine, tmp_path: Path):
    written = write_processed(sample_engine, tmp_path)
    version = current_version(sample_engine)
    assert version is not None
    quality = json.loads(written.files["quality"].read_text(encoding="utf-8"))
    assert quality["data_version"] == version.version == written.data_version
    assert quality["report"] == json.loads(json.dumps(version.report, default=str))
    with snapshot(sample_engine) as conn:
        figures = kpis(conn, Filters())
    assert quality["headline"]["revenue"] == figures["revenue"] == REVENUE
    summary = written.files["summary"].read_text(encoding="utf-8")
    assert f"{figures['revenue']:,}" in summary and "9,838,141.37" in summary
    assert "Orders                 303" in summary
    assert "PRICEEACH is capped at 100.00" in summary  # the Data quality page's finding
    assert version.version in summary


def test_formula_like_text_is_neutralised_in_the_csv_only(fresh_engine: Engine, tmp_path: Path):
    text = SMALL_CSV.read_text(encoding="utf-8").replace("Alpha Co", "=HYPERLINK(1)")
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(text, encoding="utf-8")
    ingest_file(fresh_engine, hostile)
    written = write_processed(fresh_engine, tmp_path / "out")
    raw_csv = written.files["csv"].read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in raw_csv and ",=HYPERLINK" not in raw_csv
    assert "=HYPERLINK(1)" in pd.read_parquet(written.files["parquet"])["customer_name"].tolist()


def test_cli_writes_processed_outputs(tmp_path: Path):
    result = run(["ingest", str(SAMPLE_CSV), "--quiet", "--write-processed", "processed"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "processed data (2,823 lines" in result.stdout
    for name in ("sales_data_processed.csv", "sales_data_processed.parquet", "summary_stats.txt"):
        assert (tmp_path / "processed" / name).stat().st_size > 0
    again = run(["export-processed", "again", "--quiet"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "sales_data_processed.csv").read_bytes() == (
        tmp_path / "processed" / "sales_data_processed.csv"
    ).read_bytes()


def test_cli_export_processed_of_an_empty_store_is_one_clear_message(tmp_path: Path):
    result = run(["export-processed", "out"], tmp_path)
    assert result.returncode == 2
    assert "run `salesdash ingest` first" in result.stderr
    assert "Traceback" not in result.stderr
