"""The bundled sample's reference figures, out of the metric layer, on every engine."""

from datetime import date

from sqlalchemy import Engine

from salesdash.metrics import Filters, breakdown, data_date_range, growth, kpis, over_time
from salesdash.store import snapshot
from tests.reference import AVERAGE_ORDER_VALUE, COUNTRIES, CUSTOMERS, ORDERS, PRODUCT_LINES, REVENUE


def test_reference_figures(sample_engine: Engine):
    with snapshot(sample_engine) as conn:
        k = kpis(conn, Filters())
        years = over_time(conn, Filters(), "year").set_index("period")["revenue"].to_dict()
        lines = breakdown(conn, Filters(), "product_line").set_index("product_line")["revenue"].to_dict()
        top = breakdown(conn, Filters(), "customer", limit=1)
        first, last = data_date_range(conn)
    assert k["revenue"] == REVENUE
    assert k["order_count"] == ORDERS
    assert k["average_order_value"] == AVERAGE_ORDER_VALUE
    assert k["customer_count"] == CUSTOMERS
    assert k["country_count"] == COUNTRIES
    assert k["product_line_count"] == PRODUCT_LINES
    assert (first, last) == (date(2003, 1, 6), date(2005, 5, 31))
    assert years["2004"] == 4578386.04
    assert round(sum(years.values()), 2) == REVENUE
    assert lines["Classic Cars"] == 3860372.85
    assert len(lines) == PRODUCT_LINES
    assert top["customer_name"].iloc[0] == "Euro Shopping Channel"
    assert top["revenue"].iloc[0] == 862283.46


def test_all_statuses_include_the_four_cancelled_orders(sample_engine: Engine):
    statuses = ("Shipped", "Cancelled", "Resolved", "On Hold", "In Process", "Disputed")
    with snapshot(sample_engine) as conn:
        k = kpis(conn, Filters(statuses=statuses))
    assert k["order_count"] == 307
    assert k["line_count"] == 2823


def test_year_over_year_is_like_for_like(sample_engine: Engine):
    with snapshot(sample_engine) as conn:
        yoy = growth(conn, Filters())["year_over_year"]
        jan_may_2004 = kpis(conn, Filters(start=date(2004, 1, 1), end=date(2004, 5, 31)))["revenue"]
    assert yoy["label"] == "Jan-May 2005 vs Jan-May 2004"
    assert yoy["metrics"]["revenue"]["previous"] == jan_may_2004
