"""The Orders page, the drill-through and the customer history (AppTest) against the real API over the bundled
data: paging, sort, search, an order's detail (and a 404), "Orders behind this" from the Overview, and one
customer's history on the Customers page. Every number is compared with the API's own answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from streamlit.testing.v1 import AppTest

from salesdash.charts.format import count, money
from salesdash.dashboard.components.drill import DRILL_KEY, FRESH_KEY, Drill
from salesdash.filters import Filters
from tests.dashboard.conftest import LiveApi
from tests.dashboard.test_app import all_text, figure, run_app


def orders_page() -> AppTest:
    at = run_app()
    at.switch_page("views/orders.py").run()
    assert not at.exception, at.exception
    return at


def pager(at: AppTest) -> str:
    return next(m.value for m in at.markdown if str(m.value).startswith("Page "))


def lines(at: AppTest) -> Any:
    return at.dataframe(key="table-orders").value


def test_pages_forward_and_back(dashboard_env: LiveApi) -> None:
    at = orders_page()
    total = dashboard_env.get("/api/orders", limit=1)["meta"]["total"]
    pages = -(-total // 100)
    assert pager(at) == f"Page **1** of **{count(pages)}** · lines 1–100 of **{count(total)}**"
    first = lines(at)
    at.button(key="orders_next").click().run()
    assert pager(at) == f"Page **2** of **{count(pages)}** · lines 101–200 of **{count(total)}**"
    second = lines(at)
    expected = dashboard_env.get("/api/orders", limit=100, offset=100, sort="order_date", order="desc")[
        "data"
    ]
    assert list(second["order_number"]) == [r["order_number"] for r in expected]
    # (order, product code) names a line here: no line is on both pages
    assert not set(zip(first["order_number"], first["product_code"], strict=True)) & set(
        zip(second["order_number"], second["product_code"], strict=True)
    )
    assert list(second["product_code"]) == [r["product_code"] for r in expected]
    at.button(key="orders_prev").click().run()
    assert pager(at).startswith("Page **1**")
    assert at.button(key="orders_prev").disabled


def test_sort_on_a_column_starts_at_page_one(dashboard_env: LiveApi) -> None:
    at = orders_page()
    at.button(key="orders_next").click().run()
    at.selectbox(key="orders_sort").set_value("sales").run()
    assert pager(at).startswith("Page **1**")
    shown = lines(at)
    expected = dashboard_env.get("/api/orders", limit=100, sort="sales", order="desc")["data"]
    assert list(shown["sales"]) == [r["sales"] for r in expected]
    at.segmented_control(key="orders_order").set_value("asc").run()
    assert list(lines(at)["sales"])[:3] == [
        r["sales"] for r in dashboard_env.get("/api/orders", limit=3, sort="sales", order="asc")["data"]
    ]


def test_search_narrows_the_lines_and_says_so(dashboard_env: LiveApi) -> None:
    at = orders_page()
    at.text_input(key="orders_q").set_value("Euro Shopping").run()
    total = dashboard_env.get("/api/orders", q="Euro Shopping", limit=1)["meta"]["total"]
    assert f"of **{count(total)}**" in pager(at)
    assert set(lines(at)["customer_name"]) == {"Euro Shopping Channel"}
    at.text_input(key="orders_q").set_value("100%").run()  # % is literal: no name or code holds it
    assert "of **0**" in pager(at)
    assert "No order line matches" in all_text(at)


def test_an_order_number_opens_its_detail(dashboard_env: LiveApi) -> None:
    at = orders_page()
    at.text_input(key="orders_number").set_value("10107").run()
    detail = dashboard_env.get("/api/orders/10107")["data"]
    text = all_text(at)
    assert "Order 10107" in text and detail["customer_name"] in text
    values = {m.label: m.value for m in at.metric}
    assert values["Order sales"] == money(detail["totals"]["sales"])
    assert values["Lines"] == count(detail["totals"]["line_count"])
    assert len(at.dataframe[-1].value) == len(detail["lines"])
    at.text_input(key="orders_number").set_value("99999999").run()
    assert not at.exception
    assert any("There is no order 99999999" in str(w.value) for w in at.warning)
    at.text_input(key="orders_number").set_value("abc").run()
    assert any("not an order number" in str(w.value) for w in at.warning)


def test_every_section_offers_the_orders_behind_it(dashboard_env: LiveApi) -> None:
    at = run_app()
    keys = {b.key for b in at.button if str(b.key).startswith("drill-")}
    assert {"drill-sales-over-time", "drill-product-line-share", "drill-top-countries"} <= keys
    at.button(key="drill-top-countries").click().run()
    assert not at.exception, at.exception
    assert "The orders behind **Top countries**" in str(at.info[0].value)
    total = dashboard_env.get("/api/orders", limit=1)["meta"]["total"]
    assert f"of **{count(total)}**" in pager(at)
    at.button(key="orders_next").click().run()  # the page's own reruns keep the drill
    assert "The orders behind **Top countries**" in str(at.info[0].value)
    at.switch_page("views/overview.py").run()
    at.switch_page("views/orders.py").run()  # opened from the navigation: every order in view again
    assert not any("The orders behind" in str(i.value) for i in at.info)


def test_a_drill_with_a_pick_shows_only_its_orders_within_the_filters(dashboard_env: LiveApi) -> None:
    at = run_app({"productline": "Classic Cars"})
    at.session_state[DRILL_KEY] = Drill("Top countries", {"country": ["France"]})
    at.session_state[FRESH_KEY] = True  # as the button leaves it
    at.switch_page("views/orders.py").run()
    assert not at.exception, at.exception
    total = dashboard_env.get("/api/orders", country="France", productline="Classic Cars", limit=1)["meta"]
    assert f"of **{count(total['total'])}**" in pager(at)
    assert set(lines(at)["country"]) == {"France"} and set(lines(at)["product_line"]) == {"Classic Cars"}
    assert "Countries: France" in all_text(at)
    at.button(key="drill-clear").click().run()
    everything = dashboard_env.get("/api/orders", productline="Classic Cars", limit=1)["meta"]["total"]
    assert f"of **{count(everything)}**" in pager(at)


def test_a_customer_row_opens_their_history(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/customers.py").run()
    name = "Euro Shopping Channel"
    at.session_state["customer"] = [name]  # a row or bar click sets the customer filter
    at.run()
    assert not at.exception, at.exception
    kpis = dashboard_env.get("/api/kpis", customer=name)["data"]
    assert f"{count(kpis['order_count'])} orders · revenue {money(kpis['revenue'])}" in all_text(at)
    months = dashboard_env.get("/api/sales-over-time", customer=name, period="monthly")["data"]
    assert any(m["revenue"] == 0 for m in months)  # every month, 0 for a month without orders
    drawn = figure(at, "chart-history-months")
    assert len(drawn["data"][0]["x"]) == len(months)
    mix = figure(at, "chart-history-mix")
    shares = dashboard_env.get("/api/sales-by-category", customer=name)["data"]
    assert len(mix["data"][0]["y"]) == len(shares)
    history = next(d.value for d in at.dataframe if "order_line_number" in d.value.columns)
    assert len(history) == min(100, kpis["line_count"])
    assert "drill-customer-history" in {b.key for b in at.button}


def test_a_drill_stays_inside_the_filters_it_came_from() -> None:
    base = Filters(start=date(2004, 1, 15), countries=("France", "Spain"))
    month = Drill("Sales over time", {"start": ["2004-01-01"], "end": ["2004-01-31"]})
    narrowed = month.apply(base)
    assert narrowed is not None and (narrowed.start, narrowed.end) == (date(2004, 1, 15), date(2004, 1, 31))
    assert narrowed.countries == ("France", "Spain")
    assert month.describe() == [("Order dates", "2004-01-01 to 2004-01-31")]
    spain = Drill("Top countries", {"country": ["Spain"]}).apply(base)
    assert spain is not None and spain.countries == ("Spain",)
    cancelled = Drill("Order status", {"status": ["Cancelled"]}).apply(Filters())
    assert cancelled is not None and cancelled.statuses == ("Cancelled",)  # the status chart shows them all
    # picked under other filters: nothing behind it (never "no restriction")
    assert Drill("Top countries", {"country": ["USA"]}).apply(base) is None
    assert Drill("Sales over time", {"start": ["2003-01-01"], "end": ["2003-01-31"]}).apply(base) is None
