"""The customer analytics sections (AppTest against a real API over the bundled data): the New customers card,
the acquisition chart, the cohort heatmap and market penetration show the API's numbers for the filters."""

from __future__ import annotations

from salesdash.charts.format import count
from salesdash.vocabulary import territory_name
from tests.dashboard.conftest import LiveApi
from tests.dashboard.test_app import figure, run_app


def test_customers_page_shows_acquisition_and_cohorts(dashboard_env: LiveApi) -> None:
    at = run_app({"country": "France"})
    at.switch_page("views/customers.py").run()
    assert not at.exception
    api = dashboard_env.get("/api/acquisition", country="France", period="monthly")
    card = api["meta"]["new_customers"]
    metric = next(m for m in at.metric if m.label.startswith("New customers"))
    assert metric.label == f"New customers, {card['current_period']['label']}"
    assert metric.value == count(card["current"])
    assert card["comparison_period"]["label"] in metric.delta
    bars = figure(at, "chart-acquisition")["data"]
    assert [b["name"] for b in bars] == ["New customers", "Returning customers"]
    assert list(bars[0]["y"]) == [r["new_customers"] for r in api["data"]]
    assert list(bars[1]["y"]) == [r["returning_customers"] for r in api["data"]]
    cohorts = dashboard_env.get("/api/cohorts", country="France", grain="month")
    heat = figure(at, "chart-cohorts")["data"][0]
    assert len(heat["y"]) == len(cohorts["meta"]["cohorts"])
    assert all("small" in label for label, c in zip(heat["y"], cohorts["meta"]["cohorts"]) if c["small"])
    at.segmented_control(key="customers_cohort_grain").set_value("quarter").run()
    quarterly = dashboard_env.get("/api/cohorts", country="France", grain="quarter")
    assert len(figure(at, "chart-cohorts")["data"][0]["y"]) == len(quarterly["meta"]["cohorts"])


def test_geography_page_shows_market_penetration(dashboard_env: LiveApi) -> None:
    at = run_app({"productline": "Motorcycles"})
    at.switch_page("views/geography.py").run()
    assert not at.exception
    api = dashboard_env.get("/api/market-penetration", productline="Motorcycles", dimension="country")
    bars = figure(at, "chart-penetration")["data"][0]
    expected = sorted(api["data"], key=lambda r: r["revenue_per_customer"], reverse=True)
    assert list(bars["y"]) == [r["country"] for r in expected]
    assert list(bars["x"]) == [r["revenue_per_customer"] for r in expected]
    assert api["meta"]["product_lines_in_view"] == 1
    at.segmented_control(key="geo_penetration_dimension").set_value("territory").run()
    territories = dashboard_env.get(
        "/api/market-penetration", productline="Motorcycles", dimension="territory"
    )
    assert sorted(figure(at, "chart-penetration")["data"][0]["y"]) == sorted(
        territory_name(r["territory"]) for r in territories["data"]
    )
    assert "North America" in figure(at, "chart-penetration")["data"][0]["y"]
