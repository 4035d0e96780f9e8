"""The dashboard in a real browser: the real API (`salesdash serve`) and the real dashboard (the command
`salesdash dashboard` runs) on free loopback ports over the bundled data, driven by Playwright + Chromium.

One browser session walks the whole dashboard: the first render of the Overview (its time is measured by `make
bench`, benchmarks/dashboard_render.py, not here), the reference KPI figures, a country filter typed
into the sidebar, page switches that keep it, every page at 1400 px and 390 px (full-page screenshots under
test-artifacts/dashboard/), no Streamlit exception anywhere and no horizontal page scroll on a phone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from salesdash.charts.format import money
from tests.conftest import ROOT
from tests.e2e.browser import (
    Stack,
    api_and_dashboard,
    assert_clean,
    card,
    full_screenshot,
    goto_ready,
    wait_ready,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AUTO_REFRESH_SECONDS = 3  # the dashboard polls /api/version this often in this test
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
VIEWS = {
    "": ("Sales overview", 4),  # url path -> (title, number of charts when fully drawn)
    "geography": ("Geography", 3),
    "products": ("Products", 3),
    "customers": ("Customers", 3),
    "seasonality": ("Seasonality", 3),
    "orders": ("Orders", 2),
    "data": ("Data", 0),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("dashboard-e2e")
    env = {"SALESDASH_API_THREADS": "8", "SALESDASH_AUTO_REFRESH_SECONDS": str(AUTO_REFRESH_SECONDS)}
    with api_and_dashboard(tmp, env) as running:
        yield running


def test_dashboard_in_a_real_browser(stack: Stack, browser: Browser) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()

    # 1. The Overview's first render after the servers started (Python imports, empty caches). Its time, a new
    #    visitor's and a filter change's, against a bare Streamlit page, are measured by `make bench`
    #    (benchmarks/dashboard_render.py), not here.
    goto_ready(page, stack.dashboard + "/", "Sales overview", charts=3, metrics=5)

    # 2. The reference figures (bundled data, default filters).
    # the cards: the headline period (Jan-May 2005) beside Jan-May 2004; everything in view below, no change
    assert card(page, "Revenue") == "$1,791,486.71"
    assert card(page, "Orders") == "59"
    assert card(page, "Average order value") == "$30,364.18"
    assert card(page, "Customers") == "40"
    revenue_card = page.locator('[data-testid="stMetric"]').filter(has_text="Revenue").first.inner_text()
    assert "Jan\u2011May\u00a02005" in revenue_card and "+41.3%" in revenue_card
    assert "vs Jan\u2011May\u00a02004: $1,267,959.53" in revenue_card  # wrapped, never cut
    main = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")  # markup.md's joiners
    assert "All of Jan 2003-May 2005 in view (no change shown): revenue $9,838,141.37 · 303 orders" in main
    assert_clean(page, "Overview")
    full_screenshot(page, ARTIFACTS / "overview-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    # 3. Filter to France through the sidebar: the revenue card changes to the API's France figure.
    france = money(
        stack.api_json("/api/kpis", country="France", detail="full")["data"]["headline"]["metrics"][
            "revenue"
        ]["current"]
    )
    assert france != "$1,791,486.71"
    countries = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Countries")
    countries.locator("input").click()
    page.keyboard.type("France")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.wait_for_function(
        """(expected) => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some(
             m => m.innerText.includes('Revenue') && m.innerText.includes(expected))""",
        arg=france,
        timeout=30_000,
    )
    assert card(page, "Revenue") == france
    page.wait_for_function("() => window.location.search.includes('country=France')", timeout=10_000)

    # 4. Switch pages in the sidebar: the filter stays (widget state and the URL).
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Customers").click()
    page.wait_for_url("**/customers**", timeout=30_000)
    wait_ready(page, "Customers", charts=1)
    assert "country=France" in page.url
    assert "France" in countries.inner_text()
    assert_clean(page, "Customers (France)")
    top = stack.api_json("/api/top-customers", country="France", limit=10)["data"]
    # the top-customers chart (the page opens with the acquisition and cohort charts)
    page.locator('[data-testid="stPlotlyChart"]').filter(has_text=top[0]["customer_name"]).first.wait_for(
        timeout=30_000
    )

    # 5. Every page, unfiltered, at desktop and phone width: drawn, no exception, no horizontal page scroll.
    for width in (1400, 390):
        for path, (title, charts) in VIEWS.items():
            page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
            goto_ready(
                page, f"{stack.dashboard}/{path}", title, charts=charts, metrics=5 if path == "" else 0
            )
            assert_clean(page, f"{path or 'overview'} at {width} px")
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path or 'overview'} scrolls sideways at {width} px"
            full_screenshot(page, ARTIFACTS / f"{path or 'overview'}-{width}.png", width)
    # 6. A shared link reproduces the view: the filters come from the URL.
    page.set_viewport_size({"width": 1400, "height": 900})
    goto_ready(page, f"{stack.dashboard}/?country=France", "Sales overview", charts=3, metrics=5)
    assert card(page, "Revenue") == france
    assert "France" in countries.inner_text()

    # 7. CSV download of a table: the API's own CSV for the same filters as its chart.
    section = (
        page.locator('[data-testid="stVerticalBlock"]')
        .filter(has=page.get_by_role("heading", name="Top countries"))
        .last
    )
    with page.expect_download() as download:
        section.get_by_role("button", name="CSV").first.click()
    body = Path(download.value.path()).read_text()
    # Top countries is a cross-filter chart: drawn (and its CSV made) for every filter but its own Countries
    # filter, France highlighted among the others (docs/dashboard.md)
    expected_csv = requests.get(
        f"{stack.api}/api/sales-by-country", params={"format": "csv"}, timeout=30
    ).text
    assert body.replace("\r\n", "\n") == expected_csv.replace("\r\n", "\n")
    assert any(line.startswith("France,FRA") for line in body.splitlines()[1:])

    # 8. Auto refresh: new data loaded behind the dashboard's back shows up without a reload.
    before = stack.api_json("/api/version")["data"]["data_version"]
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert before not in sidebar.inner_text()  # the raw version string is behind the "Details" toggle
    sidebar.get_by_text("Details").click()
    sidebar.get_by_text(before).wait_for()
    refreshed = requests.post(
        f"{stack.api}/api/data-refresh", headers={"Authorization": f"Bearer {stack.admin_token}"}, timeout=120
    )
    assert refreshed.status_code == 200, refreshed.text
    after = refreshed.json()["data"]["data_version"]
    assert after != before
    page.wait_for_function(
        "(v) => document.querySelector('[data-testid=\"stSidebar\"]').innerText.includes(v)",
        arg=after,
        timeout=(AUTO_REFRESH_SECONDS * 4 + 20) * 1000,
    )
    assert card(page, "Revenue") == france  # the selection survived the refresh
    assert_clean(page, "Overview after an automatic refresh")
    context.close()
    shots = sorted(p.name for p in ARTIFACTS.glob("*.png"))
    assert len(shots) == 2 * len(VIEWS), shots


def test_clicking_a_country_on_the_map_filters_every_page(stack: Stack, browser: Browser) -> None:
    """Geography: a click on Australia in the choropleth sets the Countries filter (URL included), and the
    Overview then shows the API's figure for Australia."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    goto_ready(page, f"{stack.dashboard}/geography", "Geography", charts=2)
    box = page.evaluate(
        """() => {
          const path = Array.from(document.querySelectorAll('path.choroplethlocation'))
            .find(p => p.__data__ && p.__data__.loc === 'AUS');
          if (!path) { return null; }
          path.scrollIntoView({block: 'center'});
          const r = path.getBoundingClientRect();
          return {x: r.x + r.width / 2, y: r.y + r.height / 2};
        }"""
    )
    assert box is not None, "Australia is not drawn on the map"
    page.mouse.move(box["x"], box["y"])
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("() => window.location.search.includes('country=Australia')", timeout=60_000)
    page.get_by_text("Every page shows Australia").first.wait_for(timeout=60_000)
    assert_clean(page, "Geography after a map click")
    kpis = stack.api_json("/api/kpis", country="Australia", detail="full")["data"]
    expected = money(kpis["headline"]["metrics"]["revenue"]["current"])
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Overview").click()
    wait_ready(page, "Sales overview", charts=3, metrics=5)
    assert card(page, "Revenue") == expected
    assert "country=Australia" in page.url
    context.close()
