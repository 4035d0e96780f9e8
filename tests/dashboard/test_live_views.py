"""Which views a new data version changed (the pure rule of dashboard/live.py) and the Overview drawn as live
views (AppTest against a real API): each view records the answers it drew, and with the same data every view
is unchanged."""

from __future__ import annotations

import requests

from salesdash.dashboard.components.context import DRAWN_KEY
from salesdash.dashboard.live import PAGE, changed_views
from tests.dashboard.conftest import LiveApi
from tests.dashboard.test_app import run_app

OVERVIEW_VIEWS = (
    "overview-kpis", "overview-over-time", "overview-product-lines", "overview-countries", "overview-movers"
)  # fmt: skip

DRAWN = {
    PAGE: {"/api/filters": "f1"},
    "kpis": {"/api/kpis?country=France": "k1", "/api/definitions": "d1"},
    "countries": {"/api/sales-by-country": "c1"},
    "trend": {"/api/kpis?country=France": "k1", "/api/sales-over-time?country=France": "t1"},
}


def test_only_views_with_an_answer_of_another_etag_changed() -> None:
    same = {url: etag for answers in DRAWN.values() for url, etag in answers.items()}
    assert changed_views(DRAWN, same) == []
    assert changed_views(DRAWN, same | {"/api/sales-by-country": "c2"}) == ["countries"]
    # an answer two views show: both changed, in the page's order
    assert changed_views(DRAWN, same | {"/api/kpis?country=France": "k2"}) == ["kpis", "trend"]
    assert changed_views(DRAWN, same | {"/api/filters": "f2"}) == [PAGE]


def test_an_answer_without_an_etag_or_not_asked_counts_as_changed() -> None:
    same = {url: etag for answers in DRAWN.values() for url, etag in answers.items()}
    refused = same | {"/api/definitions": None}  # the API refused it now
    assert changed_views(DRAWN, refused) == ["kpis"]
    missing = {k: v for k, v in same.items() if k != "/api/sales-over-time?country=France"}
    assert changed_views(DRAWN, missing) == ["trend"]
    unvalidated = {"v": {"/api/x": None}}  # drawn from an answer that had no ETag
    assert changed_views(unvalidated, {"/api/x": None}) == ["v"]
    assert changed_views({}, same) == []


def test_the_overview_records_what_each_live_view_drew(dashboard_env: LiveApi) -> None:
    at = run_app({"country": "France"})
    assert not at.exception, [e.value for e in at.exception]
    drawn = at.session_state[DRAWN_KEY]
    assert set(drawn) == {PAGE, *OVERVIEW_VIEWS}
    assert any("/api/filters" in url for url in drawn[PAGE])
    assert any(url.startswith(f"{dashboard_env.url}/api/kpis?") for url in drawn["overview-kpis"])
    # the grains offered depend on the cards' period: the trend view shows (and so follows) that answer too
    assert set(drawn["overview-kpis"]) & set(drawn["overview-over-time"])
    assert all("country=France" in url for url in drawn["overview-over-time"] if "/api/sales" in url)
    countries = next(url for url in drawn["overview-countries"] if "/api/sales-by-country" in url)
    assert "country=" not in countries  # drawn without its own filter (cross-filtering)
    # every answer carries the API's ETag, and asking again under the same data: 304, nothing changed
    current = {}
    for answers in drawn.values():
        for url, etag in answers.items():
            assert etag, url
            again = requests.get(url, headers={"If-None-Match": etag}, timeout=30)
            assert again.status_code == 304, url
            current[url] = again.headers["ETag"]
    assert changed_views(drawn, current) == []
