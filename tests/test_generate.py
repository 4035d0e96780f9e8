"""salesdash generate: synthetic files in the source schema, resampled from real orders."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from salesdash.errors import InputFileError
from salesdash.generate import generate
from salesdash.ingest import prepare
from salesdash.ingest.schema import SOURCE_COLUMNS
from tests.conftest import SAMPLE_CSV

ROWS = 20_000


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(rows=ROWS, out=tmp_path_factory.mktemp("gen") / "gen.csv", seed=3, source=SAMPLE_CSV)


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_CSV, dtype=str, keep_default_na=False, encoding="cp437")


def test_the_file_has_the_source_schema_and_ingest_accepts_it(generated: Path):
    header = generated.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(SOURCE_COLUMNS)
    prepared = prepare(generated)
    assert prepared.report["rows_loaded"] == ROWS
    assert prepared.report["rows_rejected"] == 0


def test_same_seed_same_bytes_other_seed_other_file(generated: Path, tmp_path: Path):
    again = generate(rows=ROWS, out=tmp_path / "again.csv", seed=3, source=SAMPLE_CSV)
    other = generate(rows=ROWS, out=tmp_path / "other.csv", seed=4, source=SAMPLE_CSV)
    assert again.read_bytes() == generated.read_bytes()
    assert other.read_bytes() != generated.read_bytes()


def test_orders_are_whole_source_orders_with_new_numbers(generated: Path, source: pd.DataFrame):
    frame = _read(generated)
    source_orders: dict[tuple[str, ...], set[str]] = {}
    for _, lines in source.groupby("ORDERNUMBER"):
        source_orders.setdefault(tuple(sorted(lines["PRODUCTCODE"])), set()).add(
            lines["CUSTOMERNAME"].iloc[0]
        )
    numbers = frame["ORDERNUMBER"].astype(int)
    assert not set(numbers) & set(source["ORDERNUMBER"].astype(int))  # new order numbers
    partial = []
    for _, lines in frame.groupby("ORDERNUMBER", sort=True):
        codes = tuple(sorted(lines["PRODUCTCODE"]))
        assert lines["ORDERLINENUMBER"].is_unique
        if codes not in source_orders:
            partial.append(set(codes))
            continue
        assert lines["CUSTOMERNAME"].iloc[0] in source_orders[codes]
    # one order may be cut short so that the file ends at exactly ROWS lines: a part of a real order
    assert len(partial) <= 1
    assert all(any(p <= set(codes) for codes in source_orders) for p in partial)
    # order numbers increase with the order date
    first_dates = pd.to_datetime(
        frame.groupby("ORDERNUMBER", sort=True)["ORDERDATE"].first(), format="%m/%d/%Y %H:%M"
    )
    assert first_dates.is_monotonic_increasing


def test_dates_spread_over_the_source_range_with_consistent_calendar_columns(
    generated: Path, source: pd.DataFrame
):
    frame = _read(generated)
    dates = pd.to_datetime(frame["ORDERDATE"], format="%m/%d/%Y %H:%M")
    source_dates = pd.to_datetime(source["ORDERDATE"], format="%m/%d/%Y %H:%M")
    assert dates.min() >= source_dates.min()
    assert dates.max() <= source_dates.max()
    assert dates.nunique() > source_dates.nunique()  # spread, not just the source's 252 days
    assert (frame["YEAR_ID"].astype(int) == dates.dt.year).all()
    assert (frame["QTR_ID"].astype(int) == dates.dt.quarter).all()
    assert (frame["MONTH_ID"].astype(int) == dates.dt.month).all()
    assert (
        frame["ORDERDATE"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} 0:00").all()
    )  # M/D/YYYY H:MM as in the source
    # each customer orders across the whole range (not only near its few dates in the sample)
    years = frame.assign(year=dates.dt.year).groupby("CUSTOMERNAME")["year"].nunique()
    assert (years == 3).mean() > 0.9


def test_deal_size_follows_sales(generated: Path):
    frame = _read(generated)
    sales = frame["SALES"].astype(float)
    expected = pd.cut(sales, [-1, 2999.999, 6999.999, float("inf")], labels=["Small", "Medium", "Large"])
    assert (frame["DEALSIZE"] == expected.astype(str)).all()


def test_dimension_distributions_follow_the_source(generated: Path, source: pd.DataFrame):
    frame = _read(generated)
    for column in ("PRODUCTLINE", "COUNTRY", "STATUS"):
        ours = frame[column].value_counts(normalize=True)
        theirs = source[column].value_counts(normalize=True)
        assert set(ours.index) <= set(theirs.index)
        gap = (ours.reindex(theirs.index, fill_value=0) - theirs).abs().max()
        assert gap < 0.04, (column, gap)


def test_gzip_and_parquet_hold_the_same_rows(generated: Path, tmp_path: Path):
    gz = generate(rows=ROWS, out=tmp_path / "gen.csv.gz", seed=3, source=SAMPLE_CSV)
    assert gzip.decompress(gz.read_bytes()) == generated.read_bytes()
    parquet = generate(rows=ROWS, out=tmp_path / "gen.parquet", seed=3, source=SAMPLE_CSV)
    table = pq.read_table(parquet)
    assert table.column_names == list(SOURCE_COLUMNS)
    assert table.num_rows == ROWS
    csv_frame = _read(generated)
    assert [str(v) for v in table.column("ORDERNUMBER").to_pylist()] == list(csv_frame["ORDERNUMBER"])
    assert table.column("SALES").to_pylist() == list(csv_frame["SALES"])


def test_an_unknown_format_or_folder_is_refused_without_a_file(tmp_path: Path):
    with pytest.raises(InputFileError, match=r"\.csv, \.csv\.gz, \.parquet"):
        generate(rows=10, out=tmp_path / "out.xlsx", source=SAMPLE_CSV)
    with pytest.raises(InputFileError, match="does not exist"):
        generate(rows=10, out=tmp_path / "missing" / "out.csv", source=SAMPLE_CSV)
    assert list(tmp_path.iterdir()) == []


def test_exactly_the_rows_asked_for(tmp_path: Path):
    for rows in (1, 7, 1001):
        path = generate(rows=rows, out=tmp_path / f"{rows}.csv", seed=1, source=SAMPLE_CSV)
        assert len(_read(path)) == rows


def test_the_command_writes_the_file_and_shows_progress(tmp_path: Path):
    out = tmp_path / "cli.csv"
    result = subprocess.run(
        [sys.executable, "-m", "salesdash", "generate", "--rows", "2500", "--out", str(out), "--seed", "9"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SALESDASH_SOURCE_PATH": str(SAMPLE_CSV)},
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2,500 rows" in result.stdout
    assert "generate: 100%" in result.stderr
    assert len(_read(out)) == 2500
