"""Every metric on tests/data/small.csv, answers computed by hand, on every engine.

Small file: 6 orders, 8 lines; order 1003 (3,500.00, Alpha Co, USA, Ships) is Cancelled.
"""

import math
from datetime import date

import pytest
from sqlalchemy import Engine

from salesdash.errors import InvalidParameter
from salesdash.metrics import (
    Filters,
    breakdown,
    filter_options,
    kpis,
    month_year_matrix,
    order_line_page,
    over_time,
    parse_filters,
)
from salesdash.store import snapshot


def test_kpis_exclude_cancelled_by_default(small_engine: Engine):
    with snapshot(small_engine) as conn:
        k = kpis(conn, Filters())
    assert k["revenue"] == 14113.24
    assert k["order_count"] == 5
    assert k["line_count"] == 7
    assert k["units"] == 158
    assert k["average_order_value"] == 2822.65  # 14,113.24 / 5
    assert k["customer_count"] == 4
    assert k["country_count"] == 4
    assert k["product_line_count"] == 4


def test_status_filter_can_include_cancelled(small_engine: Engine):
    statuses = ("Shipped", "Cancelled", "On Hold", "Resolved")
    with snapshot(small_engine) as conn:
        k = kpis(conn, Filters(statuses=statuses))
        only = kpis(conn, Filters(statuses=("Cancelled",)))
    assert k["revenue"] == 17613.24
    assert k["order_count"] == 6
    assert only["revenue"] == 3500.0
    assert only["customer_count"] == 1


@pytest.mark.parametrize(
    ("filters", "revenue", "orders"),
    [
        (Filters(countries=("France",)), 1812.50, 2),
        (Filters(product_lines=("Classic Cars",)), 9610.50, 3),
        (Filters(deal_sizes=("Large", "Medium")), 11100.50, 1),
        (Filters(customers=("Beta's Toys",)), 1812.50, 2),
        (Filters(start=date(2004, 1, 1), end=date(2004, 12, 31)), 11303.00, 2),
        (Filters(start=date(2004, 12, 31)), 302.49, 2),
        (Filters(countries=("France", "Spain"), product_lines=("Ships", "Trains")), 302.49, 2),
        (Filters(countries=("Nowhere",)), 0.0, 0),
    ],
    ids=["country", "productline", "dealsize", "customer", "year-2004", "from-date", "combined", "empty"],
)
def test_filters(small_engine: Engine, filters: Filters, revenue: float, orders: int):
    with snapshot(small_engine) as conn:
        k = kpis(conn, filters)
    assert k["revenue"] == revenue
    assert k["order_count"] == orders
    if orders == 0:
        assert k["average_order_value"] is None


def test_breakdown_by_product_line(small_engine: Engine):
    with snapshot(small_engine) as conn:
        frame = breakdown(conn, Filters(), "product_line")
    assert list(frame["product_line"]) == ["Classic Cars", "Planes", "Ships", "Trains"]
    assert list(frame["revenue"]) == [9610.50, 4200.25, 202.50, 99.99]
    assert list(frame["order_count"]) == [3, 2, 1, 1]
    assert list(frame["units"]) == [100, 45, 10, 3]
    assert math.isclose(frame["revenue_share"].sum(), 1.0, abs_tol=1e-5)


def test_breakdown_by_customer_with_limit_keeps_share_of_total(small_engine: Engine):
    with snapshot(small_engine) as conn:
        frame = breakdown(conn, Filters(), "customer", limit=2)
    assert list(frame["customer_name"]) == ["Gamma GmbH", "Beta's Toys"]
    assert list(frame["revenue"]) == [11100.50, 1812.50]
    assert frame["last_order_date"].iloc[1] == date(2004, 12, 31)
    assert frame["revenue_share"].iloc[0] == round(11100.50 / 14113.24, 6)


def test_breakdown_by_country_status_and_deal_size(small_engine: Engine):
    with snapshot(small_engine) as conn:
        country = breakdown(conn, Filters(), "country").set_index("country")["revenue"].to_dict()
        status = breakdown(conn, Filters(), "status").set_index("status")["order_count"].to_dict()
        deal = breakdown(conn, Filters(), "deal_size").set_index("deal_size")["line_count"].to_dict()
    assert country == {"Germany": 11100.50, "France": 1812.50, "USA": 1100.25, "Spain": 99.99}
    assert status == {"On Hold": 1, "Shipped": 3, "Resolved": 1}
    assert deal == {"Large": 1, "Medium": 1, "Small": 5}


