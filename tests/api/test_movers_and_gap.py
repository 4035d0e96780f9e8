"""GET /api/top-movers and GET /api/list-price-gap on every engine, against an independent pandas computation
over the bundled CSV, plus the edges: a group with no revenue a year earlier (change % null, "new"), a date
filter leaving no comparison period, lines without an MSRP, bad parameters."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.filters import Filters
from salesdash.ingest import ingest_file
from tests.api.conftest import app_for, assert_error, data_of
from tests.conftest import SAMPLE_CSV
from tests.orderlines import COLUMNS, line
from tests.reference import REVENUE

KEYS = {"customer": "CUSTOMERNAME", "country": "COUNTRY", "productline": "PRODUCTLINE"}
FIELDS = {"customer": "customer_name", "country": "country", "productline": "product_line"}


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    frame = pd.read_csv(SAMPLE_CSV, encoding="cp437", keep_default_na=False)
    frame["date"] = pd.to_datetime(frame["ORDERDATE"], format="%m/%d/%Y %H:%M")
    return frame[frame["STATUS"] != "Cancelled"]


def _pandas_movers(
    lines: pd.DataFrame, key: str, now: tuple[str, str], before: tuple[str, str]
) -> pd.DataFrame:
    def revenue(span: tuple[str, str]) -> pd.Series:
        inside = lines[(lines["date"] >= span[0]) & (lines["date"] <= span[1])]
        return inside.groupby(key)["SALES"].sum()

    both = pd.concat([revenue(now).rename("current"), revenue(before).rename("previous")], axis=1).fillna(0.0)
    both["change"] = (both["current"] - both["previous"]).round(2)
    both["size"] = both["change"].abs()
    both = both.reset_index(names="name").sort_values(["size", "name"], ascending=[False, True])
    return both.reset_index(drop=True)


@pytest.mark.parametrize("dimension", list(KEYS))
def test_top_movers_equal_pandas(sample_client: FlaskClient, lines: pd.DataFrame, dimension: str):
    response = sample_client.get(f"/api/top-movers?dimension={dimension}&limit=100")
    rows = data_of(response)
    meta = response.get_json()["meta"]
    assert meta["current_period"] == {"start": "2005-01-01", "end": "2005-05-31", "label": "Jan-May 2005"}
    assert meta["comparison_period"] == {"start": "2004-01-01", "end": "2004-05-31", "label": "Jan-May 2004"}
    expected = _pandas_movers(
        lines, KEYS[dimension], ("2005-01-01", "2005-05-31"), ("2004-01-01", "2004-05-31")
    )
    assert meta["candidates"] == len(expected)
    assert [r[FIELDS[dimension]] for r in rows] == expected["name"].tolist()[:100]
    for row, (_, want) in zip(rows, expected.iterrows(), strict=False):
        assert row["current_revenue"] == round(want["current"], 2)
        assert row["previous_revenue"] == round(want["previous"], 2)
        assert row["revenue_change"] == want["change"]
        if want["previous"] == 0:
            assert row["revenue_change_pct"] is None and row["movement"] == "new"
        else:
            assert row["revenue_change_pct"] == pytest.approx(want["change"] / want["previous"], abs=1e-6)
    if dimension == "customer":  # the sample has customers who only bought in one of the two periods
        assert {r["movement"] for r in rows} >= {"new", "lost", "up", "down"}


def test_top_movers_limit_and_filters(sample_client: FlaskClient, lines: pd.DataFrame):
    """With a date filter, the filtered range (in its last year) vs the same dates a year earlier."""
    response = sample_client.get("/api/top-movers?dimension=country&limit=3&start=2004-03-01&end=2004-10-31")
    rows = data_of(response)
    meta = response.get_json()["meta"]
    assert (meta["current_period"]["start"], meta["current_period"]["end"]) == ("2004-03-01", "2004-10-31")
    assert (meta["comparison_period"]["start"], meta["comparison_period"]["end"]) == (
        "2003-03-01",
        "2003-10-31",
    )
    expected = _pandas_movers(lines, "COUNTRY", ("2004-03-01", "2004-10-31"), ("2003-03-01", "2003-10-31"))
    assert len(rows) == 3
    assert [r["country"] for r in rows] == expected["name"].tolist()[:3]
    assert [r["revenue_change"] for r in rows] == expected["change"].tolist()[:3]
    assert [r["rank"] for r in rows] == [1, 2, 3]


def test_one_year_in_view_means_no_comparison_period(sample_client: FlaskClient):
    response = sample_client.get("/api/top-movers?start=2003-01-01&end=2003-12-31")
    assert data_of(response) == []
    meta = response.get_json()["meta"]
    assert meta["current_period"]["label"] == "2003"
    assert meta["comparison_period"] is None
    assert meta["note"].startswith("No comparison period:") and "2002" in meta["note"]
    csv_text = sample_client.get("/api/top-movers?start=2003-01-01&end=2003-12-31&format=csv").get_data(
        as_text=True
    )
    assert csv_text.splitlines() == [
        "rank,customer_name,current_revenue,previous_revenue,revenue_change,revenue_change_pct,movement"
    ]


def test_a_new_group_has_a_null_change_pct_never_infinity(fresh_engine: Engine, tmp_path: Path):
    """New Co buys only in 2005 (previous 0: null, "new"); Gone Ltd only in 2004 (-100%, "lost")."""
    rows = [
        line(1, date(2004, 1, 10), 1000.0, customer="Steady Co"),
        line(2, date(2005, 1, 10), 1500.0, customer="Steady Co"),
        line(3, date(2005, 3, 5), 800.0, customer="New Co", country="France"),
        line(4, date(2004, 3, 5), 300.0, customer="Gone Ltd", country="Spain"),
    ]
    path = tmp_path / "movers.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    ingest_file(fresh_engine, path)
    client = app_for(fresh_engine).test_client()
    got = {r["customer_name"]: r for r in data_of(client.get("/api/top-movers"))}
    assert got["New Co"]["revenue_change_pct"] is None
    assert got["New Co"]["movement"] == "new"
    assert got["Gone Ltd"]["revenue_change_pct"] == -1.0
    assert got["Gone Ltd"]["movement"] == "lost"
    assert got["Steady Co"]["revenue_change_pct"] == 0.5
    assert [r["customer_name"] for r in data_of(client.get("/api/top-movers"))] == [
        "New Co",
        "Steady Co",
        "Gone Ltd",
    ]


def test_top_movers_bad_parameters_are_400(sample_client: FlaskClient):
    assert_error(
        sample_client.get("/api/top-movers?dimension=product_code"), 400, "invalid_parameter", "dimension"
    )
    assert_error(sample_client.get("/api/top-movers?limit=101"), 400, "invalid_parameter", "limit")
    assert_error(sample_client.get("/api/top-movers?limit=ten"), 400, "invalid_parameter", "limit")


# ---- the list-price gap -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "key"), [("product_line", "PRODUCTLINE"), ("product", "PRODUCTCODE")])
def test_list_price_gap_equals_pandas(sample_client: FlaskClient, lines: pd.DataFrame, level: str, key: str):
    response = sample_client.get(f"/api/list-price-gap?level={level}")
    rows = data_of(response)
    meta = response.get_json()["meta"]
    frame = lines.assign(listed=lines["MSRP"] * lines["QUANTITYORDERED"])
    grouped = frame.groupby(key).agg(
        listed=("listed", "sum"), sales=("SALES", "sum"), units=("QUANTITYORDERED", "sum")
    )
    grouped = grouped.sort_values("sales", ascending=False)
    field = "product_line" if level == "product_line" else "product_code"
    assert [r[field] for r in rows] == grouped.index.tolist()
    for row, (_, want) in zip(rows, grouped.iterrows(), strict=True):
        assert row["list_price_revenue"] == round(float(want["listed"]), 2)
        assert row["revenue"] == round(float(want["sales"]), 2)
        assert row["units"] == int(want["units"])
        gap = round(float(want["sales"]) - float(want["listed"]), 2)
        assert row["list_price_gap"] == gap
        assert row["list_price_gap_pct"] == pytest.approx(gap / float(want["listed"]), abs=1e-6)
    assert meta["total"]["revenue"] == REVENUE  # SALES, not QUANTITYORDERED x PRICEEACH (capped at 100)
    assert meta["total"]["list_price_revenue"] == 9_801_887.0
    assert meta["total"]["list_price_gap"] == round(REVENUE - 9_801_887.0, 2)
    assert meta["lines_without_msrp"] == 0
    assert "not a profit margin" in meta["rule"].lower()
    if level == "product":
        msrp = lines.groupby("PRODUCTCODE")["MSRP"].max()
        assert {r["product_code"]: r["msrp"] for r in rows} == msrp.to_dict()


def test_list_price_gap_leaves_out_lines_without_msrp(fresh_engine: Engine, tmp_path: Path):
    rows = [
        line(1, date(2004, 2, 10), 1200.0, quantity=10) | {"MSRP": "100"},  # 1,000 at list: +200
        line(2, date(2004, 2, 11), 900.0, quantity=10, product_line="Planes") | {"MSRP": "120"},  # -300
        line(3, date(2004, 2, 12), 500.0, quantity=5, product_line="Planes") | {"MSRP": ""},  # no MSRP
    ]
    path = tmp_path / "msrp.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*COLUMNS, "MSRP"])
        writer.writeheader()
        writer.writerows(rows)
    ingest_file(fresh_engine, path)
    client = app_for(fresh_engine).test_client()
    response = client.get("/api/list-price-gap")
    got = {r["product_line"]: r for r in data_of(response)}
    meta = response.get_json()["meta"]
    assert got["Classic Cars"]["list_price_gap"] == 200.0 and got["Classic Cars"]["list_price_gap_pct"] == 0.2
    assert got["Planes"]["revenue"] == 900.0  # the line without an MSRP is on neither side
    assert got["Planes"]["list_price_gap_pct"] == -0.25
    assert meta["lines_without_msrp"] == 1 and meta["revenue_without_msrp"] == 500.0
    assert meta["total"]["list_price_gap"] == -100.0
    assert_error(client.get("/api/list-price-gap?level=customer"), 400, "invalid_parameter", "level")


def test_top_100_customers_export_chart_stays_readable(sample_client: FlaskClient, sample_engine: Engine):
    """The PNG is a fixed-size image: it draws the 20 largest of 100 customers and says so (the table has 100)."""
    from salesdash.metrics import filter_options
    from salesdash.store import snapshot
    from salesdash.views import VIEWS
    from salesdash.views.base import run_view

    with snapshot(sample_engine) as conn:
        view = run_view(conn, VIEWS["top-customers"], Filters(), {"limit": 100}, filter_options(conn))
    fig = view.figure()
    assert fig is not None and len(view.frame) == 92
    assert len(fig.data[0].y) == 20
    assert "The 20 largest of the 92 customers" in fig.layout.annotations[-1].text
    with snapshot(sample_engine) as conn:
        ten = run_view(conn, VIEWS["top-customers"], Filters(), {}, filter_options(conn)).figure()
    assert ten is not None and len(ten.data[0].y) == 10 and not ten.layout.annotations
