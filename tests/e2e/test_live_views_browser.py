"""Live views in a real Chromium: a new order redraws only the views whose answers it changed.

The Overview is filtered to France; a new order of a US customer is published on the live feed. The Top
countries view (drawn without its own country filter) must show the new US revenue without a reload, while the
KPI cards, Sales over time, Product-line share and Top movers (all France only) are neither fetched again
(the API's request counters show no new 200 for their paths: at most a 304 to the conditional GET that asked
whether they changed) nor redrawn (a MutationObserver on each of their containers records nothing, and their
elements are the same DOM nodes). The filter and a widget's state (the time grain) survive. Screenshots before
and after go to test-artifacts/live-views/.

The Products page, filtered to Ships with the measure set to Units (a control inside the product-line view that
sorts the ranking too, so a click on it reruns the whole page): a new Motorcycles order redraws the Product
lines view (drawn without its own product-line filter) with the new units, while the Product ranking and the
List-price gap (Ships only) are neither fetched again nor redrawn, and the measure stays Units. Screenshots go
to test-artifacts/live-views/products-before.png and products-after.png.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
from playwright.sync_api import Browser, Page

from salesdash.config import Settings
from salesdash.ingest.read import read_csv
from salesdash.store import make_engine
from salesdash.stream.consumer import StreamConsumer
from salesdash.stream.publisher import publish_messages
from tests.conftest import SAMPLE_CSV
from tests.e2e.browser import Stack, api_and_dashboard, assert_clean, full_screenshot, goto_ready
from tests.stream.conftest import PrivateNats, stream_settings, wait_for

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "live-views"
CHANGED = "overview-countries"
UNCHANGED = ("overview-kpis", "overview-over-time", "overview-product-lines", "overview-movers")
PATHS = {  # the API path of each view's main answer
    "overview-kpis": "/api/kpis",
    "overview-over-time": "/api/sales-over-time",
    "overview-movers": "/api/top-movers",
    CHANGED: "/api/sales-by-country",
}
ADDED = 5000.00  # the new order's SALES

# Record every DOM change inside each view's container and keep a handle on its first drawn element.
OBSERVE_JS = """
(names) => {
  window.__changes = {}; window.__nodes = {}; window.__log = [];
  for (const name of names) {
    const box = document.querySelector(`.st-key-view-${name}`);
    window.__changes[name] = 0;
    window.__nodes[name] = box.querySelector('[data-testid="stMetricValue"], .js-plotly-plot, [data-testid="stCaptionContainer"]');
    new MutationObserver((records) => { window.__changes[name] += records.length; window.__log.push(...records.map(r => [name, r.type, r.attributeName, r.target.nodeName])); }).observe(
      box, {subtree: true, childList: true, characterData: true, attributes: true});
  }
}
"""
SAME_NODES_JS = """
(names) => names.every(name => {
  const box = document.querySelector(`.st-key-view-${name}`);
  const first = box.querySelector('[data-testid="stMetricValue"], .js-plotly-plot, [data-testid="stCaptionContainer"]');
  return window.__nodes[name] !== null && window.__nodes[name] === first && first.isConnected;
})
"""
# The time grain of Sales over time is Quarter (its segmented control's radio is checked) and drawn by quarter.
QUARTER_JS = """
() => Array.from(document.querySelectorAll('.st-key-view-overview-over-time [role="radio"]')).some(
  b => b.innerText.trim() === 'Quarter' && b.getAttribute('aria-checked') === 'true')
"""
# The value a view's (first) bar chart draws for a name (Plotly keeps the figure's data on its element).
VIEW_BAR_JS = """
([view, name]) => {
  const plot = document.querySelector(`.st-key-view-${view} .js-plotly-plot`);
  if (!plot || !plot.data) return null;
  const bars = plot.data[0];
  const i = Array.from(bars.y).indexOf(name);
  return i < 0 ? null : bars.x[i];
}
"""
# The revenue the Top countries chart draws for a country.
BAR_JS = f"([country]) => ({VIEW_BAR_JS})(['overview-countries', country])"
# The segmented control named ``label`` inside the view ``view`` is checked.
CHECKED_JS = """
([view, label]) => Array.from(document.querySelectorAll(`.st-key-view-${view} [role="radio"]`)).some(
  b => b.innerText.trim() === label && b.getAttribute('aria-checked') === 'true')