@pytest.mark.parametrize(
    ("grain", "periods", "revenues"),
    [
        ("year", ["2003", "2004", "2005"], [2710.25, 11303.00, 99.99]),
        ("quarter", ["2003-Q1", "2004-Q1", "2004-Q4", "2005-Q1"], [2710.25, 11100.50, 202.50, 99.99]),
        (
            "month",
            ["2003-01", "2003-02", "2004-02", "2004-12", "2005-01"],
            [1100.25, 1610, 11100.5, 202.5, 99.99],
        ),
        (
            "week",
            ["2003-W03", "2003-W07", "2004-W06", "2004-W53", "2005-W01"],
            [1100.25, 1610, 11100.5, 202.5, 99.99],
        ),
        (
            "day",
            ["2003-01-15", "2003-02-10", "2004-02-05", "2004-12-31", "2005-01-03"],
            [1100.25, 1610, 11100.5, 202.5, 99.99],
        ),
    ],
)
def test_over_time_every_grain(small_engine: Engine, grain: str, periods: list[str], revenues: list[float]):
    with snapshot(small_engine) as conn:
        frame = over_time(conn, Filters(), grain)
    assert list(frame["period"]) == periods
    assert list(frame["revenue"]) == revenues


def test_week_period_start_is_a_monday(small_engine: Engine):
    with snapshot(small_engine) as conn:
        frame = over_time(conn, Filters(), "week")
    assert all(d.weekday() == 0 for d in frame["period_start"])
    assert frame["period_start"].iloc[3] == date(2004, 12, 27)


def test_month_year_matrix_leaves_empty_months_missing(small_engine: Engine):
    with snapshot(small_engine) as conn:
        matrix = month_year_matrix(conn, Filters())
    assert list(matrix.columns) == [2003, 2004, 2005]
    assert list(matrix.index) == list(range(1, 13))
    assert matrix.loc[1, 2003] == 1100.25
    assert matrix.loc[12, 2004] == 202.5
    assert math.isnan(matrix.loc[3, 2003])
    assert int(matrix.notna().sum().sum()) == 5


def test_filter_options_list_all_values(small_engine: Engine):
    with snapshot(small_engine) as conn:
        options = filter_options(conn)
    assert options["statuses"] == ["Cancelled", "On Hold", "Resolved", "Shipped"]
    assert options["countries"] == ["France", "Germany", "Spain", "USA"]
    assert options["date_range"] == {"start": "2003-01-15", "end": "2005-01-03"}


def test_order_line_page_sorts_and_pages(small_engine: Engine):
    with snapshot(small_engine) as conn:
        page, total = order_line_page(conn, Filters(), limit=3, offset=0, sort="sales", descending=True)
        rest, _ = order_line_page(conn, Filters(), limit=3, offset=6, sort="sales", descending=True)
    assert total == 7
    assert list(page["sales"]) == [7500.5, 3600.0, 1610.0]
    assert list(rest["sales"]) == [99.99]
    assert "sales_cents" not in page.columns


def test_parse_filters_accepts_repeated_and_comma_separated_values():
    f = parse_filters({"country": ["France,Spain", "USA"], "start": ["2004-01-01"], "customer": ["A, B Co"]})
    assert f.countries == ("France", "Spain", "USA")
    assert f.start == date(2004, 1, 1)
    assert f.customers == ("A, B Co",)  # customer names contain commas: a comma does not separate them
    assert parse_filters({"customer": ["A, B Co", "C Ltd"]}).customers == ("A, B Co", "C Ltd")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"start": ["2004-13-01"]}, "start"), ({"start": ["2005-01-01"], "end": ["2004-01-01"]}, "start")],
)
def test_parse_filters_names_the_bad_parameter(params: dict, parameter: str):
    with pytest.raises(InvalidParameter) as info:
        parse_filters(params)
    assert info.value.details[0]["parameter"] == parameter


def test_filters_normalised_params_are_order_independent():
    """to_params() is what meta.filters shows and what the API cache key is made of."""
    assert Filters(countries=("A", "B")).to_params() == Filters(countries=("B", "A", "A")).to_params()
    assert Filters(countries=("A",)).to_params() != Filters().to_params()
