"""Markup in the data never renders as markup in the dashboard (a real Chromium on every page).

The data is the hostile corpus' markup_names.csv (a country that is a Markdown image, a customer with bold,
HTML and LaTeX, a product line with a colour directive, a code span, an HTML link and an autolink), loaded from
a file whose name holds a code-span break-out, bold, an image and LaTeX. Every page, a country filter set to the
markup country, and an API error that quotes a markup value: no image, link, bold text, code span, colour or
KaTeX element is made from a value, and the browser requests nothing but the dashboard and the API.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.data.bad.make_corpus import MARKUP_COUNTRY
from tests.e2e.browser import Stack, api_and_dashboard, assert_clean

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad" / "markup_names.csv"
FILE_NAME = "qx`**Bee**`![i](y.png)$z$ :blue[Blu].csv"
PAGES = (
    ("/", "Sales overview"),
    ("/geography", "Geography"),
    ("/products", "Products"),
    ("/customers", "Customers"),
    ("/seasonality", "Seasonality"),
    ("/orders", "Orders"),
    ("/forecast", "Forecast"),
    ("/data", "Data"),
    ("/quality", "Data quality"),
)
# The page is drawn: its title is up, nothing is running or loading, every chart has drawn its traces.
SETTLED_JS = """
([title, explain]) => {
  const heading = Array.from(document.querySelectorAll('[data-testid="stMain"] h1')).some(
    h => h.innerText.trim() === title);
  const busy = document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]');
  const plots = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'));
  const drawn = plots.filter(p => p.querySelector(".main-svg"));
  const state = {heading, busy: !!busy, plots: plots.length, drawn: drawn.length};
  if (explain) return JSON.stringify(state);
  return heading && !busy && drawn.length === plots.length;
}
"""
# Every element that markup in a value would have made (values' words are distinctive: Bold, Bee, Red, Blu...).
MARKUP_FROM_DATA_JS = """
() => {
  const found = [];
  const where = (el) => {
    const box = el.closest("[data-testid]");
    return box ? " (in " + box.getAttribute("data-testid") + ")" : "";
  };
  const words = new Set(["Bold", "b", "Bee", "Red", "Blu", "qx", "Cody"]);
  for (const img of document.querySelectorAll("img, image")) {
    const src = img.getAttribute("src") || img.getAttribute("href") || "";
    if (/8599|y\\.png|\\.png$/.test(src)) found.push("image " + src + where(img));
  }
  for (const a of document.querySelectorAll("a")) {
    const href = a.getAttribute("href") || a.getAttribute("xlink:href") || "";
    if (/8599|example\\.com|^mailto:/.test(href)) found.push("link " + href + where(a));
  }
  for (const el of document.querySelectorAll(".katex, .katex-html, math")) found.push("katex " + el.textContent + where(el));
  for (const el of document.querySelectorAll("strong, b, em, i, code, span, tspan, del, mark")) {
    const text = (el.textContent || "").trim();
    if (words.has(text)) found.push(el.tagName.toLowerCase() + " " + text + where(el));
  }
  return found;
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("markup")
    data = workdir / FILE_NAME
    shutil.copyfile(CORPUS, data)
    with api_and_dashboard(workdir, csv=data) as running:
        yield running


def visit(page: Page, url: str, title: str) -> list[str]:
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_function(SETTLED_JS, arg=[title, False], polling=250, timeout=120_000)
    except PlaywrightTimeout:
        raise AssertionError(f"{url} never settled: {page.evaluate(SETTLED_JS, [title, True])}") from None
    return list(page.evaluate(MARKUP_FROM_DATA_JS))


def test_no_value_renders_as_markup_on_any_page(stack: Stack, browser: Browser):
    origins = {urlsplit(stack.dashboard).netloc, urlsplit(stack.api).netloc}
    outside: list[str] = []

    def on_request(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc not in origins:
            outside.append(request.url)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("request", on_request)
    found: dict[str, list[str]] = {}
    try:
        for path, title in PAGES:
            found[path] = visit(page, stack.dashboard + path, title)
            assert_clean(page, path)
        # The markup country as the filter: the Geography notice and every chart's subtitle name it.
        focused = f"/geography?country={quote(MARKUP_COUNTRY)}"
        found[focused] = visit(page, stack.dashboard + focused, "Geography")
        assert page.get_by_text("![c](http", exact=False).count() > 0  # shown, as written
        # A value that is not in the data: the API's refusal quotes it, and the error notice shows it as text.
        refused = "/?country=" + quote("![e](http://127.0.0.1:8599/err.png) **Bold**")
        found[refused] = visit(page, stack.dashboard + refused, "Sales overview")
    finally:
        page.close()
    markup = {path: hits for path, hits in found.items() if hits}
    assert markup == {}, markup
    # Nothing from the data is fetched, and nothing else leaves the machine (the favicon is the package's PNG).
    assert outside == []
