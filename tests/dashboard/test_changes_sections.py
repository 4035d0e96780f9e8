"""The comparison sections (AppTest against a real API over the bundled data): "Compare years" on the Overview's
sales-over-time chart, "Top movers" on the Overview and the "List-price gap" on Products show the API's numbers
and say what they compare (partial years, "new" customers, not a margin)."""

from __future__ import annotations

from salesdash.charts.format import money
from tests.dashboard.conftest import LiveApi
from tests.dashboard.test_app import all_text, figure, run_app


def names(bars: dict) -> list[str]:
    """The row names of a diverging bar chart (written above each bar; the bar's customdata holds them)."""
    return [c[0] for c in bars["customdata"]]


def test_compare_years_draws_each_year_over_the_same_months(dashboard_env: LiveApi) -> None:
    at = run_app()
    assert not at.exception
    assert at.toggle(key="overview_compare_years").value is False
    at.toggle(key="overview_compare_years").set_value(True).run()
    assert not at.exception
    lines = figure(at, "chart-year-overlay")["data"]
    assert [line["name"] for line in lines] == ["2005 (Jan-May, partial)", "2004", "2003"]
    monthly = dashboard_env.get("/api/sales-over-time", period="monthly")["data"]
    in_2004 = [r["revenue"] for r in monthly if r["period"].startswith("2004")]
    assert list(lines[1]["y"]) == in_2004
    assert list(lines[0]["x"]) == ["Jan", "Feb", "Mar", "Apr", "May"]  # no month past the data
    head = dashboard_env.get("/api/kpis", detail="full")["data"]["headline"]
    text = all_text(at)
    assert "Same dates compared: Jan-May 2005" in text
    assert money(head["metrics"]["revenue"]["previous"]) in text
    at.segmented_control(key="overview_grain").set_value("quarter").run()
    assert list(figure(at, "chart-year-overlay")["data"][1]["x"]) == ["Q1", "Q2", "Q3", "Q4"]


def test_top_movers_section_shows_the_api_rows(dashboard_env: LiveApi) -> None:
    at = run_app()
    api = dashboard_env.get("/api/top-movers", dimension="customer", limit=10)
    bars = figure(at, "chart-top-movers")["data"][0]
    expected = sorted(api["data"], key=lambda r: -r["revenue_change"])
    assert names(bars) == [r["customer_name"] for r in expected]
    assert list(bars["x"]) == [r["revenue_change"] for r in expected]
    new = [r for r in expected if r["revenue_change_pct"] is None]
    assert new and all(label.endswith(" new") for label, r in zip(bars["text"], expected) if r in new)
    table = next(d.value for d in at.dataframe if "movement" in d.value.columns)
    assert (table.loc[table["movement"] == "new", "revenue_change_pct"] == "new").all()
    assert "Jan-May 2005 vs Jan-May 2004" in all_text(at)
    at.segmented_control(key="overview_movers_dimension").set_value("productline").run()
    lines = dashboard_env.get("/api/top-movers", dimension="productline", limit=10)["data"]
    assert sorted(names(figure(at, "chart-top-movers")["data"][0])) == sorted(
        r["product_line"] for r in lines
    )


def test_top_movers_say_when_there_is_no_comparison_period(dashboard_env: LiveApi) -> None:
    at = run_app({"start": "2003-01-01", "end": "2003-12-31"})
    assert not at.exception
    assert any("No comparison period" in str(i.value) for i in at.info)


def test_list_price_gap_section_on_products(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/products.py").run()
    assert not at.exception
    api = dashboard_env.get("/api/list-price-gap", level="product_line")
    bars = figure(at, "chart-list-price-gap")
    expected = sorted(api["data"], key=lambda r: -r["list_price_gap_pct"])
    assert names(bars["data"][0]) == [r["product_line"] for r in expected]
    assert "Not a profit margin" in bars["layout"]["annotations"][-1]["text"]
    text = all_text(at)
    assert "Not a profit margin" in text and money(api["meta"]["total"]["list_price_revenue"]) in text
    at.segmented_control(key="products_gap_level").set_value("product").run()
    assert not at.exception
    assert len(names(figure(at, "chart-list-price-gap")["data"][0])) == 20
