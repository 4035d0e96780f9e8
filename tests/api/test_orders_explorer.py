"""The orders explorer's API on every engine: sort on every column with a stable tie-break (pages cover every
line exactly once, in the order pandas gives), the search (`q`, with literal % and _), one order's detail, 404
and 400s. Hand-made lines (tests/orderlines.py) with many ties; the bundled data for the detail."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.ingest import ingest_file
from salesdash.metrics.queries import ORDER_SORT_COLUMNS
from tests.api.conftest import app_for, assert_error, data_of
from tests.orderlines import line, write_csv

# Names and codes that differ in their first letter, so every collation (C, en_US, DuckDB's) sorts them alike.
CUSTOMERS = ("Alpha 100% Co", "Bravo 1000 Co", "Charlie_Toys", "Delta eXTra")
CODES = ("S10_1949", "T10X1949", "U24_2000")
CSV_NAMES = {
    "order_number": "ORDERNUMBER",
    "order_line_number": "ORDERLINENUMBER",
    "quantity_ordered": "QUANTITYORDERED",
    "price_each": "PRICEEACH",
    "sales": "SALES",
    "status": "STATUS",
    "product_line": "PRODUCTLINE",
    "product_code": "PRODUCTCODE",
    "customer_name": "CUSTOMERNAME",
    "country": "COUNTRY",
    "deal_size": "DEALSIZE",
}


def _lines() -> list[dict[str, Any]]:
    """17 lines of 9 orders: repeated dates, sales, quantities, customers and codes (ties on every column)."""
    rows = []
    days = (date(2004, 1, 5), date(2004, 1, 5), date(2004, 2, 9), date(2004, 3, 1))
    statuses = ("Shipped", "Shipped", "On Hold", "Resolved")
    for i in range(9):
        order = 20100 + i * 7  # not in date order
        for n in range(1, 2 + i % 3 + 1 if i % 2 else 2):
            row = line(
                order,
                days[i % 4],
                (1500.0, 3600.0, 1500.0, 7200.5)[(i + n) % 4],
                customer=CUSTOMERS[i % 4],
                country=("USA", "France", "Spain")[i % 3],
                line_number=n,
                status=statuses[i % 4],
                product_line=("Classic Cars", "Motorcycles")[n % 2],
                quantity=(10, 20, 10)[n % 3],
            )
            row["PRODUCTCODE"] = CODES[(i + n) % 3]
            rows.append(row)
    return rows


@pytest.fixture
def explorer(fresh_engine: Engine, tmp_path: Path) -> tuple[FlaskClient, pd.DataFrame]:
    rows = _lines()
    ingest_file(fresh_engine, write_csv(tmp_path / "explorer.csv", rows))
    expected = pd.DataFrame(rows).rename(columns={v: k for k, v in CSV_NAMES.items()})
    expected["order_date"] = [
        date(2004, int(m), int(d)).isoformat()
        for m, d, _ in (r["ORDERDATE"].split()[0].split("/") for r in rows)
    ]
    return app_for(fresh_engine).test_client(), expected


def _every_page(client: FlaskClient, query: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    lines: list[dict[str, Any]] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        body = client.get(f"/api/orders?limit={limit}&offset={offset}&{query}").get_json()
        lines.extend(body["data"])
        offset = body["meta"]["next_offset"]
        pages += 1
        assert pages < 100
    return lines, body["meta"]["total"]


@pytest.mark.parametrize("sort", ORDER_SORT_COLUMNS)
def test_every_column_sorts_both_ways_and_pages_cover_every_line_once(
    explorer: tuple[FlaskClient, pd.DataFrame], sort: str
):
    client, expected = explorer
    for order in ("asc", "desc"):
        got, total = _every_page(client, f"sort={sort}&order={order}", limit=4)
        keys = [(r["order_number"], r["order_line_number"]) for r in got]
        assert total == len(expected) == len(got) == len(set(keys))  # no line twice, none dropped
        # pandas: the column in the order asked, ties by (order number, line number) ascending
        tie_break = [c for c in ("order_number", "order_line_number") if c != sort]
        chosen = expected.sort_values(
            [sort, *tie_break], ascending=[order == "asc", *(True for _ in tie_break)], kind="stable"
        )
        assert keys == list(zip(chosen["order_number"], chosen["order_line_number"], strict=True)), order


@pytest.mark.parametrize(
    ("q", "customers", "codes"),
    [
        ("100%", {"Alpha 100% Co"}, None),  # % is literal: "Bravo 1000 Co" does not match
        ("e_t", {"Charlie_Toys"}, None),  # _ is literal: "Delta eXTra" does not match
        ("CHARLIE", {"Charlie_Toys"}, None),  # any case
        ("10_1", None, {"S10_1949"}),  # a product code, _ literal ("T10X1949" does not match)
    ],
)
def test_search_matches_literally_and_in_any_case(
    explorer: tuple[FlaskClient, pd.DataFrame], q: str, customers: set[str] | None, codes: set[str] | None
):
    client, expected = explorer
    got, total = _every_page(client, f"q={q.replace('%', '%25')}", limit=1000)
    column, wanted = ("customer_name", customers) if customers else ("product_code", codes)
    assert {r[column] for r in got} == wanted
    assert total == len(got) == int(expected[column].isin(wanted or set()).sum())


def test_search_by_order_number_and_with_filters(explorer: tuple[FlaskClient, pd.DataFrame]):
    client, expected = explorer
    got, total = _every_page(client, "q=20114", limit=1000)
    assert {r["order_number"] for r in got} == {20114}
    assert total == int((expected["order_number"] == 20114).sum())
    both, _ = _every_page(client, "q=Co&country=USA", limit=1000)
    mask = expected["customer_name"].str.lower().str.contains("co") & (expected["country"] == "USA")
    assert len(both) == int(mask.sum()) and {r["country"] for r in both} == {"USA"}
    nothing = client.get("/api/orders?q=nobody at all").get_json()
    assert (nothing["data"], nothing["meta"]["total"], nothing["meta"]["q"]) == ([], 0, "nobody at all")


def test_search_and_sort_reach_the_csv(explorer: tuple[FlaskClient, pd.DataFrame]):
    client, _ = explorer
    text = client.get("/api/orders?q=charlie&format=csv&sort=sales&order=desc").get_data(as_text=True)
    rows = text.strip().splitlines()[1:]
    assert rows and all("Charlie_Toys" in r for r in rows)


def test_order_detail(explorer: tuple[FlaskClient, pd.DataFrame]):
    client, expected = explorer
    mine = expected[expected["order_number"] == 20107].sort_values("order_line_number")
    response = client.get("/api/orders/20107")
    data = data_of(response)
    assert data["order_number"] == 20107
    assert [r["order_line_number"] for r in data["lines"]] == list(mine["order_line_number"])
    assert data["totals"] == {
        "sales": round(float(mine["sales"].sum()), 2),
        "line_count": len(mine),
        "units": int(mine["quantity_ordered"].sum()),
    }
    assert (data["customer_name"], data["status"], data["order_date"]) == (
        mine["customer_name"].iloc[0],
        mine["status"].iloc[0],
        mine["order_date"].iloc[0],
    )
    assert data["in_revenue"] is True
    assert response.get_json()["meta"]["data_version"]


def test_a_cancelled_order_is_shown_and_said_not_to_count(sample_client: FlaskClient):
    cancelled = data_of(sample_client.get("/api/orders?status=Cancelled&limit=1"))[0]["order_number"]
    data = data_of(sample_client.get(f"/api/orders/{cancelled}"))
    assert data["status"] == "Cancelled" and data["in_revenue"] is False
    total = sample_client.get(f"/api/orders?status=Cancelled&q={cancelled}").get_json()["meta"]["total"]
    assert data["totals"]["line_count"] == len(data["lines"]) == total


def test_an_unknown_order_is_one_404(sample_client: FlaskClient):
    error = assert_error(sample_client.get("/api/orders/99999999"), 404, code="not_found")
    assert "99999999" in error["message"]


@pytest.mark.parametrize("path", ["/api/orders/abc", "/api/orders/-5", "/api/orders/0", "/api/orders/1e5"])
def test_a_bad_order_number_is_one_400(sample_client: FlaskClient, path: str):
    assert_error(sample_client.get(path), 400, parameter="ordernumber")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("q=" + "x" * 101, "q"),
        ("sort=order_date;drop", "sort"),
        ("offset=1000001", "offset"),
        ("order=up", "order"),
    ],
)
def test_bad_explorer_params_are_one_400(sample_client: FlaskClient, query: str, parameter: str):
    assert_error(sample_client.get(f"/api/orders?{query}"), 400, parameter=parameter)


def test_the_detail_refuses_unknown_parameters(sample_client: FlaskClient):
    assert_error(sample_client.get("/api/orders/10107?sort=sales"), 400)


def test_several_customers_at_once(sample_client: FlaskClient):
    names = ["Australian Collectors, Co.", "Euro Shopping Channel"]
    both = sample_client.get("/api/kpis", query_string=[("customer", n) for n in names])
    data = data_of(both)
    assert data["customer_count"] == 2
    assert sorted(both.get_json()["meta"]["filters"]["customer"]) == names
    one = [data_of(sample_client.get("/api/kpis", query_string={"customer": n}))["revenue"] for n in names]
    assert data["revenue"] == pytest.approx(sum(one), abs=0.005)


def test_the_export_of_orders_takes_the_search_and_the_order(explorer: tuple[FlaskClient, pd.DataFrame]):
    client, expected = explorer
    response = client.get("/api/export?view=orders&format=csv&q=charlie&sort=sales&order=desc")
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    wanted = expected[expected["customer_name"] == "Charlie_Toys"]
    assert len(rows) == len(wanted) and {r["customer_name"] for r in rows} == {"Charlie_Toys"}
    sales = [float(r["sales"]) for r in rows]
    assert sales == sorted(sales, reverse=True)
    assert_error(client.get("/api/export?view=orders&format=csv&q=" + "x" * 101), 400, parameter="q")
