"""The territory, productcode and several-customer filters on every engine, against pandas on the CSV.

Each case is a query string and the same selection written in pandas over the bundled CSV (independently of
salesdash): the API's KPIs, its revenue per product line and its order-line count must be those numbers exactly,
whether the rollups answer (territory is a key of every rollup) or the order lines do (product codes are not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.filters import Filters
from salesdash.metrics import kpis
from salesdash.metrics.rollups import choose_plan, raw_queries
from salesdash.store import snapshot
from tests.api.conftest import assert_error
from tests.conftest import SAMPLE_CSV

Selection = Callable[[pd.DataFrame], "pd.Series[bool]"]


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    frame = pd.read_csv(SAMPLE_CSV, encoding="cp437", keep_default_na=False)  # keep territory "NA" as text
    frame["cents"] = (frame["SALES"] * 100).round().astype("int64")
    frame["date"] = pd.to_datetime(frame["ORDERDATE"], format="%m/%d/%Y %H:%M")
    return frame


def _not_cancelled(d: pd.DataFrame) -> pd.Series[bool]:
    return d["STATUS"] != "Cancelled"


CASES: list[tuple[str, Selection]] = [
    ("territory=NA", lambda d: d["TERRITORY"] == "NA"),
    ("territory=EMEA,Japan", lambda d: d["TERRITORY"].isin(["EMEA", "Japan"])),
    ("territory=APAC&territory=japan", lambda d: d["TERRITORY"].isin(["APAC", "Japan"])),
    # Singapore's orders are in two territories: a territory is not a country's
    (
        "territory=Japan&country=Singapore",
        lambda d: (d["TERRITORY"] == "Japan") & (d["COUNTRY"] == "Singapore"),
    ),
    (
        "territory=EMEA&productline=Classic Cars,Vintage Cars&dealsize=Medium&start=2004-02-15",
        lambda d: (
            (d["TERRITORY"] == "EMEA")
            & d["PRODUCTLINE"].isin(["Classic Cars", "Vintage Cars"])
            & (d["DEALSIZE"] == "Medium")
            & (d["date"] >= "2004-02-15")
        ),
    ),
    ("productcode=S10_1678", lambda d: d["PRODUCTCODE"] == "S10_1678"),
    (
        "productcode=S18_3232,s10_1949&country=USA",
        lambda d: d["PRODUCTCODE"].isin(["S18_3232", "S10_1949"]) & (d["COUNTRY"] == "USA"),
    ),
    (
        "productcode=S18_3232&territory=EMEA&end=2004-06-30",
        lambda d: (d["PRODUCTCODE"] == "S18_3232") & (d["TERRITORY"] == "EMEA") & (d["date"] <= "2004-06-30"),
    ),
    # a name with a comma is one customer: commas do not separate customers
    ("customer=Australian Collectors, Co.", lambda d: d["CUSTOMERNAME"] == "Australian Collectors, Co."),
    (
        "customer=Euro Shopping Channel&customer=mini gifts distributors ltd.",
        lambda d: d["CUSTOMERNAME"].isin(["Euro Shopping Channel", "Mini Gifts Distributors Ltd."]),
    ),
    (
        "customer=Euro Shopping Channel&customer=Toys of Finland, Co.&productline=Planes",
        lambda d: (
            d["CUSTOMERNAME"].isin(["Euro Shopping Channel", "Toys of Finland, Co."])
            & (d["PRODUCTLINE"] == "Planes")
        ),
    ),
]


def _expected(lines: pd.DataFrame, selection: Selection) -> dict[str, Any]:
    d = lines[selection(lines) & _not_cancelled(lines)]
    assert not d.empty  # every case selects something
    return {
        "revenue": int(d["cents"].sum()) / 100,
        "order_count": d["ORDERNUMBER"].nunique(),
        "line_count": len(d),
        "units": int(d["QUANTITYORDERED"].sum()),
        "customer_count": d["CUSTOMERNAME"].nunique(),
        "country_count": d["COUNTRY"].nunique(),
        "by_line": {k: int(v) / 100 for k, v in d.groupby("PRODUCTLINE")["cents"].sum().items()},
        "orders_by_line": {k: int(v) for k, v in d.groupby("PRODUCTLINE")["ORDERNUMBER"].nunique().items()},
    }


def data_of(response: Any) -> Any:
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


@pytest.mark.parametrize(("query", "selection"), CASES, ids=[q for q, _ in CASES])
def test_new_filters_give_the_pandas_figures(
    sample_client: FlaskClient, lines: pd.DataFrame, query: str, selection: Selection
):
    expected = _expected(lines, selection)
    k = data_of(sample_client.get(f"/api/kpis?{query}"))
    assert {m: k[m] for m in ("revenue", "order_count", "line_count", "units", "customer_count")} == {
        m: expected[m] for m in ("revenue", "order_count", "line_count", "units", "customer_count")
    }
    assert k["country_count"] == expected["country_count"]
    rows = data_of(sample_client.get(f"/api/sales-by-category?{query}"))
    assert {r["product_line"]: r["revenue"] for r in rows} == expected["by_line"]
    assert {r["product_line"]: r["order_count"] for r in rows} == expected["orders_by_line"]
    orders = sample_client.get(f"/api/orders?{query}&limit=1").get_json()
    assert orders["meta"]["total"] == expected["line_count"]


def test_meta_filters_and_the_cache_key_carry_the_new_filters(
    sample_client: FlaskClient, lines: pd.DataFrame
):
    named = sample_client.get("/api/kpis?territory=North America&productcode=s10_1678,S18_3232").get_json()
    assert named["meta"]["filters"]["territory"] == ["NA"]  # the readable name, as stored
    assert named["meta"]["filters"]["productcode"] == ["S10_1678", "S18_3232"]
    customers = sample_client.get(
        "/api/kpis?customer=Toys of Finland, Co.&customer=AV Stores, Co."
    ).get_json()
    assert customers["meta"]["filters"]["customer"] == ["AV Stores, Co.", "Toys of Finland, Co."]
    assert customers["data"]["customer_count"] == 2
    # one app, one cache: each territory gets its own answer (the filters are in the cache key)
    revenue = {
        code: data_of(sample_client.get(f"/api/kpis?territory={code}"))["revenue"]
        for code in ("NA", "EMEA", "APAC", "Japan")
    }
    expected = lines[_not_cancelled(lines)].groupby("TERRITORY")["cents"].sum()
    assert revenue == {code: int(expected[code]) / 100 for code in revenue}
    assert data_of(sample_client.get("/api/kpis?territory=na"))["revenue"] == revenue["NA"]


BAD = [
    ("territory=Atlantis", "territory", None),
    ("territory=Nort America", "territory", "North America"),
    ("territory=EMAE", "territory", "EMEA"),
    ("productcode=S10_16788", "productcode", "S10_1678"),
    ("productcode=S10_1678,X99", "productcode", None),
    ("customer=Australian Collectors", "customer", "Australian Collectors, Co."),
    # before, a comma list of customers was one (unknown) name; it still is, with the names it resembles
    ("customer=Euro Shopping Channel,Mini Gifts Distributors Ltd.", "customer", None),
]


@pytest.mark.parametrize(("query", "parameter", "close"), BAD, ids=[q for q, _, _ in BAD])
def test_unknown_values_are_a_400_naming_the_parameter_with_close_matches(
    sample_client: FlaskClient, query: str, parameter: str, close: str | None
):
    error = assert_error(sample_client.get(f"/api/kpis?{query}"), 400, "invalid_parameter", parameter)
    detail = next(d for d in error["details"] if d["parameter"] == parameter)
    assert detail["message"] == "not in the data"
    if close is not None:
        assert close in detail["did_you_mean"]
    if parameter in ("productcode", "customer"):  # too many to list: the message names the finder
        assert ("/api/product-codes?q=" if parameter == "productcode" else "/api/customers?q=") in error[
            "message"
        ]


def test_several_unknown_customers_are_each_named(sample_client: FlaskClient):
    error = assert_error(
        sample_client.get("/api/kpis?customer=Nobody Inc&customer=Euro Shoping Channel"), 400
    )
    assert [d["value"] for d in error["details"]] == ["Euro Shoping Channel", "Nobody Inc"]
    assert "Euro Shopping Channel" in error["details"][0]["did_you_mean"]


def test_product_codes_are_found_as_people_type(sample_client: FlaskClient, lines: pd.DataFrame):
    codes = sorted(lines["PRODUCTCODE"].unique())
    first = sample_client.get("/api/product-codes?q=s10&limit=3").get_json()
    assert [r["product_code"] for r in first["data"]] == [c for c in codes if c.startswith("S10")][:3]
    assert first["meta"]["total"] == sum(c.startswith("S10") for c in codes)
    inside = data_of(sample_client.get("/api/product-codes?q=_1678"))
    assert [r["product_code"] for r in inside] == [c for c in codes if "_1678" in c]
    options = data_of(sample_client.get("/api/filters"))
    assert "product_codes" not in options and options["product_code_count"] == len(codes) == 109
    assert options["territories"] == ["APAC", "EMEA", "Japan", "NA"]
    for bad in ("limit=51", "limit=0", "q=" + "x" * 201, "colour=red"):
        assert sample_client.get(f"/api/product-codes?{bad}").status_code == 400


def test_rollups_answer_territories_and_order_lines_answer_product_codes(sample_engine: Engine):
    territory = Filters(territories=("EMEA", "NA"), product_lines=("Planes",))
    code = Filters(product_codes=("S10_1678",), territories=("EMEA",))
    with snapshot(sample_engine) as conn:
        assert choose_plan(conn, territory) is not None  # a key of every rollup
        assert choose_plan(conn, code) is None  # no rollup is keyed by product code: the order lines answer
        rolled = kpis(conn, territory), kpis(conn, code)
        with raw_queries():
            assert (kpis(conn, territory), kpis(conn, code)) == rolled
