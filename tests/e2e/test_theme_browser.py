"""Dark mode and accessibility in a real Chromium against the real servers over the bundled data.

The sidebar's Theme switch turns the page and every chart dark (computed colours, Plotly's full layout); a
full tour of every page, dark, is screenshotted at 1400 px (test-artifacts/theme/) with every request the
browser makes recorded: none leaves 127.0.0.1 (the favicon is the package's own PNG). Every page has its own
browser title, navigation links show a focus ring when reached with Tab, and the export buttons' accessible
names hold no icon ligature names.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request

from salesdash.charts.theme import DARK, LIGHT
from tests.e2e.browser import Stack, api_and_dashboard, assert_clean, full_screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "theme"
# path, the page's heading, its navigation title (the browser title is "<title> · salesdash")
PAGES = (
    ("/", "Sales overview", "Overview"),
    ("/geography", "Geography", "Geography"),
    ("/products", "Products", "Products"),
    ("/customers", "Customers", "Customers"),
    ("/seasonality", "Seasonality", "Seasonality"),
    ("/orders", "Orders", "Orders"),
    ("/forecast", "Forecast", "Forecast"),
    ("/data", "Data", "Data"),
    ("/quality", "Data quality", "Data quality"),
    ("/reports", "Reports", "Reports"),
)
SETTLED_JS = """
([title, charts]) => {
  const heading = Array.from(document.querySelectorAll('[data-testid="stMain"] h1')).some(
    h => h.innerText.trim() === title);
  const busy = document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]');
  const plots = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'));
  const drawn = plots.filter(p => p._fullLayout && p.querySelector(".main-svg"));
  return heading && !busy && plots.length >= charts && drawn.length === plots.length;
}
"""
# The colours the reader sees: the app's background and each drawn chart's font and grid (Plotly's full layout,
# i.e. after its template is applied).
COLOURS_JS = """
() => ({
  background: getComputedStyle(document.querySelector('.stApp')).backgroundColor,
  sidebar: getComputedStyle(document.querySelector('[data-testid="stSidebar"]')).backgroundColor,
  charts: Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')).map(p => ({
    font: p._fullLayout.font.color, grid: p._fullLayout.xaxis ? p._fullLayout.xaxis.gridcolor : null})),
})
"""
DARK_JS = (
    "([page, sidebar, text, grid]) => { const c = (" + COLOURS_JS + ")(); return c.background === page && "
    "c.sidebar === sidebar && c.charts.length > 0 && c.charts.every(p => p.font === text) && "
    "c.charts.some(p => p.grid === grid) && c.charts.every(p => !p.grid || p.grid === grid); }"
)
# Material Symbols ligature names: lower-case words joined by "_" ("ios_share", "expand_more") or one of the
# single-word icons the dashboard uses.
LIGATURE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(download|code|image|share|schedule|settings|public|groups)\b")


def rgb(colour: str) -> str:
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with api_and_dashboard(tmp_path_factory.mktemp("theme")) as running:
        yield running


def visit(page: Page, url: str, heading: str, charts: int = 0) -> None:
    """Open ``url`` and wait until its heading, at least ``charts`` charts (all of them drawn) and no spinner."""
    page.goto(url, wait_until="commit")
    page.wait_for_function(SETTLED_JS, arg=[heading, charts], polling=250, timeout=120_000)


def test_the_switch_turns_the_page_and_its_charts_dark(stack: Stack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    try:
        visit(page, stack.dashboard + "/", "Sales overview", charts=3)  # the first three charts, drawn
        light = page.evaluate(COLOURS_JS)
        assert light["background"] == rgb(LIGHT.background)
        assert light["charts"] and {c["font"] for c in light["charts"]} == {LIGHT.text}

        page.get_by_role("radiogroup", name="Theme").get_by_role("radio", name="Dark").click()
        # the rerun redraws the charts and Streamlit eases colours in: wait for the end state, then check it
        page.wait_for_function(
            DARK_JS, arg=[rgb(DARK.background), rgb(DARK.surface), DARK.text, DARK.grid], timeout=60_000
        )
        dark = page.evaluate(COLOURS_JS)
        assert dark["background"] == rgb(DARK.background)
        assert dark["sidebar"] == rgb(DARK.surface)
        assert {c["font"] for c in dark["charts"]} == {DARK.text}
        assert {c["grid"] for c in dark["charts"] if c["grid"]} == {DARK.grid}
        page.wait_for_url(re.compile(r"[?&]theme=Dark"), timeout=60_000)  # a shared link opens dark
    finally:
        page.close()


def test_dark_tour_titles_and_no_request_off_the_machine(stack: Stack, browser: Browser) -> None:
    """Every page, dark, at 1400 px: screenshotted, titled "<page> · salesdash", drawn without exceptions,
    and the browser asks nothing of any host but the dashboard's and the API's (both 127.0.0.1)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    outside: list[str] = []

    def on_request(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            outside.append(request.url)

    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.on("request", on_request)
    titles = {}
    try:
        for path, heading, nav_title in PAGES:
            visit(page, f"{stack.dashboard}{path}?theme=Dark", heading)
            assert_clean(page, path)
            background = page.evaluate(COLOURS_JS)["background"]
            assert background == rgb(DARK.background), path
            titles[path] = page.title()
            assert titles[path] == f"{nav_title} · salesdash"
            full_screenshot(page, ARTIFACTS / f"dark-{path.strip('/') or 'overview'}-1400.png", 1400)
            page.set_viewport_size({"width": 1400, "height": 1400})
        favicon = page.locator('link[rel~="icon"]').first.get_attribute("href") or ""
        assert not favicon.startswith("http") or urlsplit(favicon).hostname == "127.0.0.1", favicon
    finally:
        page.close()
    assert len(set(titles.values())) == len(PAGES)
    assert outside == []


def test_navigation_links_show_a_focus_ring_from_the_keyboard(stack: Stack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    try:
        visit(page, stack.dashboard + "/", "Sales overview")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        link = page.locator('[data-testid="stSidebarNavLink"]').first
        for _ in range(20):  # Tab through the page until the first navigation link has the focus
            page.keyboard.press("Tab")
            if link.evaluate("e => e === document.activeElement"):
                break
        assert link.evaluate("e => e === document.activeElement"), "Tab never reached the navigation"
        ring = link.evaluate(
            "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
        )
        assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2, ring
        assert ring[2] == rgb(LIGHT.primary), ring
    finally:
        page.close()


def test_export_buttons_have_names_without_icon_ligatures(stack: Stack, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    try:
        visit(page, stack.dashboard + "/", "Sales overview")
        exports = page.get_by_role("button", name="Export", exact=True)
        assert exports.count() >= 3  # the page's and each section's export menu
        exports.first.click()
        dialog = page.get_by_role("dialog", name="Export")
        dialog.wait_for()
        for name in ("Excel", "PDF report"):
            assert dialog.get_by_role("button", name=name, exact=True).count() == 1, name
        # every button of the page and of the menu, by the name Chromium gives it (the accessibility tree)
        tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
        named = [
            str((n.get("name") or {}).get("value") or "")
            for n in tree
            if (n.get("role") or {}).get("value")
            in ("button", "link", "radio", "switch", "DisclosureTriangle")
        ]
        assert "Export" in named and "Excel" in named and "CSV" in named and "API call" in named
        with_ligatures = [n for n in named if LIGATURE.search(n)]
        assert with_ligatures == [], with_ligatures
    finally:
        page.close()
