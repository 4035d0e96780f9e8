"""The cluster ingest on Spark (ingest/spark.py) against salesdash's own path, on the real local cluster: the same
lines, figures, report and messages (line numbers included), and a refused file leaves the previous version
served."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from salesdash.errors import ValidationFailed
from salesdash.ingest import ingest_file, prepare
from salesdash.ingest.spark import shared_files, takes_cluster_path
from salesdash.metrics import Filters, kpis
from salesdash.store import current_version, make_engine, snapshot, spark_load
from salesdash.store.schema import ORDER_LINE_COLUMNS, order_lines
from salesdash.store.spark import remote_of, spark_database_of
from tests import reference
from tests.conftest import SAMPLE_CSV, SMALL_CSV, ScratchDatabases


def test_the_cluster_reads_local_paths_only_when_it_runs_here():
    assert shared_files("auto", "sc://127.0.0.1:15002")
    assert shared_files("auto", "sc://localhost:15002/;token=x")
    assert not shared_files("auto", "sc://spark.example.com:443")
    assert shared_files("yes", "sc://spark.example.com:443")
    assert not shared_files("no", "sc://127.0.0.1:15002")


def test_which_files_take_the_cluster_path(tmp_path: Path):
    big = make_engine("sc://127.0.0.1:1", spark_ingest_bytes=100_000)
    far = make_engine("sc://spark.example.com:443", spark_ingest_bytes=0)
    assert takes_cluster_path(big, SAMPLE_CSV)  # 528 KB >= 100 KB, the cluster runs here
    assert not takes_cluster_path(big, SMALL_CSV)  # smaller than the threshold
    assert not takes_cluster_path(big, SAMPLE_CSV, rejects_path=tmp_path / "r.csv")
    assert not takes_cluster_path(far, SAMPLE_CSV)  # a remote cluster does not see this machine's files
    assert not takes_cluster_path(big, tmp_path / "missing.csv")
    sqlite = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    assert not takes_cluster_path(sqlite, SAMPLE_CSV)


@pytest.fixture
def cluster_store(spark_url: str, scratch: ScratchDatabases) -> Iterator[Engine]:
    """An empty store on the session's cluster whose every file takes the cluster path."""
    engine = make_engine(scratch.url("spark"), spark_ingest_bytes=0)
    yield engine
    engine.dispose()


def _lines(engine: Engine) -> list[tuple[Any, ...]]:
    columns = [order_lines.c[name] for name in ORDER_LINE_COLUMNS]
    with snapshot(engine) as conn:
        rows = conn.execute(
            select(*columns).order_by(order_lines.c.order_number, order_lines.c.order_line_number)
        ).all()
    return [tuple(str(v) if v is not None else None for v in row) for row in rows]


def _report(result_report: dict[str, Any]) -> dict[str, Any]:
    out = dict(result_report)
    for anomaly in out.get("anomalies", []):  # a float sum: summed in another order on the cluster
        if "amount" in anomaly:
            anomaly["amount"] = round(anomaly["amount"], 1)
    return out


@pytest.mark.spark
@pytest.mark.slow
def test_the_sample_through_the_cluster_equals_the_other_path(cluster_store: Engine, tmp_path: Path):
    sqlite = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    expected = ingest_file(sqlite, SAMPLE_CSV)
    stages: list[str] = []
    result = ingest_file(cluster_store, SAMPLE_CSV, progress=lambda stage, done, total: stages.append(stage))
    assert "rollups" in stages
    with snapshot(cluster_store) as conn:
        figures = kpis(conn, Filters())
    assert figures["revenue"] == reference.REVENUE
    assert figures["order_count"] == reference.ORDERS
    assert figures["average_order_value"] == reference.AVERAGE_ORDER_VALUE
    assert figures["customer_count"] == reference.CUSTOMERS
    assert figures["country_count"] == reference.COUNTRIES
    assert figures["product_line_count"] == reference.PRODUCT_LINES
    with snapshot(sqlite) as conn:
        assert kpis(conn, Filters()) == figures
    assert _lines(cluster_store) == _lines(sqlite)  # every column of every line, as the other path cleans it
    assert _report(result.report) == _report(expected.report)
    assert result.version.row_count == expected.version.row_count == 2823


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _bad_file(tmp_path: Path) -> Path:
    """small.csv with one of each kind of failure (value, range, date, vocabulary, calendar, per order,
    repeated pair, empty, too long), far apart so that line numbers matter."""
    with SMALL_CSV.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    header, rows = table[0], [list(r) for r in table[1:]]
    col = {name: i for i, name in enumerate(header)}
    while len(rows) < 40:  # more lines (new orders) so the failures spread over several
        extra = [list(r) for r in rows[: 40 - len(rows)]]
        for r in extra:
            r[col["ORDERNUMBER"]] = str(int(r[col["ORDERNUMBER"]]) + 50000)
        rows += extra
    rows[1][col["QUANTITYORDERED"]] = "twelve"
    rows[3][col["QUANTITYORDERED"]] = "1.5"
    rows[4][col["PRICEEACH"]] = "-3"
    rows[6][col["ORDERDATE"]] = "13/45/2004 0:00"
    rows[8][col["STATUS"]] = "Lost"
    rows[10][col["YEAR_ID"]] = "1999"
    rows[12][col["COUNTRY"]] = ""
    rows[14][col["CUSTOMERNAME"]] = "x" * 300
    rows[20][col["SALES"]] = "inf"
    rows[25][col["MONTH_ID"]] = "13"
    rows[30] = list(rows[29])  # a repeated (ORDERNUMBER, ORDERLINENUMBER): line 32 repeats line 31
    return _write(tmp_path / "bad.csv", header, rows)


