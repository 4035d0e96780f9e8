"""Every data endpoint over the bundled sample, on every engine: the reference figures, the envelope, and
agreement with the metric layer (the API must add nothing to and lose nothing from what it computes)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.geo import iso3
from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, breakdown, filter_options, kpis, order_line_page, over_time
from salesdash.store import current_version, snapshot
from tests.api.conftest import app_for, assert_error, data_of
from tests.orderlines import COLUMNS, line
from tests.reference import AVERAGE_ORDER_VALUE, COUNTRIES, CUSTOMERS, ORDERS, PRODUCT_LINES, REVENUE

TABULAR = [
    "/api/sales-over-time",
    "/api/sales-by-category",
    "/api/product-performance",
    "/api/sales-by-country",
    "/api/top-customers",
    "/api/monthly-trends",
    "/api/quarterly-analysis",
    "/api/heatmap",
    "/api/status-distribution",
    "/api/deal-sizes",
    "/api/orders",
]
DATA_ENDPOINTS = ["/api/kpis", "/api/filters", *TABULAR]


def test_kpis_reference_figures(sample_client: FlaskClient, sample_engine: Engine):
    response = sample_client.get("/api/kpis")
    data = data_of(response)
    assert data["revenue"] == REVENUE
    assert data["order_count"] == ORDERS
    assert data["average_order_value"] == AVERAGE_ORDER_VALUE
    assert data["customer_count"] == CUSTOMERS
    assert data["country_count"] == COUNTRIES
    assert data["product_line_count"] == PRODUCT_LINES
    assert data["date_range"] == {"start": "2003-01-06", "end": "2005-05-31"}
    with snapshot(sample_engine) as conn:
        expected = kpis(conn, Filters())
    assert {k: data[k] for k in expected} == expected
    meta = response.get_json()["meta"]
    assert meta["data_version"] == current_version(sample_engine).version
    assert meta["filters"] == Filters().to_params()
    assert "definitions" not in meta  # only when asked: answers stay small
    assert meta["generated_at"].endswith("Z")
    asked = sample_client.get("/api/kpis?definitions=true")
    assert data_of(asked) == data
    assert set(asked.get_json()["meta"]["definitions"]) >= {
        "revenue",
        "order_count",
        "average_order_value",
        "customer_count",
    }
    assert asked.headers["ETag"] != response.headers["ETag"]  # another body, another validator


def test_definitions_on_request_and_in_one_place(sample_client: FlaskClient):
    from salesdash.metrics import definitions
    from salesdash.metrics.rfm import DEFINITIONS as RFM_DEFINITIONS

    every = data_of(sample_client.get("/api/definitions"))
    assert every == {"metrics": definitions(), "rfm": RFM_DEFINITIONS}
    plain = sample_client.get("/api/sales-by-category")
    asked = sample_client.get("/api/sales-by-category?definitions=1")
    assert len(plain.data) < len(asked.data)
    defs = asked.get_json()["meta"]["definitions"]
    assert defs and all(every["metrics"][name] == text for name, text in defs.items())
    for off in ("false", "0", "no"):
        assert (
            "definitions"
            not in sample_client.get(f"/api/sales-by-category?definitions={off}").get_json()["meta"]
        )
    bad = sample_client.get("/api/kpis?definitions=maybe")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["code"] == "invalid_parameter"
    assert sample_client.get("/api/filters?definitions=true").status_code == 400  # no metrics, no parameter


def test_kpis_growth_is_labelled_and_like_for_like(sample_client: FlaskClient):
    growth = data_of(sample_client.get("/api/kpis?detail=full"))["growth"]
    mom, yoy = growth["month_over_month"], growth["year_over_year"]
    assert mom["label"] == "May 2005 vs Apr 2005"
    assert yoy["label"] == "Jan-May 2005 vs Jan-May 2004"
    jan_may_2004 = data_of(sample_client.get("/api/kpis?start=2004-01-01&end=2004-05-31"))["revenue"]
    assert yoy["metrics"]["revenue"]["previous"] == jan_may_2004
    revenue = yoy["metrics"]["revenue"]
    assert revenue["change_pct"] == round((revenue["current"] - revenue["previous"]) / revenue["previous"], 6)


def test_kpis_status_distribution_shows_every_status(sample_client: FlaskClient):
    response = sample_client.get("/api/kpis?detail=full")
    rows = {r["status"]: r for r in data_of(response)["status_distribution"]}
    assert rows["Cancelled"]["order_count"] == 4
    assert sum(r["line_count"] for r in rows.values()) == 2823
    assert "Cancelled" in response.get_json()["meta"]["status_distribution_note"]
    shipped_only = data_of(sample_client.get("/api/kpis?status=Shipped&detail=full"))["status_distribution"]
    assert [r["status"] for r in shipped_only] == ["Shipped"]


@pytest.mark.parametrize(
    ("period", "grain", "first_label"),
    [
        ("daily", "day", "2003-01-01"),  # the data set's calendar starts on the first of its first month
        ("weekly", "week", "2003-W01"),
        ("monthly", "month", "2003-01"),
        ("quarterly", "quarter", "2003-Q1"),
        ("yearly", "year", "2003"),
    ],
)
def test_sales_over_time_every_period(
    sample_client: FlaskClient, sample_engine: Engine, period: str, grain: str, first_label: str
):
    response = sample_client.get(f"/api/sales-over-time?period={period}")
    rows = data_of(response)
    with snapshot(sample_engine) as conn:
        expected = over_time(conn, Filters(), grain)
    # the periods with order lines as the metric layer groups them; every other period of the range is zero
    with_lines = [r for r in rows if r["line_count"]]
    assert [r["period"] for r in with_lines] == list(expected["period"])
    assert [r["revenue"] for r in with_lines] == list(expected["revenue"])
    assert all(r["revenue"] == 0 and r["order_count"] == 0 for r in rows if not r["line_count"])
    assert rows[0]["period"] == first_label
    assert round(sum(r["revenue"] for r in rows), 2) == REVENUE
    assert response.get_json()["meta"]["period"] == period


def test_sales_over_time_defaults_to_monthly_and_yearly_reference(sample_client: FlaskClient):
    monthly = data_of(sample_client.get("/api/sales-over-time"))
    assert len(monthly) == 29 and monthly[0]["period"] == "2003-01"
    years = {
        r["period"]: r["revenue"] for r in data_of(sample_client.get("/api/sales-over-time?period=yearly"))
    }
    assert years["2004"] == 4578386.04
    assert round(sum(years.values()), 2) == REVENUE


def test_sales_by_category(sample_client: FlaskClient, sample_engine: Engine):
    rows = data_of(sample_client.get("/api/sales-by-category"))
    by_line = {r["product_line"]: r for r in rows}
    assert len(rows) == PRODUCT_LINES
    assert by_line["Classic Cars"]["revenue"] == 3860372.85
    assert rows[0]["product_line"] == "Classic Cars"  # highest revenue first
    assert round(sum(r["revenue_share"] for r in rows), 4) == 1.0
    with snapshot(sample_engine) as conn:
        expected = breakdown(conn, Filters(), "product_line")
    assert [r["units"] for r in rows] == list(expected["units"])


def test_product_performance_levels(sample_client: FlaskClient, sample_engine: Engine):
    lines = data_of(sample_client.get("/api/product-performance"))
    assert {"units", "average_unit_price", "order_count", "country_count", "rank"} <= set(lines[0])
    assert [r["rank"] for r in lines] == list(range(1, 8))
    products = data_of(sample_client.get("/api/product-performance?level=product&sort=units&limit=5"))
    with snapshot(sample_engine) as conn:
        expected = breakdown(conn, Filters(), "product_code", limit=5, sort="units")
    assert [r["product_code"] for r in products] == list(expected["product_code"])
    assert [r["units"] for r in products] == sorted((r["units"] for r in products), reverse=True)
    ascending = data_of(sample_client.get("/api/product-performance?order=asc"))
    assert [r["revenue"] for r in ascending] == sorted(r["revenue"] for r in lines)


def test_sales_by_country_has_iso3(sample_client: FlaskClient):
    rows = data_of(sample_client.get("/api/sales-by-country"))
    assert len(rows) == COUNTRIES
    codes = {r["country"]: r["iso3"] for r in rows}
    assert codes["USA"] == "USA" and codes["UK"] == "GBR" and codes["France"] == "FRA"
    assert all(r["iso3"] == iso3(r["country"]) for r in rows)
    assert round(sum(r["revenue"] for r in rows), 2) == REVENUE


def test_top_customers(sample_client: FlaskClient):
    rows = data_of(sample_client.get("/api/top-customers"))
    assert len(rows) == 10
    assert rows[0]["customer_name"] == "Euro Shopping Channel"
    assert rows[0]["revenue"] == 862283.46
    assert [r["rank"] for r in rows] == list(range(1, 11))
    assert rows[0]["revenue_share"] == round(862283.46 / REVENUE, 6)
    assert len(data_of(sample_client.get("/api/top-customers?limit=100"))) == CUSTOMERS
    assert len(data_of(sample_client.get("/api/top-customers?limit=1"))) == 1


def test_monthly_trends_changes(sample_client: FlaskClient):
    rows = data_of(sample_client.get("/api/monthly-trends"))
    by_period = {r["period"]: r for r in rows}
    may05, apr05, may04 = by_period["2005-05"], by_period["2005-04"], by_period["2004-05"]
    assert may05["revenue_change"] == round(may05["revenue"] - apr05["revenue"], 2)
    assert may05["revenue_change_pct"] == round((may05["revenue"] - apr05["revenue"]) / apr05["revenue"], 6)
    assert may05["revenue_yoy_change_pct"] == round(
        (may05["revenue"] - may04["revenue"]) / may04["revenue"], 6
    )
    assert rows[0]["revenue_change"] is None and rows[0]["revenue_yoy_change"] is None
    assert all(r["complete"] for r in rows)


def test_quarterly_analysis_flags_the_partial_quarter(sample_client: FlaskClient):
    rows = data_of(sample_client.get("/api/quarterly-analysis"))
    assert [r["period"] for r in rows][-2:] == ["2005-Q1", "2005-Q2"]
    assert rows[-1]["complete"] is False  # April-May 2005 only
    assert all(r["complete"] for r in rows[:-1])
    assert round(sum(r["revenue"] for r in rows), 2) == REVENUE
    q1_05 = rows[-2]
    q1_04 = next(r for r in rows if r["period"] == "2004-Q1")
    assert q1_05["revenue_yoy_change"] == round(q1_05["revenue"] - q1_04["revenue"], 2)


def test_heatmap_months_without_data_are_null(sample_client: FlaskClient, sample_engine: Engine):
    response = sample_client.get("/api/heatmap")
    rows = data_of(response)
    assert [r["month"] for r in rows] == list(range(1, 13))
    assert response.get_json()["meta"]["years"] == [2003, 2004, 2005]
    june = rows[5]
    assert june["month_name"] == "June"
    assert june["2005"] is None  # the sample ends in May 2005: null, not 0
    assert all(rows[m]["2005"] is None for m in range(5, 12))
    assert all(isinstance(rows[m]["2005"], float) for m in range(5))
    with snapshot(sample_engine) as conn:
        expected = over_time(conn, Filters(), "month")
    nov_2004 = expected.loc[expected["period"] == "2004-11", "revenue"].item()
    assert rows[10]["2004"] == nov_2004
    orders = data_of(sample_client.get("/api/heatmap?metric=order_count"))
    assert isinstance(orders[0]["2003"], float | int)


def test_heatmap_months_in_view_without_orders_are_0(sample_client: FlaskClient):
    rows = data_of(sample_client.get("/api/heatmap?country=Ireland"))
    in_view = [rows[m][y] for y in ("2003", "2004") for m in range(12)] + [rows[m]["2005"] for m in range(5)]
    assert all(isinstance(v, float | int) for v in in_view)  # every month the data covers has a number
    assert 0 in in_view  # Ireland does not order every month: those months are 0, not blank
    assert all(rows[m]["2005"] is None for m in range(5, 12))  # after the data ends: nothing to count
    countries = {r["country"]: r for r in data_of(sample_client.get("/api/sales-by-country"))}
    assert round(sum(in_view), 2) == countries["Ireland"]["revenue"]


def test_monthly_trends_lists_every_month_in_view(sample_client: FlaskClient):
    response = sample_client.get("/api/monthly-trends?country=Ireland")
    rows = data_of(response)
    assert len(rows) == 29  # Jan 2003 - May 2005, with or without Irish orders
    assert any(r["revenue"] == 0 and r["order_count"] == 0 for r in rows)
    assert all(r["period_end"] >= r["period_start"] for r in rows)
    assert response.get_json()["meta"]["partial_periods"] == []


def test_status_distribution_all_statuses_by_default(sample_client: FlaskClient):
    response = sample_client.get("/api/status-distribution")
    rows = {r["status"]: r for r in data_of(response)}
    meta = response.get_json()["meta"]
    assert set(rows) == {"Shipped", "Cancelled", "Resolved", "On Hold", "In Process", "Disputed"}
    assert rows["Cancelled"]["order_count"] == 4
    assert sum(r["line_count"] for r in rows.values()) == 2823
    assert meta["all_statuses"] is True and "Cancelled" in meta["note"]
    assert "Cancelled" in meta["filters"]["status"]
    chosen = sample_client.get("/api/status-distribution?status=Shipped,Resolved")
    assert {r["status"] for r in data_of(chosen)} == {"Shipped", "Resolved"}
    assert chosen.get_json()["meta"]["all_statuses"] is False


def test_deal_sizes_in_size_order(sample_client: FlaskClient):
    rows = data_of(sample_client.get("/api/deal-sizes"))
    assert [r["deal_size"] for r in rows] == ["Small", "Medium", "Large"]
    assert round(sum(r["revenue"] for r in rows), 2) == REVENUE


def test_filters_lists_values(sample_client: FlaskClient, sample_engine: Engine):
    data = data_of(sample_client.get("/api/filters"))
    with snapshot(sample_engine) as conn:
        expected = filter_options(conn)
    for key in ("countries", "product_lines", "statuses", "deal_sizes", "date_range"):
        assert data[key] == expected[key]
    assert "customers" not in data  # megabytes at realistic sizes: GET /api/customers?q=... finds them
    assert data["customer_count"] == len(expected["customers"]) == 92
    assert "Cancelled" in data["statuses"] and "Cancelled" not in data["default_statuses"]
    assert data["periods"] == ["daily", "weekly", "monthly", "quarterly", "yearly"]


def test_filters_follow_a_new_load(fresh_engine: Engine, tmp_path: Path):
    """/api/filters is made from the values the version's requests check their filters against: after a new
    load the same app lists the new load's values, not the first one's."""
    client = app_for(fresh_engine).test_client()
    first = [
        line(1, date(2004, 1, 10), 100.0, customer="A Co"),
        line(2, date(2004, 2, 1), 200.0, customer="B Co"),
    ]
    second = [*first, line(3, date(2005, 3, 5), 300.0, customer="C SA", country="France")]
    for n, rows in enumerate((first, second)):
        path = tmp_path / f"load{n}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        ingest_file(fresh_engine, path)
        data = data_of(client.get("/api/filters"))
        assert data["customer_count"] == len(rows)
        assert data["countries"] == sorted({r["COUNTRY"] for r in rows})
        assert data["date_range"]["end"] == ("2004-02-01" if n == 0 else "2005-03-05")


def test_customer_search_finds_names_as_typed(sample_client: FlaskClient, sample_engine: Engine):
    with snapshot(sample_engine) as conn:
        names = filter_options(conn)["customers"]
    response = sample_client.get("/api/customers?q=mini&limit=50")
    found = [r["customer_name"] for r in data_of(response)]
    starting = sorted((n for n in names if n.casefold().startswith("mini")), key=str.casefold)
    containing = sorted(
        (n for n in names if "mini" in n.casefold() and not n.casefold().startswith("mini")), key=str.casefold
    )
    assert starting and containing  # the sample has both kinds
    assert found == starting + containing
    assert response.get_json()["meta"] == response.get_json()["meta"] | {"q": "mini", "total": len(found)}
    first = data_of(sample_client.get("/api/customers?q=MINI&limit=1"))
    assert [r["customer_name"] for r in first] == starting[:1]
    everyone = sample_client.get("/api/customers?limit=50").get_json()
    assert everyone["meta"]["total"] == 92 and everyone["meta"]["returned"] == 50
    assert data_of(sample_client.get("/api/customers?q=zzzz-nobody")) == []
    # every name it gives is a value the customer filter takes
    name = found[0]
    assert (
        data_of(sample_client.get("/api/kpis", query_string={"customer": name.upper()}))["customer_count"]
        == 1
    )
    for bad in ("limit=51", "limit=0", "q=" + "x" * 201):
        assert sample_client.get(f"/api/customers?{bad}").status_code == 400


def test_an_unknown_customer_gets_close_matches(sample_client: FlaskClient):
    response = sample_client.get("/api/kpis?customer=Mini Gifts Distributor")
    assert response.status_code == 400
    detail = response.get_json()["error"]["details"][0]
    assert detail["parameter"] == "customer"
    assert "Mini Gifts Distributors Ltd." in detail["did_you_mean"]


def test_orders_pagination_and_sort(sample_client: FlaskClient, sample_engine: Engine):
    first = sample_client.get("/api/orders?limit=50")
    meta = first.get_json()["meta"]
    rows = data_of(first)
    assert meta["total"] == 2763  # every line except the Cancelled ones
    assert (meta["limit"], meta["offset"], meta["returned"], meta["next_offset"]) == (50, 0, 50, 50)
    assert rows[0]["order_date"] == "2003-01-06"
    second = data_of(sample_client.get("/api/orders?limit=50&offset=50"))
    assert second[0] != rows[0]
    last = sample_client.get("/api/orders?limit=1000&offset=2000")
    assert last.get_json()["meta"]["next_offset"] is None
    assert last.get_json()["meta"]["returned"] == 763
    by_sales = data_of(sample_client.get("/api/orders?sort=sales&order=desc&limit=5"))
    with snapshot(sample_engine) as conn:
        expected, _ = order_line_page(conn, Filters(), limit=5, sort="sales", descending=True)
    assert [r["sales"] for r in by_sales] == list(expected["sales"])
    assert by_sales[0]["sales"] >= by_sales[-1]["sales"]


def test_orders_with_filters_total(sample_client: FlaskClient, sample_engine: Engine):
    response = sample_client.get("/api/orders?country=France&productline=Classic Cars&limit=1000")
    rows = data_of(response)
    with snapshot(sample_engine) as conn:
        k = kpis(conn, Filters(countries=("France",), product_lines=("Classic Cars",)))
    assert response.get_json()["meta"]["total"] == k["line_count"] == len(rows)
    assert round(sum(r["sales"] for r in rows), 2) == k["revenue"]


FILTER_CASES = [
    ("country=France", Filters(countries=("France",))),
    ("country=France,Spain", Filters(countries=("France", "Spain"))),
    ("country=France&country=Spain", Filters(countries=("France", "Spain"))),
    ("productline=Classic Cars", Filters(product_lines=("Classic Cars",))),
    ("status=Cancelled", Filters(statuses=("Cancelled",))),
    ("status=Shipped,Cancelled", Filters(statuses=("Shipped", "Cancelled"))),
    ("dealsize=Large", Filters(deal_sizes=("Large",))),
    ("customer=Euro Shopping Channel", Filters(customers=("Euro Shopping Channel",))),
    ("start=2004-01-01&end=2004-12-31", Filters(start=date(2004, 1, 1), end=date(2004, 12, 31))),
    ("start=2005-01-01", Filters(start=date(2005, 1, 1))),
    ("end=2003-06-30", Filters(end=date(2003, 6, 30))),
    (
        "country=USA&productline=Motorcycles&dealsize=Small,Medium&start=2004-03-01",
        Filters(
            countries=("USA",),
            product_lines=("Motorcycles",),
            deal_sizes=("Small", "Medium"),
            start=date(2004, 3, 1),
        ),
    ),
]


@pytest.mark.parametrize(("query", "filters"), FILTER_CASES, ids=[q for q, _ in FILTER_CASES])
def test_every_filter_matches_the_metric_layer(
    sample_client: FlaskClient, sample_engine: Engine, query: str, filters: Filters
):
    response = sample_client.get(f"/api/kpis?{query}")
    data = data_of(response)
    with snapshot(sample_engine) as conn:
        expected = kpis(conn, filters)
        by_line = breakdown(conn, filters, "product_line")
    assert {k: data[k] for k in expected} == expected
    assert response.get_json()["meta"]["filters"] == filters.to_params()
    rows = data_of(sample_client.get(f"/api/sales-by-category?{query}"))
    assert [r["revenue"] for r in rows] == list(by_line["revenue"])


def test_filter_values_are_matched_case_insensitively(sample_client: FlaskClient):
    exact = sample_client.get("/api/kpis?country=France&productline=Classic Cars")
    loose = sample_client.get("/api/kpis?country=france&productline=CLASSIC CARS")
    assert data_of(loose) == data_of(exact)
    assert loose.get_json()["meta"]["filters"]["country"] == ["France"]


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_every_data_endpoint_has_the_envelope(sample_client: FlaskClient, sample_engine: Engine, path: str):
    response = sample_client.get(path)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"data", "meta"}
    meta = body["meta"]
    assert meta["data_version"] == current_version(sample_engine).version
    assert {"filters", "generated_at"} <= set(meta)
    assert "definitions" not in meta
    assert response.headers["X-Data-Version"] == meta["data_version"]
    assert response.headers["ETag"].startswith('"')


@pytest.mark.parametrize("path", TABULAR)
def test_every_tabular_endpoint_takes_the_filters(sample_client: FlaskClient, path: str):
    everything = data_of(sample_client.get(path))
    france = data_of(sample_client.get(f"{path}?country=France&start=2004-01-01&end=2004-12-31"))
    assert france != everything
    empty = data_of(sample_client.get(f"{path}?country=France&start=2003-01-01&end=2003-01-01"))
    if path == "/api/heatmap":  # the one day in view has no French orders: January 2003 is 0, the rest null
        assert [r["2003"] for r in empty] == [0, *[None] * 11]
    elif path in ("/api/sales-over-time", "/api/monthly-trends"):  # every month in view, here one (cut) at 0
        assert [(r["period"], r["line_count"], r["complete"]) for r in empty] == [("2003-01", 0, False)]
    elif path == "/api/quarterly-analysis":
        assert [(r["period"], r["line_count"], r["complete"]) for r in empty] == [("2003-Q1", 0, False)]
    else:
        assert empty == []


def test_kpis_default_answer_is_the_figures_in_view_and_detail_full_adds_the_cards(
    sample_client: FlaskClient,
):
    summary = sample_client.get("/api/kpis")
    full = sample_client.get("/api/kpis?detail=full")
    small, big = data_of(summary), data_of(full)
    assert not {"headline", "growth", "status_distribution"} & set(small)
    assert {"headline", "growth", "status_distribution"} <= set(big)
    assert "status_distribution_note" not in summary.get_json()["meta"]
    assert {k: v for k, v in big.items() if k in small} == small  # the same figures in view, same date range
    assert small["revenue"] == REVENUE and small["order_count"] == 303
    assert len(summary.get_data()) < len(full.get_data()) / 4
    assert summary.headers["ETag"] != full.headers["ETag"]
    assert_error(sample_client.get("/api/kpis?detail=everything"), 400, "invalid_parameter", "detail")
