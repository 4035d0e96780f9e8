"""Which views a new data version changed (the pure rule of dashboard/live.py), the Overview drawn as live
views (AppTest against a real API): each view records the answers it drew, and with the same data every view
is unchanged; and every data page drawn as live views, where a new order changes only the views it touches.

The page test draws each page (AppTest, filtered so that some of its views show the new order and the others
do not) over a store of its own, appends one order line as the live consumer does (``commit_batch``, a new data
version), then asks each drawn URL again as the watcher does (a conditional GET with the ETag it was drawn
with): the views with another answer are exactly the ones the page's scenario expects, and nothing drawn
outside a view (which would rerun the whole page) changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from salesdash.config import Settings
from salesdash.dashboard.components.context import DRAWN_KEY
from salesdash.dashboard.live import PAGE, changed_views
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.store.stream import commit_batch
from salesdash.stream.messages import prepare_batch
from tests.conftest import SAMPLE_CSV
from tests.dashboard.conftest import LiveApi, serve
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


# The new order line: an existing US customer's Motorcycles product, a Medium deal, inside the data's dates (so
# the filter options, drawn outside every view, stay as they are).
NEW_LINE = {
    "ORDERNUMBER": "99003", "QUANTITYORDERED": "50", "PRICEEACH": "100", "ORDERLINENUMBER": "1",
    "SALES": "5000.00", "ORDERDATE": "5/30/2005 0:00", "STATUS": "Shipped", "QTR_ID": "2", "MONTH_ID": "5",
    "YEAR_ID": "2005", "PRODUCTLINE": "Motorcycles", "MSRP": "95", "PRODUCTCODE": "S10_1678",
    "CUSTOMERNAME": "Land of Toys Inc.", "PHONE": "2125557818", "ADDRESSLINE1": "897 Long Airport Avenue",
    "ADDRESSLINE2": "", "CITY": "NYC", "STATE": "NY", "POSTALCODE": "10022", "COUNTRY": "USA", "TERRITORY": "NA",
    "CONTACTLASTNAME": "Yu", "CONTACTFIRSTNAME": "Kwai", "DEALSIZE": "Medium",
}  # fmt: skip
# page: (the filters it is drawn with, its live views in page order, the views the new line changes). A view
# drawn without its own filter (cross-filtering: the chart keeps the other categories) shows the new line;
# a view restricted by the filter does not.
PAGES: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]] = {
    "overview": ({"country": "France"}, OVERVIEW_VIEWS, ("overview-countries",)),
    "geography": (
        {"country": "France"}, ("geography-countries", "geography-penetration"), ("geography-countries",)
    ),
    "products": (
        {"productline": "Ships"},
        ("products-lines", "products-ranking", "products-list-price-gap"),
        ("products-lines",),
    ),
    "customers": (
        {"customer": "La Rochelle Gifts"},
        (
            "customers-acquisition", "customers-cohorts", "customers-top", "customers-all", "customers-history",
            "customers-rfm",
        ),
        ("customers-top", "customers-all"),
    ),
    "seasonality": (
        {"country": "France"}, ("seasonality-heatmap", "seasonality-quarters", "seasonality-years"), ()
    ),
    "orders": (
        {"dealsize": "Large"}, ("orders-status", "orders-deals", "orders-lines", "orders-detail"), ("orders-deals",)
    ),
    "forecast": ({"country": "France"}, ("forecast",), ()),
}  # fmt: skip


@pytest.fixture(scope="module")
def drawn_before_a_new_order(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """What each page's live views drew (AppTest over an API of its own), then one new order line committed
    as the live consumer commits a batch."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live-pages') / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    server, thread = serve(Settings(database_url=url, source_path=SAMPLE_CSV), engine)
    api = f"http://127.0.0.1:{server.server_port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SALESDASH_API_URL", api)
        env.setenv("SALESDASH_REQUEST_TIMEOUT", "30")
        drawn: dict[str, Any] = {}
        sessions: dict[str, Any] = {}  # one session per filter (the link opens the Overview), then its pages
        for page, (query, _, _) in PAGES.items():
            key = json.dumps(query)
            if key not in sessions:
                sessions[key] = run_app(query)
            at = sessions[key]
            if page != "overview":
                at.switch_page(f"views/{page}.py").run()
            assert not at.exception, (page, [e.value for e in at.exception])
            drawn[page] = at.session_state[DRAWN_KEY]
    before = requests.get(f"{api}/api/version", timeout=30).json()["data"]["data_version"]
    batch = prepare_batch([(1, json.dumps(NEW_LINE).encode())])
    assert not batch.refused, batch.refused
    at = datetime.now(UTC).replace(tzinfo=None)
    commit_batch(
        engine, batch.lines, sequences=batch.sequences, payloads=batch.payloads, refused=[], stream="TEST",
        subject="test.orders", version=f"live-pages-{at:%H%M%S%f}", source_sha256=batch.sha256, at=at,
        report=batch.report,
    )  # fmt: skip
    after = requests.get(f"{api}/api/version", timeout=30).json()["data"]["data_version"]
    assert after != before
    yield drawn
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()


@pytest.mark.parametrize("page", list(PAGES))
def test_a_new_order_changes_only_the_views_it_touches(
    drawn_before_a_new_order: dict[str, Any], page: str
) -> None:
    query, views, expected = PAGES[page]
    drawn = drawn_before_a_new_order[page]
    assert list(drawn) == [PAGE, *views]  # every view of the page is a live view, in the page's order
    # nothing but the filter options is drawn outside the views (a change there would rerun the whole page)
    assert all("/api/filters" in url for url in drawn[PAGE]), drawn[PAGE]
    assert any(f"{next(iter(query))}=" in url for answers in drawn.values() for url in answers)  # filtered
    # the watcher's question for each URL drawn: a conditional GET with the ETag it was drawn with
    current: dict[str, str | None] = {}
    for answers in drawn.values():
        for url, etag in answers.items():
            assert etag, url
            again = requests.get(url, headers={"If-None-Match": etag}, timeout=30)
            assert again.status_code in (200, 304), (url, again.status_code)
            current[url] = again.headers.get("ETag")
    assert changed_views(drawn, current) == list(expected)
