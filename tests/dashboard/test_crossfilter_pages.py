"""Cross-filtering in the app (AppTest against the real API over the bundled data): the "Filtered by" chips,
the customer filter in the URL, and the control beside the chart Streamlit cannot select (the Seasonality
heatmap). Clicks and brushes on Plotly charts and table rows send browser events that
AppTest cannot produce: tests/dashboard/test_selection.py maps recorded payloads, and
tests/e2e/test_crossfilter_browser.py clicks in Chromium."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from salesdash.charts.format import money
from tests.dashboard.conftest import LiveApi, readable
from tests.dashboard.test_app import cards, figure, headline, run_app
from tests.reference import REVENUE


def chip_labels(at: AppTest) -> list[str]:
    return [readable(b.label) for b in at.button if str(b.key or "").startswith("chip-")]


def query(at: AppTest) -> dict[str, list[str]]:
    """The app's URL query string, each parameter as a list of values."""
    return {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def chip(at: AppTest, param: str) -> Any:
    return next(b for b in at.button if b.key == f"chip-{param}")


def test_chips_name_each_filter_and_one_click_removes_it(dashboard_env: LiveApi) -> None:
    at = run_app(
        {"country": "France", "productline": "Motorcycles", "start": "2004-01-01", "end": "2004-12-31"}
    )
    assert not at.exception
    assert chip_labels(at) == [
        "Order dates: 2004-01-01 to 2004-12-31",
        "Countries: France",
        "Product lines: Motorcycles",
    ]
    chip(at, "country").click().run()
    assert at.multiselect(key="country").value == []  # the sidebar shows it
    assert "country" not in query(at) and query(at)["productline"] == ["Motorcycles"]
    only_lines = dashboard_env.get(
        "/api/kpis", detail="full", productline="Motorcycles", start="2004-01-01", end="2004-12-31"
    )
    assert cards(at)["Revenue"] == money(headline(only_lines["data"]))
    chip(at, "start-end").click().run()
    chip(at, "productline").click().run()
    assert chip_labels(at) == [] and query(at) == {}
    everything = dashboard_env.get("/api/kpis", detail="full")["data"]
    assert everything["revenue"] == REVENUE  # the reference figure: back to the totals
    assert cards(at)["Revenue"] == money(headline(everything))


def test_a_customer_link_filters_every_page_and_shows_its_chip(dashboard_env: LiveApi) -> None:
    at = run_app({"customer": "Euro Shopping Channel"})
    assert not at.exception and not at.warning  # a filter of the dashboard (no "not understood" notice)
    assert chip_labels(at) == ["Customers: Euro Shopping Channel"]
    euro = dashboard_env.get("/api/kpis", detail="full", customer="Euro Shopping Channel")["data"]
    assert cards(at)["Revenue"] == money(headline(euro))
    at.switch_page("views/orders.py").run()  # survives a page switch
    assert chip_labels(at) == ["Customers: Euro Shopping Channel"]
    assert query(at)["customer"] == ["Euro Shopping Channel"]
    next(b for b in at.button if b.label == "Reset filters").click().run()
    assert chip_labels(at) == [] and "customer" not in query(at)


def test_the_heatmap_control_sets_a_month_as_the_date_range(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/seasonality.py").run()
    assert at.selectbox(key="season-year").options == ["2003", "2004", "2005"]
    at.selectbox(key="season-year").set_value(2004)
    at.selectbox(key="season-period").set_value("November").run()
    next(b for b in at.button if b.label == "Apply as filter").click().run()
    assert not at.exception
    assert query(at)["start"] == ["2004-11-01"] and query(at)["end"] == ["2004-11-30"]
    assert chip_labels(at)[0] == "Order dates: 2004-11-01 to 2004-11-30"
    # a year at the data's edge is kept inside the data's dates (the sidebar accepts nothing outside them)
    at.selectbox(key="season-year").set_value(2005)
    at.selectbox(key="season-period").set_value("Whole year").run()
    next(b for b in at.button if b.label == "Apply as filter").click().run()
    last = dashboard_env.get("/api/filters")["data"]["date_range"]["end"]
    assert query(at)["start"] == ["2005-01-01"] and query(at)["end"] == [last]


def test_a_cross_filter_chart_keeps_its_context_and_highlights_the_filter(dashboard_env: LiveApi) -> None:
    at = run_app({"productline": "Motorcycles", "customer": "Euro Shopping Channel"})
    assert not at.exception
    bars = figure(at, "chart-product-share")["data"][0]
    lines = dashboard_env.get("/api/sales-by-category", customer="Euro Shopping Channel")["data"]
    assert len(bars["y"]) == len(lines) > 1  # every product line for the other filters, not Motorcycles alone
    assert [bars["y"][i] for i in bars["selectedpoints"]] == ["Motorcycles"]  # the filter in full colour
    assert any(
        "Motorcycles (the product lines filter) in full colour" in readable(c.value) for c in at.caption
    )
    at.switch_page("views/customers.py").run()
    customers = figure(at, "chart-top-customers")["data"][0]
    assert len(customers["y"]) == 10 and "Euro Shopping Channel" in customers["y"]  # can switch customers
    table = next(d for d in at.dataframe if "Euro Shopping Channel" in list(d.value["customer_name"]))
    assert len(table.value) > 1