@pytest.mark.spark
@pytest.mark.slow
def test_a_bad_file_gets_the_same_messages_and_leaves_the_served_version(
    cluster_store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bad = _bad_file(tmp_path)
    with pytest.raises(ValidationFailed) as expected:
        prepare(bad)
    same_store = f"{remote_of(cluster_store)}/;salesdash_database={spark_database_of(cluster_store)}"
    plain = make_engine(same_store, spark_ingest_bytes=10**12)
    assert not takes_cluster_path(plain, bad)
    # the served version, loaded the other way; its frame staged as a Parquet file the cluster reads (as a
    # confirmed upload of more than STAGE_ROWS lines is), not sent as Arrow batches
    monkeypatch.setattr(spark_load, "STAGE_ROWS", 4)
    staged: list[int] = []
    stage = spark_load._staged_insert
    monkeypatch.setattr(spark_load, "_staged_insert", lambda *args: staged.append(1) or stage(*args))
    ingest_file(plain, SMALL_CSV)
    assert staged == [1]
    small = make_engine(f"sqlite:///{tmp_path / 'small.db'}")
    ingest_file(small, SMALL_CSV)
    assert _lines(cluster_store) == _lines(small)
    before = current_version(cluster_store)
    with snapshot(cluster_store) as conn:
        served = kpis(conn, Filters())
    assert takes_cluster_path(cluster_store, bad)
    with pytest.raises(ValidationFailed) as refused:
        ingest_file(cluster_store, bad)
    assert refused.value.message == expected.value.message
    assert refused.value.details == expected.value.details
    assert {d["line"] for d in refused.value.details} >= {3, 5, 6, 8, 10, 12, 14, 16, 22, 27, 32}
    assert current_version(cluster_store) == before
    with snapshot(cluster_store) as conn:
        assert kpis(conn, Filters()) == served
    # --on-error skip: the same lines set aside, the same figures from the rest
    sqlite = make_engine(f"sqlite:///{tmp_path / 'skip.db'}")
    expected_skip = ingest_file(sqlite, bad, on_error="skip")
    skipped = ingest_file(cluster_store, bad, on_error="skip")
    assert skipped.report["rows_rejected"] == expected_skip.report["rows_rejected"] > 0
    assert _report(skipped.report) == _report(expected_skip.report)
    assert _lines(cluster_store) == _lines(sqlite)


@pytest.mark.spark
def test_a_row_with_more_fields_than_the_header_is_refused_with_its_line(
    cluster_store: Engine, tmp_path: Path
):
    """Spark's CSV reader parses only the columns a query needs; the cluster path still sees the extra field
    and refuses the file with the other paths' message and line number, writing nothing."""
    from salesdash.errors import InputFileError

    with SMALL_CSV.open(encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    table[6] = [*table[6], "extra"]  # line 7
    path = _write(tmp_path / "long.csv", table[0], table[1:])
    with pytest.raises(InputFileError) as expected:
        prepare(path)
    assert takes_cluster_path(cluster_store, path)
    with pytest.raises(InputFileError) as refused:
        ingest_file(cluster_store, path)
    assert "line 7 has 26 field(s), expected 25" in str(refused.value)
    assert str(refused.value) == str(expected.value)
    assert current_version(cluster_store) is None


@pytest.mark.spark
@pytest.mark.slow
def test_a_parquet_file_with_typed_columns_through_the_cluster(cluster_store: Engine, tmp_path: Path):
    """Numbers and timestamps in Parquet become the text a CSV would hold (parquet.py's rule) on the cluster too."""
    import pandas as pd

    frame = pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False, encoding="cp437")
    for name in ("ORDERNUMBER", "QUANTITYORDERED", "ORDERLINENUMBER", "QTR_ID", "MONTH_ID", "YEAR_ID"):
        frame[name] = frame[name].astype("int64")
    frame["SALES"] = frame["SALES"].astype("float64")
    frame["ORDERDATE"] = pd.to_datetime(frame["ORDERDATE"], format="%m/%d/%Y %H:%M")
    frame["ADDRESSLINE2"] = frame["ADDRESSLINE2"].mask(frame["ADDRESSLINE2"] == "")  # nulls: empty cells
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    sqlite = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    expected = ingest_file(sqlite, path)
    result = ingest_file(cluster_store, path)
    assert _lines(cluster_store) == _lines(sqlite)
    assert _report(result.report) == _report(expected.report)
    with snapshot(cluster_store) as conn:
        assert kpis(conn, Filters())["revenue"] == reference.REVENUE
