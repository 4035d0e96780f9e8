"""The live dashboard in a real Chromium: with a consumer on the live feed, the Overview shows "Live" and a newly
published order's revenue without a reload, and the chosen filter stays as it was."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import Browser, Page

from salesdash.charts.format import money
from salesdash.ingest.read import read_csv
from salesdash.store import make_engine
from salesdash.stream.consumer import StreamConsumer
from salesdash.stream.publisher import publish_messages
from tests.conftest import SAMPLE_CSV
from tests.e2e.browser import api_and_dashboard, assert_clean, card, goto_ready, wait_ready
from tests.stream.conftest import PrivateNats, stream_settings, wait_for

SAMPLE_REVENUE = 9_838_141.37


def test_a_published_order_appears_without_a_reload(
    tmp_path: Path, browser: Browser, run_consumer: Callable[..., StreamConsumer]
) -> None:
    nats_server = PrivateNats(tmp_path / "jetstream")  # its own server: nothing shared, nothing left behind
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
            engine = make_engine(settings.database_url)  # the store the API serves
            run_consumer(settings, engine)
            wait_for(lambda: stack.api_json("/api/stream")["data"]["active"], 60, "the consumer to be live")
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            goto_ready(page, f"{stack.dashboard}/?country=France", "Sales overview", charts=3, metrics=5)
            # the card shows the headline period (the latest year to date: Jan-May 2005, docs/metrics.md)
            france = stack.api_json("/api/kpis", country="France", detail="full")["data"]["headline"][
                "metrics"
            ]["revenue"]["current"]
            assert card(page, "Revenue") == money(france)
            page.get_by_text("no order yet").first.wait_for(timeout=60_000)  # the live caption
            assert "Live" in page.locator('[data-testid="stSidebar"]').inner_text()
            # a new order of a French customer, published while the page is open
            french = read_csv(SAMPLE_CSV).frame.query("COUNTRY == 'France'").iloc[0].to_dict()
            french.update(
                ORDERNUMBER="99001",
                ORDERLINENUMBER="1",
                QUANTITYORDERED="10",
                PRICEEACH="100",
                SALES="1234.56",
                STATUS="Shipped",
                ORDERDATE="5/31/2005 0:00",
                QTR_ID="2",
                MONTH_ID="5",
                YEAR_ID="2005",
            )  # fmt: skip  (inside the headline period)
            with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
                pool.submit(asyncio.run, publish_messages(settings, [json.dumps(french).encode()])).result()
            expected = money(round(france + 1234.56, 2))
            page.wait_for_function(
                """(want) => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some(
                     m => m.innerText.includes('Revenue') && m.innerText.includes(want))""",
                arg=expected,
                timeout=90_000,
            )
            assert card(page, "Revenue") == expected
            assert "country=France" in page.url  # the filter survived the update
            page.get_by_text("last order at").first.wait_for(timeout=30_000)
            assert_clean(page, "the live Overview")
            assert stack.api_json("/api/kpis")["data"]["revenue"] == round(SAMPLE_REVENUE + 1234.56, 2)

            # the Data quality page (no live views: it runs whole) follows the feed too, refusals included
            page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data quality").click()
            wait_ready(page, "Data quality", charts=1, metrics=8)
            assert feed_metric(page, "Lines appended") == "1"
            assert feed_metric(page, "Dead letters") == "0"
            with ThreadPoolExecutor(1) as pool:  # a poison message: a dead letter, no new data version
                pool.submit(asyncio.run, publish_messages(settings, [b"not an order line"])).result()
            wait_metric(page, "Dead letters", "1")
            second = french | {"ORDERNUMBER": "99002"}
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, publish_messages(settings, [json.dumps(second).encode()])).result()
            wait_metric(page, "Lines appended", "2")
            assert_clean(page, "the live Data quality page")
            engine.dispose()
    finally:
        nats_server.stop()


def feed_metric(page: Page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def wait_metric(page: Page, label: str, value: str) -> None:
    """Wait until the card ``label`` shows ``value`` (the page updating itself, no reload)."""
    page.wait_for_function(
        """([label, value]) => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some(
             m => m.innerText.includes(label)
               && m.querySelector('[data-testid="stMetricValue"]').innerText.trim() === value)""",
        arg=[label, value],
        timeout=90_000,
    )
