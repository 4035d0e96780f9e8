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
from salesdash.generate import Shape, generate, realistic_shape
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
        env={"PATH": "/usr/bin:/bin"},  # outside the checkout: the bundled sample comes with the package
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2,500 rows" in result.stdout
    assert "generate: 100%" in result.stderr
    assert len(_read(out)) == 2500


# -- realistic cardinality -----------------------------------------------------------------------------------

SHAPED_ROWS = 30_000
SHAPE = Shape(customers=600, products=900, years=6)


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = generate(
        rows=SHAPED_ROWS,
        out=tmp_path_factory.mktemp("shaped") / "s.csv",
        seed=8,
        source=SAMPLE_CSV,
        shape=SHAPE,
    )
    prepared = prepare(path)
    assert prepared.report["rows_loaded"] == SHAPED_ROWS
    assert prepared.report["rows_rejected"] == 0
    return _read(path)


def _template(name: str) -> str:
    return name.rsplit(" #", 1)[0] if " #" in name else name


def test_customers_are_copies_of_source_customers_with_their_country(
    shaped: pd.DataFrame, source: pd.DataFrame
):
    assert shaped["CUSTOMERNAME"].nunique() == SHAPE.customers  # 30K lines, ~3.2K orders: every copy ordered
    by_customer = source.groupby("CUSTOMERNAME").first()
    copies = shaped.groupby("CUSTOMERNAME").first()
    templates = copies.index.map(_template)
    assert set(templates) == set(by_customer.index)
    for column in ("COUNTRY", "CITY", "TERRITORY", "PHONE", "CONTACTLASTNAME"):
        assert (copies[column].to_numpy() == by_customer.loc[templates, column].to_numpy()).all(), column
    # a source customer stands for one customer plus its share of the lines of the others
    per_template = templates.value_counts()
    share = source["CUSTOMERNAME"].value_counts(normalize=True)
    biggest = share.index[0]
    assert per_template[biggest] == pytest.approx(1 + share[biggest] * (SHAPE.customers - len(share)), abs=1)


def test_countries_keep_the_sample_weights(shaped: pd.DataFrame, source: pd.DataFrame):
    ours = shaped["COUNTRY"].value_counts(normalize=True)
    theirs = source["COUNTRY"].value_counts(normalize=True)
    assert set(ours.index) == set(theirs.index)
    assert (ours.reindex(theirs.index) - theirs).abs().max() < 0.04
    # and the customers too: each country has its share of the customers
    customers = shaped.groupby("COUNTRY")["CUSTOMERNAME"].nunique() / SHAPE.customers
    assert (customers.reindex(theirs.index) - theirs).abs().max() < 0.04


def test_product_codes_are_copies_of_source_codes_with_their_line_and_msrp(
    shaped: pd.DataFrame, source: pd.DataFrame
):
    assert shaped["PRODUCTCODE"].nunique() == SHAPE.products
    by_code = source.groupby("PRODUCTCODE").first()
    copies = shaped.groupby("PRODUCTCODE").agg({"PRODUCTLINE": "unique", "MSRP": "unique"})
    templates = copies.index.map(lambda code: code.rsplit("-", 1)[0] if "-" in code else code)
    assert set(templates) == set(by_code.index)
    assert all(len(lines) == 1 for lines in copies["PRODUCTLINE"])
    assert [lines[0] for lines in copies["PRODUCTLINE"]] == list(by_code.loc[templates, "PRODUCTLINE"])
    assert [m[0] for m in copies["MSRP"]] == list(by_code.loc[templates, "MSRP"])
    assert not shaped.duplicated(["ORDERNUMBER", "PRODUCTCODE"]).any()  # an order names a code once


