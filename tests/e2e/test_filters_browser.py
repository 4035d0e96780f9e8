"""The territory, customer and product-code filters in a real browser (Playwright + Chromium): choosing
"North America" in the sidebar changes the Overview cards to the API's figure for territory NA and puts the
name in the URL; a customer found through the search box is applied the same way. Full-page screenshots go
to test-artifacts/filters/ (never tracked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from salesdash.charts.format import money
from tests.conftest import ROOT
from tests.e2e.browser import Stack, api_and_dashboard, assert_clean, card, full_screenshot, goto_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "filters"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with api_and_dashboard(tmp_path_factory.mktemp("filters-e2e")) as running:
        yield running


def _revenue_card_becomes(page: Page, expected: str) -> None:
    page.wait_for_function(
        """(expected) => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).some(
             m => m.innerText.includes('Revenue') && m.innerText.includes(expected))""",
        arg=expected,
        timeout=60_000,
    )


def _headline_revenue(stack: Stack, **params: object) -> str:
    kpis = stack.api_json("/api/kpis", detail="full", **params)["data"]
    return money(kpis["headline"]["metrics"]["revenue"]["current"])


def test_choosing_a_territory_and_a_customer_in_the_sidebar(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    goto_ready(page, stack.dashboard, "Sales overview", charts=3, metrics=5)
    everything = card(page, "Revenue")

    expected = _headline_revenue(stack, territory="NA")
    assert expected != everything
    territories = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Territories")
    territories.locator("input").click()
    page.keyboard.type("North America")  # the name people read
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _revenue_card_becomes(page, expected)
    assert card(page, "Revenue") == expected
    # the URL carries the name people read (the API takes it too); a link with the code works as well
    page.wait_for_function("() => window.location.search.includes('territory=North+America')", timeout=30_000)
    assert "North America" in territories.inner_text()
    assert_clean(page, "Overview (North America)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    full_screenshot(page, ARTIFACTS / "overview-territory-na.png", 1400)

    # a customer found by typing in the search box, then picked from the matches
    name = "Mini Gifts Distributors Ltd."
    expected = _headline_revenue(stack, territory="NA", customer=name)
    search = page.locator('[data-testid="stTextInput"]').filter(has_text="Find customers").locator("input")
    search.fill("mini gifts")
    search.press("Enter")
    customers = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Customers")
    customers.locator("input").click()
    page.get_by_role("option", name=name).click()
    page.keyboard.press("Escape")
    _revenue_card_becomes(page, expected)
    page.wait_for_function("() => window.location.search.includes('customer=Mini')", timeout=30_000)
    assert_clean(page, "Overview (North America, one customer)")
    full_screenshot(page, ARTIFACTS / "overview-territory-customer.png", 1400)
    context.close()
