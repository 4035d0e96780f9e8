"""The dashboard app (AppTest) against the real API over the bundled data: every page, the widgets, the
filters across pages and links, refresh, and the API-down path. No mocks: the app makes real HTTP calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.reliability.common import free_port
from salesdash.charts.format import count, money, plain
from salesdash.config import Settings
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.store.stream import mark_started
from salesdash.tokens import create_token
from tests.conftest import SAMPLE_CSV
from tests.dashboard.conftest import APP, LiveApi, readable, serve

VIEWS = ["overview", "geography", "products", "customers", "seasonality", "orders", "data"]
TIMEOUT = 60


def run_app(query: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    return at.run()


def cards(at: AppTest) -> dict[str, str]:
    """Card values by metric name (a card's label is "Revenue · Jan-May 2005": the name and its period)."""
    return {m.label.split(" · ")[0]: m.value for m in at.metric}


def headline(kpis: dict[str, Any], metric: str = "revenue") -> Any:
    """The value the cards show: the headline period's (docs/metrics.md), not everything in view."""
    return kpis["headline"]["metrics"][metric]["current"]


def figures(at: AppTest) -> dict[str, dict[str, Any]]:
    """Plotly figures on the page by chart key (the spec the browser would draw)."""
    out = {}
    for element in at.get("plotly_chart"):
        key = str(element.proto.id).rsplit("-", 1)[-1] if "-" in str(element.proto.id) else ""
        spec = json.loads(element.proto.spec)
        out[str(element.proto.id)] = spec
        if key:
            out[key] = spec
    return out


def figure(at: AppTest, key: str) -> dict[str, Any]:
    for element in at.get("plotly_chart"):
        if str(element.proto.id).endswith(key):
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {key!r} on the page")


def all_text(at: AppTest) -> str:
    parts = [str(e.value) for e in (*at.markdown, *at.caption, *at.error, *at.info, *at.success, *at.code)]
    parts += [str(m.value) for m in at.metric]
    return readable("\n".join(parts))


@pytest.mark.parametrize("view", VIEWS)
def test_every_page_renders_without_exception(dashboard_env: LiveApi, view: str) -> None:
    at = run_app()
    if view != "overview":
        at.switch_page(f"views/{view}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value  # the page drew its header
    if view not in ("data",):
        assert at.get("plotly_chart"), f"{view} drew no chart"


def test_kpi_cards_show_one_named_period_beside_its_change(dashboard_env: LiveApi) -> None:
    at = run_app()
    kpis = dashboard_env.get("/api/kpis", detail="full")["data"]
    shown = cards(at)
    assert shown["Revenue"] == money(headline(kpis)) == "$1,791,486.71"
    assert shown["Orders"] == count(headline(kpis, "order_count"))
    assert shown["Average order value"] == money(headline(kpis, "average_order_value"))
    assert shown["Customers"] == count(headline(kpis, "customer_count"))
    # value and change of the same period, both periods named: "Jan-May 2005: $1,791,486.71, +41.3% vs
    # Jan-May 2004: $1,267,959.53"
    revenue_card = next(m for m in at.metric if m.label.startswith("Revenue ·"))
    assert readable(revenue_card.label) == "Revenue · Jan-May 2005"
    assert revenue_card.delta == "+41.3%"
    assert readable(revenue_card.proto.delta_description) == "vs Jan-May 2004: $1,267,959.53"
    orders_card = next(m for m in at.metric if m.label.startswith("Orders ·"))
    previous = kpis["headline"]["metrics"]["order_count"]["previous"]
    assert readable(orders_card.proto.delta_description) == f"vs Jan-May 2004: {count(previous)}"
    growth_card = next(m for m in at.metric if m.label.startswith("Revenue growth"))
    assert readable(growth_card.label) == "Revenue growth · May 2005"
    # everything in view is named by its period and carries no change
    line = plain(
        "All of Jan 2003-May 2005 in view (no change shown): revenue $9,838,141.37 · 303 orders · "
        "average order value $32,469.11 · 92 customers"
    )
    assert line in [c.value for c in at.caption]
    assert "9,838,141.37" not in " ".join(m.value for m in at.metric)


def test_kpi_cards_without_a_year_earlier_show_no_change_and_say_why(dashboard_env: LiveApi) -> None:
    at = run_app({"start": "2003-02-01", "end": "2003-11-30"})
    kpis = dashboard_env.get("/api/kpis", detail="full", start="2003-02-01", end="2003-11-30")["data"]
    revenue_card = next(m for m in at.metric if m.label.startswith("Revenue ·"))
    assert readable(revenue_card.label) == "Revenue · Feb-Nov 2003"
    assert revenue_card.value == money(kpis["revenue"])  # here the headline is everything in view
    assert not revenue_card.delta and not revenue_card.proto.delta_description
    assert any("Feb-Nov 2002" in readable(c.value) for c in at.caption)


def test_a_country_filter_changes_the_kpis_and_the_url(dashboard_env: LiveApi) -> None:
    at = run_app()
    before = cards(at)["Revenue"]
    at.multiselect(key="country").set_value(["France"]).run()
    assert not at.exception
    france = dashboard_env.get("/api/kpis", detail="full", country="France")["data"]
    assert cards(at)["Revenue"] == money(headline(france))
    assert cards(at)["Revenue"] != before
    assert cards(at)["Customers"] == count(headline(france, "customer_count"))
    # "API call" shows the exact request, with the filter under the API's own parameter name.
    assert any(code.value.endswith("/api/kpis?country=France&detail=full") for code in at.code)


def test_a_link_with_query_parameters_reproduces_the_view(dashboard_env: LiveApi) -> None:
    at = run_app({"country": ["France", "Spain"], "dealsize": "Large"})
    assert not at.exception
    assert at.multiselect(key="country").value == ["France", "Spain"]
    assert at.multiselect(key="dealsize").value == ["Large"]
    expected = dashboard_env.get("/api/kpis", detail="full", country="France,Spain", dealsize="Large")["data"]
    assert cards(at)["Revenue"] == money(headline(expected))


def test_a_link_with_values_the_dashboard_does_not_understand_says_so(dashboard_env: LiveApi) -> None:
    at = run_app({"country": ["Atlantis", "Spain"], "start": "notadate", "colour": "red"})
    assert not at.exception
    (warning,) = at.warning
    text = warning.value
    assert "does not understand" in text
    assert plain("country=Atlantis is not among the countries in the data") in text
    assert plain("start=notadate is not a date") in text
    assert plain("colour is not a filter of the dashboard") in text
    assert "Spain" not in text.split("Showing instead")[0]  # a value it understood is not listed
    assert "Showing instead" in text and "Spain" in text.split("Showing instead")[1]
    typo = run_app({"country": "Frace"})
    assert plain("did you mean France?") in typo.warning[0].value
    assert plain("all countries") in typo.warning[0].value  # what it shows instead
    assert not run_app({"country": "France", "start": "2004-01-01"}).warning


def test_filters_survive_page_switches(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.multiselect(key="productline").set_value(["Ships"]).run()
    at.switch_page("views/customers.py").run()
    assert at.multiselect(key="productline").value == ["Ships"]
    top = dashboard_env.get("/api/top-customers", productline="Ships", limit=10)["data"]
    bars = figure(at, "chart-top-customers")["data"][0]
    assert bars["y"] == [r["customer_name"] for r in top]
    at.switch_page("views/overview.py").run()
    assert at.multiselect(key="productline").value == ["Ships"]
    ships = dashboard_env.get("/api/kpis", detail="full", productline="Ships")["data"]
    assert cards(at)["Revenue"] == money(headline(ships))


def test_the_top_n_choice_changes_how_many_top_customers_are_shown(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/customers.py").run()
    control = at.segmented_control(key="customers_top_n")
    assert (control.value, list(control.options)) == (10, ["10", "20", "50", "100"])
    assert len(figure(at, "chart-top-customers")["data"][0]["y"]) == 10
    for n in (20, 50, 100):
        at.segmented_control(key="customers_top_n").set_value(n).run()
        assert not at.exception
        names = figure(at, "chart-top-customers")["data"][0]["y"]
        assert len(names) == min(n, 92)  # the bundled data has 92 customers
        assert any(h.value == f"Top {n} customers by revenue" for h in at.subheader)
    top = dashboard_env.get("/api/top-customers", limit=100)["data"]
    assert names == [r["customer_name"] for r in top]


def test_customer_search_filters_the_table(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/customers.py").run()
    table = at.dataframe[0].value
    assert len(table) == dashboard_env.get("/api/kpis", detail="full")["data"]["customer_count"]
    assert "last_order_date" in table.columns
    at.text_input(key="customers_search").set_value("gifts").run()
    narrowed = at.dataframe[0].value
    assert 0 < len(narrowed) < len(table)
    assert all("gifts" in name.lower() for name in narrowed["customer_name"])


def test_grain_selector_changes_the_time_series(dashboard_env: LiveApi) -> None:
    at = run_app()
    monthly = figure(at, "chart-over-time")
    at.segmented_control(key="overview_grain").set_value("quarter").run()
    quarterly = figure(at, "chart-over-time")
    expected = dashboard_env.get("/api/sales-over-time", period="quarterly")["data"]
    assert quarterly["data"][1]["y"] == [r["revenue"] for r in expected]
    assert len(quarterly["data"][1]["y"]) < len(monthly["data"][1]["y"])


def test_day_grain_and_partial_periods_on_the_overview(dashboard_env: LiveApi) -> None:
    at = run_app()
    grains = at.segmented_control(key="overview_grain")
    assert list(grains.options) == ["Week", "Month", "Quarter", "Year"]  # no Day over 29 months
    assert any(
        "Day is offered for date ranges up to 92 days; this one has 882" in readable(c.value)
        for c in at.caption
    )
    grains.set_value("year").run()
    years = figure(at, "chart-over-time")
    assert years["data"][0]["marker"]["pattern"]["shape"] == ["", "", "/"]  # 2005: January-May only
    assert any("Partial year" in c.value and "2005" in c.value for c in at.caption)
    short = run_app({"start": "2004-11-01", "end": "2004-11-30"})
    assert "Day" in short.segmented_control(key="overview_grain").options


def test_choosing_a_country_on_the_geography_page_filters_every_page(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/geography.py").run()
    at.selectbox(key="geo-focus").set_value("Japan").run()
    assert at.multiselect(key="country").value == ["Japan"]
    at.switch_page("views/overview.py").run()
    japan = dashboard_env.get("/api/kpis", detail="full", country="Japan")["data"]
    assert cards(at)["Revenue"] == money(headline(japan))


def test_the_map_keeps_its_context_after_a_selection(dashboard_env: LiveApi) -> None:
    at = run_app({"country": "Japan"})
    at.switch_page("views/geography.py").run()
    assert not at.exception
    everywhere = dashboard_env.get("/api/sales-by-country")["data"]
    mapped = figure(at, "geo-map")["data"][0]
    assert len(mapped["locations"]) == len([r for r in everywhere if r["iso3"]]) == 19  # not Japan alone
    widths = dict(zip(mapped["locations"], mapped["marker"]["line"]["width"], strict=True))
    assert widths["JPN"] > widths["FRA"]  # the selection is outlined over the others' colours
    assert mapped["zmin"] == 0  # one scale from $0, never "$630.6226k$630.6228k"
    assert at.selectbox(key="geo-focus").value == "Japan"  # the picker says what is selected
    assert len(at.dataframe[0].value) == 19  # every country in the table
    at.selectbox(key="geo-focus").set_value("Singapore").run()  # a small market, picked without the map
    assert at.multiselect(key="country").value == ["Singapore"]
    next(b for b in at.button if b.label == "Show every country").click().run()
    assert at.multiselect(key="country").value == []
    assert at.selectbox(key="geo-focus").value is None


def test_refresh_keeps_the_selection(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.multiselect(key="dealsize").set_value(["Small"]).run()
    before = cards(at)
    refresh = next(b for b in at.button if b.label == "Refresh data")
    refresh.click().run()
    assert not at.exception
    assert at.multiselect(key="dealsize").value == ["Small"]
    assert cards(at) == before


def test_reversed_dates_warn_instead_of_failing(dashboard_env: LiveApi) -> None:
    import datetime as dt

    at = run_app()
    at.date_input(key="start").set_value(dt.date(2005, 1, 1)).run()
    at.date_input(key="end").set_value(dt.date(2004, 1, 1)).run()
    assert not at.exception
    assert not at.error
    assert any("From" in w.value and "after" in w.value for w in at.warning)
    assert cards(at)["Revenue"] == "$1,791,486.71"  # the date filter is not applied


def test_api_down_shows_one_message_then_retry_recovers(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESDASH_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "3")
    at = run_app()
    assert not at.exception
    assert len(at.error) == 1
    assert "Cannot reach the API" in at.error[0].value
    assert "salesdash serve" in at.error[0].value
    retry = next(b for b in at.button if b.label == "Retry")
    # The API comes back: Retry works without restarting, because the failure was not cached.
    monkeypatch.setenv("SALESDASH_API_URL", live_api.url)
    retry.click().run()
    assert not at.exception
    assert not at.error
    assert cards(at)["Revenue"] == "$1,791,486.71"


def test_data_page_reload_needs_a_token_and_never_shows_it(dashboard_env: LiveApi) -> None:
    at = run_app()
    at.switch_page("views/data.py").run()
    version = dashboard_env.get("/api/version")["data"]["data_version"]
    assert version in all_text(at)
    # The current load's quality report, from /api/data-versions.
    (load,) = dashboard_env.get("/api/data-versions", limit=1)["data"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Rows read"] == f"{load['report']['rows_read']:,}"
    assert labels["Order lines"] == f"{load['row_count']:,}"
    # A wrong token: one clear error, nothing reloaded.
    assert at.button(key="refresh-reload").disabled  # no token yet
    at.text_input(key="session_token").set_value("wrong-token-123").run()
    at.button(key="refresh-reload").click().run()
    assert not at.exception
    assert any("Reload failed" in e.value for e in at.error)
    assert dashboard_env.get("/api/version")["data"]["data_version"] == version
    # The admin token reloads the data: the new version and the quality report are shown.
    at.text_input(key="session_token").set_value(dashboard_env.admin_token).run()
    at.button(key="refresh-reload").click().run()
    assert not at.exception
    new_version = dashboard_env.get("/api/version")["data"]["data_version"]
    assert new_version != version
    text = all_text(at)
    assert new_version in text
    assert "Rows loaded" in {m.label for m in at.metric}
    assert dashboard_env.admin_token not in text
    assert "wrong-token-123" not in text


@pytest.fixture(scope="module")
def locked_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An API with SALESDASH_REQUIRE_AUTH on, and a viewer token for it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('locked') / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    viewer = create_token(engine, "viewer", "dashboard")
    server, thread = serve(Settings(database_url=url, require_auth=True), engine)
    yield f"http://127.0.0.1:{server.server_port}", viewer
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()


def test_an_api_that_requires_auth_gets_the_configured_viewer_token(
    locked_api: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, viewer = locked_api
    monkeypatch.setenv("SALESDASH_API_URL", url)
    monkeypatch.delenv("SALESDASH_API_TOKEN", raising=False)
    at = run_app()
    assert not at.exception
    assert len(at.error) == 1
    assert "SALESDASH_API_TOKEN" in at.error[0].value
    monkeypatch.setenv("SALESDASH_API_TOKEN", viewer)
    at = run_app()
    assert not at.exception and not at.error
    assert cards(at)["Revenue"] == "$1,791,486.71"
    assert viewer not in all_text(at)


def test_the_product_table_asks_for_the_apis_largest_page() -> None:
    """The Products page is a script (not imported here): its page size is read from its text."""
    import re
    from pathlib import Path

    from salesdash.views.catalog import MAX_PAGE

    page = Path(__file__).parents[2] / "src/salesdash/dashboard/views/products.py"
    found = re.search(r"^RANKING_PAGE = (\d+)$", page.read_text(), flags=re.MULTILINE)
    assert found and int(found.group(1)) == MAX_PAGE


@pytest.mark.parametrize("feed", [False, True], ids=["no feed", "live feed"])
def test_an_empty_store_says_no_data_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, feed: bool) -> None:
    """A store with no order lines yet: the page says so (not that the API is down); while a live consumer
    reports in, it says the feed will fill the page instead of asking for a file."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    settings = Settings(database_url=url)
    if feed:  # what `salesdash stream` records when it starts (store.stream.mark_started)
        mark_started(
            engine, settings.stream_name, settings.stream_subject, at=datetime.now(UTC).replace(tzinfo=None)
        )
    server, thread = serve(settings, engine)
    try:
        monkeypatch.setenv("SALESDASH_API_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.setenv("SALESDASH_AUTO_REFRESH_SECONDS", "0")
        at = run_app()
        assert not at.exception, [e.value for e in at.exception]
        notices = [e.value for e in at.error] + [i.value for i in at.info]
        text = " ".join(notices)
        assert "not available" not in text
        if feed:
            assert "No order lines yet" in text and "live order feed is connected" in text
            assert not at.error
        else:
            assert "No data yet" in text and "salesdash ingest" in text
    finally:
        server.shutdown()
        thread.join(timeout=10)
        engine.dispose()
