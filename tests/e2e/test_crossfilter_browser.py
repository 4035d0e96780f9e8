"""Cross-filtering in a real browser (Playwright + Chromium against `salesdash serve` and the dashboard over the
bundled data): a click on a product-line bar on the Overview filters every page (URL, KPI cards equal to the
API's, the "Filtered by" chip on another page), the chip's click brings back the totals, and a brush across
"Sales over time" sets the date range. Waits are on the URL and on drawn pages, never on time. Screenshots of
the chip row (1400 px and 390 px) go to test-artifacts/crossfilter/ (ignored by git)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Locator, Page

from salesdash.charts.format import count, money
from salesdash.dashboard.selection import period_end
from tests.conftest import ROOT
from tests.e2e.browser import Stack, api_and_dashboard, assert_clean, card, goto_ready, wait_ready
from tests.reference import REVENUE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "crossfilter"
# the plot of a chart drawn under a key ending in ``suffix`` (cross-filter keys carry a prefix)
PLOT_JS = """(suffix) => Array.from(document.querySelectorAll('[class*="st-key-"]')).find(
  e => Array.from(e.classList).some(c => c.startsWith('st-key-') && c.endsWith(suffix))
).querySelector('.js-plotly-plot')"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with api_and_dashboard(tmp_path_factory.mktemp("crossfilter-e2e")) as running:
        yield running


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def headline_cards(stack: Stack, **filters: str) -> dict[str, str]:
    metrics = stack.api_json("/api/kpis", detail="full", **filters)["data"]["headline"]["metrics"]
    return {
        "Revenue": money(metrics["revenue"]["current"]),
        "Orders": count(metrics["order_count"]["current"]),
        "Average order value": money(metrics["average_order_value"]["current"]),
        "Customers": count(metrics["customer_count"]["current"]),
    }


def chip(page: Page, words: str) -> Locator:
    """The chip saying ``words`` (markup.md keeps "Label:" apart from its value with a word joiner)."""
    pattern = re.compile(re.escape(words).replace(":", ":\u2060?"))
    # .first: Streamlit draws a button with a help tooltip twice (one copy hidden, to measure it)
    return page.locator(".st-key-filtered-by button").filter(has_text=pattern).first


def shown_cards(page: Page) -> dict[str, str]:
    return {label: card(page, label) for label in ("Revenue", "Orders", "Average order value", "Customers")}


def test_a_bar_click_filters_every_page_and_its_chip_brings_back_the_totals(
    stack: Stack, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    goto_ready(page, stack.dashboard, "Sales overview", charts=3, metrics=5)
    totals = shown_cards(page)
    bar = page.evaluate(
        f"""() => {{
          const plot = ({PLOT_JS})('chart-product-share');
          const first = plot.querySelector('g.point path');
          first.scrollIntoView({{block: 'center'}});
          const r = first.getBoundingClientRect();
          return {{name: plot.data[0].y[0], x: r.x + r.width / 2, y: r.y + r.height / 2}};
        }}"""
    )
    biggest = stack.api_json("/api/sales-by-category")["data"][0]["product_line"]
    assert bar["name"] == biggest  # the top bar is the largest product line (names without markup)
    page.mouse.click(bar["x"], bar["y"])
    page.wait_for_function("() => window.location.search.includes('productline=')", timeout=60_000)
    assert query(page)["productline"] == [biggest]
    wait_ready(page, "Sales overview", charts=3, metrics=5)
    assert_clean(page, "the Overview after a bar click")
    chip(page, f"Product lines: {biggest}").wait_for(timeout=60_000)
    assert shown_cards(page) == headline_cards(stack, productline=biggest) != totals

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    row = page.locator(".st-key-filtered-by")
    row.screenshot(path=str(ARTIFACTS / "chips-1400.png"))

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Orders").click()
    wait_ready(page, "Orders", charts=2)
    chip(page, f"Product lines: {biggest}").wait_for(timeout=60_000)
    assert query(page)["productline"] == [biggest]
    assert_clean(page, "Orders under the cross-filter")

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Overview").click()
    wait_ready(page, "Sales overview", charts=3, metrics=5)
    chip(page, f"Product lines: {biggest}").click()
    page.wait_for_function("() => !window.location.search.includes('productline=')", timeout=60_000)
    wait_ready(page, "Sales overview", charts=3, metrics=5)
    assert page.locator(".st-key-filtered-by").count() == 0  # no filter, no chip row
    assert shown_cards(page) == totals == headline_cards(stack)
    assert stack.api_json("/api/kpis")["data"]["revenue"] == REVENUE
    context.close()


def test_a_brush_across_sales_over_time_sets_the_date_range(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    goto_ready(page, stack.dashboard, "Sales overview", charts=3, metrics=5)
    area = page.evaluate(
        f"""() => {{
          const plot = ({PLOT_JS})('chart-over-time');
          plot.scrollIntoView({{block: 'center'}});
          const r = plot.querySelector('.nsewdrag').getBoundingClientRect();
          const x0 = r.x + r.width * 0.3, x1 = r.x + r.width * 0.55;
          const axis = plot._fullLayout.xaxis;
          return {{x0, x1, y: r.y + r.height / 2,
                   from: axis.p2d(x0 - r.x), to: axis.p2d(x1 - r.x)}};
        }}"""
    )
    page.mouse.move(area["x0"], area["y"])
    page.mouse.down()
    page.mouse.move(area["x1"], area["y"], steps=10)
    page.mouse.up()
    page.wait_for_function(
        "() => window.location.search.includes('start=') && window.location.search.includes('end=')",
        timeout=60_000,
    )
    start, end = (date.fromisoformat(query(page)[k][0]) for k in ("start", "end"))
    brushed = date.fromisoformat(area["from"][:10]), date.fromisoformat(area["to"][:10])
    # whole months (the grain drawn), covering the periods under the brush and no more than a month beyond it
    assert start.day == 1 and end == period_end(end.replace(day=1), "month")
    assert start < end and abs((start - brushed[0]).days) <= 31 and abs((end - brushed[1]).days) <= 31
    wait_ready(page, "Sales overview", charts=3, metrics=5)
    assert_clean(page, "the Overview after a brush")
    chip(page, f"Order dates: {start.isoformat()} to {end.isoformat()}").wait_for(timeout=60_000)
    assert shown_cards(page) == headline_cards(stack, start=start.isoformat(), end=end.isoformat())
    page.set_viewport_size({"width": 390, "height": 2400})
    page.locator(".st-key-filtered-by").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".st-key-filtered-by").screenshot(path=str(ARTIFACTS / "chips-390.png"))
    context.close()


def test_a_customer_table_row_sets_the_customer_filter(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    goto_ready(page, f"{stack.dashboard}/customers", "Customers", charts=3)
    grid = page.locator('[class*="table-customers"] [data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    top = stack.api_json("/api/top-customers", limit=100)["data"][0]["customer_name"]
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)  # the first row's selection box (under the header)
    page.wait_for_function("() => window.location.search.includes('customer=')", timeout=60_000)
    assert query(page)["customer"] == [top]
    chip(page, f"Customers: {top}").wait_for(timeout=60_000)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Overview").click()
    wait_ready(page, "Sales overview", charts=3, metrics=5)
    assert shown_cards(page) == headline_cards(stack, customer=top)
    assert query(page)["customer"] == [top]
    context.close()
