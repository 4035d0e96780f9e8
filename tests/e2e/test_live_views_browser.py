"""Live views in a real Chromium: a new order redraws only the views whose answers it changed.

The Overview is filtered to France; a new order of a US customer is published on the live feed. The Top
countries view (drawn without its own country filter) must show the new US revenue without a reload, while the
KPI cards, Sales over time, Product-line share and Top movers (all France only) are neither fetched again
(the API's request counters show no new 200 for their paths: at most a 304 to the conditional GET that asked
whether they changed) nor redrawn (a MutationObserver on each of their containers records nothing, and their
elements are the same DOM nodes). The filter and a widget's state (the time grain) survive. Screenshots before
and after go to test-artifacts/live-views/.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from playwright.sync_api import Browser

from salesdash.ingest.read import read_csv
from salesdash.store import make_engine
from salesdash.stream.consumer import StreamConsumer
from salesdash.stream.publisher import publish_messages
from tests.conftest import SAMPLE_CSV
from tests.e2e.browser import api_and_dashboard, assert_clean, full_screenshot, goto_ready
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
# The revenue the Top countries chart draws for a country (Plotly keeps the figure's data on its element).
BAR_JS = """
([country]) => {
  const plot = document.querySelector('.st-key-view-overview-countries .js-plotly-plot');
  if (!plot || !plot.data) return null;
  const bars = plot.data[0];
  const i = Array.from(bars.y).indexOf(country);
  return i < 0 ? null : bars.x[i];
}
"""


def requests_by_path(api: str) -> dict[tuple[str, str], float]:
    """The API's own request counters (GET /metrics): (path, status) -> count."""
    text = requests.get(f"{api}/metrics", timeout=30).text
    found: dict[tuple[str, str], float] = {}
    pattern = r'^salesdash_http_requests_total\{endpoint="([^"]+)",method="GET",status="(\d+)"\} (\S+)$'
    for path, status, count in re.findall(pattern, text, flags=re.MULTILINE):
        found[(path, status)] = float(count)
    return found


def test_a_new_order_redraws_only_the_views_it_changed(
    tmp_path: Path, browser: Browser, run_consumer: Callable[..., StreamConsumer]
) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
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
            line = read_csv(SAMPLE_CSV).frame.query("COUNTRY == 'USA'").iloc[0].to_dict()
            line.update(
                ORDERNUMBER="99002", ORDERLINENUMBER="1", QUANTITYORDERED="50", PRICEEACH="100",
                SALES=f"{ADDED:.2f}", STATUS="Shipped", ORDERDATE="5/30/2005 0:00", QTR_ID="2", MONTH_ID="5",
                YEAR_ID="2005",
            )  # fmt: skip
            with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
                pool.submit(asyncio.run, publish_messages(settings, [json.dumps(line).encode()])).result()

            expected = round(usa + ADDED, 2)
            page.wait_for_function(f"([c]) => ({BAR_JS})([c]) === {expected}", arg=["USA"], timeout=90_000)
            after = requests_by_path(stack.api)

            # the changed view was fetched again; the unchanged ones were only asked "changed?" (304, no body)
            def new(path: str, status: str) -> float:
                return after.get((path, status), 0) - before.get((path, status), 0)

            delta = {
                f"{path} {status}": new(path, status) for path, status in set(after) if new(path, status)
            }
            (ARTIFACTS / "requests.json").write_text(json.dumps(dict(sorted(delta.items())), indent=1))
            assert new(PATHS[CHANGED], "200") >= 1
            for view in UNCHANGED:
                if view in PATHS:
                    assert new(PATHS[view], "200") == 0, f"{view} was fetched again"
            assert new("/api/kpis", "304") >= 1  # the watcher asked, and the API said unchanged
            # ...and not redrawn: no DOM change in their containers, the same elements
            changes = page.evaluate("() => window.__changes")
            assert changes == dict.fromkeys(UNCHANGED, 0), page.evaluate("() => window.__log")
            assert page.evaluate(SAME_NODES_JS, list(UNCHANGED))
            assert page.locator(".st-key-view-overview-kpis").inner_text() == kpi_text
            # the filter and the widget state survived; the page was not reloaded
            assert "country=France" in page.url
            assert page.evaluate(QUARTER_JS)
            assert stack.api_json("/api/kpis", country="France")["data"] == france_kpis
            assert_clean(page, "the live Overview")
            full_screenshot(page, ARTIFACTS / "after.png", 1400)  # last: a screenshot restyles the inputs
            engine.dispose()
    finally:
        nats_server.stop()