"""


def requests_by_path(api: str) -> dict[tuple[str, str], float]:
    """The API's own request counters (GET /metrics): (path, status) -> count."""
    text = requests.get(f"{api}/metrics", timeout=30).text
    found: dict[tuple[str, str], float] = {}
    pattern = r'^salesdash_http_requests_total\{endpoint="([^"]+)",method="GET",status="(\d+)"\} (\S+)$'
    for path, status, count in re.findall(pattern, text, flags=re.MULTILINE):
        found[(path, status)] = float(count)
    return found


def publish_line(settings: Settings, **fields: str) -> None:
    """Publish one order line on the live feed: a US customer's line of the sample, with ``fields`` changed."""
    line = read_csv(SAMPLE_CSV).frame.query("COUNTRY == 'USA'").iloc[0].to_dict()
    line.update(fields)
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, publish_messages(settings, [json.dumps(line).encode()])).result()


@contextmanager
def live_stack(
    tmp_path: Path, run_consumer: Callable[..., StreamConsumer]
) -> Iterator[tuple[Stack, Settings]]:
    """The API and the dashboard over the bundled data, and a live consumer of a private NATS server feeding it."""
    nats_server = PrivateNats(tmp_path / "jetstream")
    nats_server.start()
    try:
        settings = stream_settings(nats_server.url, f"sqlite:///{tmp_path / 'salesdash.db'}")
        env = {
            "SALESDASH_STREAM_URL": settings.stream_url,
            "SALESDASH_STREAM_NAME": settings.stream_name,
            "SALESDASH_STREAM_SUBJECT": settings.stream_subject,
            "SALESDASH_LIVE_POLL_SECONDS": "1",
        }
        with api_and_dashboard(tmp_path, env=env) as stack:
            engine = make_engine(settings.database_url)
            run_consumer(settings, engine)
            wait_for(lambda: stack.api_json("/api/stream")["data"]["active"], 60, "the consumer to be live")
            yield stack, settings
            engine.dispose()
    finally:
        nats_server.stop()


def request_delta(
    before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]
) -> Callable[[str, str], float]:
    def new(path: str, status: str) -> float:
        return after.get((path, status), 0) - before.get((path, status), 0)

    return new


def assert_untouched(page: Page, views: tuple[str, ...]) -> None:
    """No DOM change inside the views' containers since OBSERVE_JS, and their first elements are the same."""
    changes = page.evaluate("() => window.__changes")
    assert changes == dict.fromkeys(views, 0), page.evaluate("() => window.__log")
    assert page.evaluate(SAME_NODES_JS, list(views))


def test_a_new_order_redraws_only_the_views_it_changed(
    tmp_path: Path, browser: Browser, run_consumer: Callable[..., StreamConsumer]
) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with live_stack(tmp_path, run_consumer) as (stack, settings):
        countries = stack.api_json("/api/sales-by-country")["data"]
        usa = next(r["revenue"] for r in countries if r["country"] == "USA")
        france_kpis = stack.api_json("/api/kpis", country="France")["data"]

        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        goto_ready(page, f"{stack.dashboard}/?country=France", "Sales overview", charts=3, metrics=5)
        page.get_by_text("no order yet").first.wait_for(timeout=60_000)  # the watcher is live
        # page state: the time grain of Sales over time set to Quarter (a widget inside a live view)
        quarter = page.locator(".st-key-view-overview-over-time").get_by_role("radio", name="Quarter")
        quarter.click()
        page.wait_for_function(QUARTER_JS, timeout=60_000)
        drawn = page.wait_for_function(BAR_JS, arg=["USA"], timeout=60_000)
        assert drawn.json_value() == usa  # the chart draws the API's figure
        kpi_text = page.locator(".st-key-view-overview-kpis").inner_text()
        full_screenshot(page, ARTIFACTS / "before.png", 1400)  # the viewport stays this tall
        page.evaluate(OBSERVE_JS, list(UNCHANGED))
        before = requests_by_path(stack.api)

        # a new order of a US customer already in the data, on a date inside the data's dates
        publish_line(
            settings, ORDERNUMBER="99002", ORDERLINENUMBER="1", QUANTITYORDERED="50", PRICEEACH="100",
            SALES=f"{ADDED:.2f}", STATUS="Shipped", ORDERDATE="5/30/2005 0:00", QTR_ID="2", MONTH_ID="5",
            YEAR_ID="2005",
        )  # fmt: skip

        expected = round(usa + ADDED, 2)
        page.wait_for_function(f"([c]) => ({BAR_JS})([c]) === {expected}", arg=["USA"], timeout=90_000)
        after = requests_by_path(stack.api)

        # the changed view was fetched again; the unchanged ones were only asked "changed?" (304, no body)
        new = request_delta(before, after)
        delta = {f"{path} {status}": new(path, status) for path, status in set(after) if new(path, status)}
        (ARTIFACTS / "requests.json").write_text(json.dumps(dict(sorted(delta.items())), indent=1))
        assert new(PATHS[CHANGED], "200") >= 1
        for view in UNCHANGED:
            if view in PATHS:
                assert new(PATHS[view], "200") == 0, f"{view} was fetched again"
        assert new("/api/kpis", "304") >= 1  # the watcher asked, and the API said unchanged
        # ...and not redrawn: no DOM change in their containers, the same elements
        assert_untouched(page, UNCHANGED)
        assert page.locator(".st-key-view-overview-kpis").inner_text() == kpi_text
        # the filter and the widget state survived; the page was not reloaded
        assert "country=France" in page.url
        assert page.evaluate(QUARTER_JS)
        assert stack.api_json("/api/kpis", country="France")["data"] == france_kpis
        assert_clean(page, "the live Overview")
        # the watcher's lines keep their places while the relay comes and goes: one of each, not a stale copy
        assert page.get_by_text("Checks for new orders every second.").count() == 1
        full_screenshot(page, ARTIFACTS / "after.png", 1400)  # last: a screenshot restyles the inputs


PRODUCTS_UNCHANGED = ("products-ranking", "products-list-price-gap")
UNITS = 50  # the new Motorcycles line's QUANTITYORDERED


def test_a_new_order_redraws_only_the_products_views_it_changed(
    tmp_path: Path, browser: Browser, run_consumer: Callable[..., StreamConsumer]
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_stack(tmp_path, run_consumer) as (stack, settings):
        lines = stack.api_json("/api/sales-by-category")["data"]  # the product-line view: no own filter
        motorcycles = next(r["units"] for r in lines if r["product_line"] == "Motorcycles")

        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        goto_ready(page, f"{stack.dashboard}/products?productline=Ships", "Products", charts=3)
        page.get_by_text("no order yet").first.wait_for(timeout=60_000)  # the watcher is live
        # the measure, inside the product-line view, also sorts the ranking: a click reruns the whole page
        lines_view = page.locator(".st-key-view-products-lines")
        lines_view.get_by_role("radio", name="Units").click()
        page.wait_for_function(CHECKED_JS, arg=["products-lines", "Units"], timeout=60_000)
        page.locator(".st-key-view-products-ranking").get_by_text("products by units").wait_for(
            timeout=60_000
        )
        drawn = page.wait_for_function(VIEW_BAR_JS, arg=["products-lines", "Motorcycles"], timeout=60_000)
        assert drawn.json_value() == motorcycles
        ranking_text = page.locator(".st-key-view-products-ranking").inner_text()
        full_screenshot(page, ARTIFACTS / "products-before.png", 1400)
        page.evaluate(OBSERVE_JS, list(PRODUCTS_UNCHANGED))
        before = requests_by_path(stack.api)

        # a new Motorcycles order of a US customer, on a date inside the data's dates
        publish_line(
            settings, ORDERNUMBER="99004", ORDERLINENUMBER="1", QUANTITYORDERED=str(UNITS), PRICEEACH="100",
            SALES="5000.00", STATUS="Shipped", ORDERDATE="5/30/2005 0:00", QTR_ID="2", MONTH_ID="5",
            YEAR_ID="2005", PRODUCTLINE="Motorcycles", PRODUCTCODE="S10_1678", DEALSIZE="Medium",
        )  # fmt: skip

        page.wait_for_function(
            f"([v, n]) => ({VIEW_BAR_JS})([v, n]) === {motorcycles + UNITS}",
            arg=["products-lines", "Motorcycles"],
            timeout=90_000,
        )
        new = request_delta(before, requests_by_path(stack.api))
        assert new("/api/sales-by-category", "200") >= 1
        assert new("/api/product-performance", "200") == 0, "the ranking was fetched again"
        assert new("/api/list-price-gap", "200") == 0, "the list-price gap was fetched again"
        assert_untouched(page, PRODUCTS_UNCHANGED)
        assert page.locator(".st-key-view-products-ranking").inner_text() == ranking_text
        # the filter and the measure survived; the page was not reloaded
        assert "productline=Ships" in page.url
        assert page.evaluate(CHECKED_JS, ["products-lines", "Units"])
        assert_clean(page, "the live Products page")
        full_screenshot(page, ARTIFACTS / "products-after.png", 1400)
