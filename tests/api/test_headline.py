"""The headline rule on every engine: the KPI cards' figures are one named period's values beside the same
dates a year earlier, with both periods' bounds, in /api/kpis and /api/comparisons."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.conftest import data_of

COMPARED = ("revenue", "order_count", "average_order_value", "customer_count", "units", "country_count")


def test_the_headline_without_a_date_filter_is_the_latest_year_to_date(sample_client: FlaskClient):
    kpis = data_of(sample_client.get("/api/kpis?detail=full"))
    head = kpis["headline"]
    assert head["current_period"] == {"start": "2005-01-01", "end": "2005-05-31", "label": "Jan-May 2005"}
    assert head["comparison_period"] == {"start": "2004-01-01", "end": "2004-05-31", "label": "Jan-May 2004"}
    assert head["label"] == "Jan-May 2005 vs Jan-May 2004" and head["note"] is None
    assert head["in_view_period"] == {
        "start": "2003-01-01",
        "end": "2005-05-31",
        "label": "Jan 2003-May 2005",
    }
    revenue = head["metrics"]["revenue"]
    assert (revenue["current"], revenue["previous"]) == (1791486.71, 1267959.53)
    assert round(revenue["change_pct"], 3) == 0.413
    # every value is the value of its own period, never the all-time total beside a year-to-date change
    current = data_of(sample_client.get("/api/kpis?start=2005-01-01&end=2005-05-31&detail=full"))
    previous = data_of(sample_client.get("/api/kpis?start=2004-01-01&end=2004-05-31&detail=full"))
    for name in COMPARED:
        assert head["metrics"][name]["current"] == current[name], name
        assert head["metrics"][name]["previous"] == previous[name], name
    assert head["metrics"]["country_count"]["previous"] < kpis["country_count"]
    assert kpis["revenue"] == 9838141.37  # everything in view stays at the top level, without a change


def test_a_date_filter_moves_the_headline_and_a_year_the_data_lacks_gives_no_change(
    sample_client: FlaskClient,
):
    head = data_of(sample_client.get("/api/kpis?start=2004-03-01&end=2004-12-31&country=France&detail=full"))[
        "headline"
    ]
    assert head["current_period"]["label"] == "Mar-Dec 2004"
    assert head["comparison_period"]["label"] == "Mar-Dec 2003"
    early = data_of(sample_client.get("/api/kpis?start=2003-02-01&end=2003-11-30&detail=full"))
    head = early["headline"]
    assert head["current_period"]["label"] == "Feb-Nov 2003"
    assert head["comparison_period"] is None and head["label"] == "Feb-Nov 2003"
    assert "Feb-Nov 2002" in head["note"]
    assert head["metrics"]["revenue"] == {
        "current": early["revenue"],
        "previous": None,
        "change": None,
        "change_pct": None,
    }


def test_comparisons_carry_the_same_headline(sample_client: FlaskClient):
    query = "?productline=Ships&start=2004-01-01"
    comparisons = data_of(sample_client.get("/api/comparisons" + query))
    kpis = data_of(sample_client.get("/api/kpis" + query + "&detail=full"))
    assert comparisons["headline"] == kpis["headline"]
    assert comparisons["headline"]["current_period"]["label"] == "Jan-May 2005"


def test_no_dates_in_view_means_no_headline(sample_client: FlaskClient):
    assert data_of(sample_client.get("/api/kpis?start=2010-01-01&detail=full"))["headline"] is None