def test_years_spread_the_dates_with_the_source_seasonality(shaped: pd.DataFrame, source: pd.DataFrame):
    dates = pd.to_datetime(shaped["ORDERDATE"], format="%m/%d/%Y %H:%M")
    source_dates = pd.to_datetime(source["ORDERDATE"], format="%m/%d/%Y %H:%M")
    last = source_dates.max()
    assert dates.max() <= last
    assert dates.min() > last - pd.DateOffset(years=SHAPE.years)
    assert dates.min() < last - pd.DateOffset(years=SHAPE.years) + pd.Timedelta(days=30)
    assert dates.dt.year.nunique() == SHAPE.years + 1  # a partial first year, the full ones, a partial last
    assert (shaped["YEAR_ID"].astype(int) == dates.dt.year).all()
    assert (shaped["MONTH_ID"].astype(int) == dates.dt.month).all()
    # seasonality: the month shares of the source's complete years (2003, 2004), within a few points (the
    # +-20-day jitter moves some of November's peak into October and December)
    full = dates[(dates.dt.year > dates.dt.year.min()) & (dates.dt.year < dates.dt.year.max())]
    complete = source_dates[source_dates.dt.year.isin([2003, 2004])]
    ours = full.dt.month.value_counts(normalize=True).sort_index()
    theirs = complete.dt.month.value_counts(normalize=True).sort_index()
    assert (ours - theirs).abs().max() < 0.06
    assert ours.idxmax() == theirs.idxmax() == 11  # November, the sample's peak


def test_the_shape_knobs_are_deterministic_and_leave_the_plain_resampling_alone(
    generated: Path, tmp_path: Path
):
    plain = generate(rows=ROWS, out=tmp_path / "plain.csv", seed=3, source=SAMPLE_CSV, shape=Shape())
    assert plain.read_bytes() == generated.read_bytes()
    one = generate(rows=2_000, out=tmp_path / "a.csv", seed=3, source=SAMPLE_CSV, shape=SHAPE)
    two = generate(rows=2_000, out=tmp_path / "b.csv", seed=3, source=SAMPLE_CSV, shape=SHAPE)
    assert one.read_bytes() == two.read_bytes()


def test_realistic_defaults_for_the_benchmark_sizes():
    ten_million = realistic_shape(10_000_000, 92, 109)
    assert ten_million.customers is not None and ten_million.customers >= 200_000
    assert ten_million.products is not None and ten_million.products >= 20_000
    assert ten_million.years is not None and ten_million.years >= 5
    assert realistic_shape(2_823, 92, 109).customers == 92  # never fewer than the source's


def test_realistic_fills_only_the_knobs_not_given(tmp_path: Path):
    path = generate(
        rows=60_000,
        out=tmp_path / "r.parquet",
        seed=1,
        source=SAMPLE_CSV,
        shape=Shape(products=150, realistic=True),
    )
    table = pq.read_table(path, columns=["CUSTOMERNAME", "PRODUCTCODE", "YEAR_ID"]).to_pandas()
    wanted = realistic_shape(60_000, 92, 109)
    assert table["CUSTOMERNAME"].nunique() == wanted.customers
    assert table["PRODUCTCODE"].nunique() == 150
    assert table["YEAR_ID"].nunique() == (wanted.years or 0) + 1


def test_knobs_below_the_source_are_refused_with_one_line(tmp_path: Path):
    with pytest.raises(InputFileError, match=r"--customers must be at least 92"):
        generate(rows=100, out=tmp_path / "x.csv", source=SAMPLE_CSV, shape=Shape(customers=10))
    with pytest.raises(InputFileError, match=r"--products must be at least 109"):
        generate(rows=100, out=tmp_path / "x.csv", source=SAMPLE_CSV, shape=Shape(products=108))
    with pytest.raises(InputFileError, match=r"--years must be between 1 and 100"):
        generate(rows=100, out=tmp_path / "x.csv", source=SAMPLE_CSV, shape=Shape(years=101))
    assert list(tmp_path.iterdir()) == []
    for args in (["--customers", "10"], ["--years", "0"], ["--products", "many"]):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "salesdash",
                "generate",
                "--rows",
                "10",
                "--out",
                str(tmp_path / "y.csv"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert len([ln for ln in result.stderr.splitlines() if "error:" in ln]) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []
