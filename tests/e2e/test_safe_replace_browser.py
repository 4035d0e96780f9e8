"""Safe data changes in a real browser: upload a replacement file (tests/data/replacement.csv), see what the
replace changes (before/after and what disappears), confirm, see the new figures; restore the previous version
and see the reference figures again. Saved views: save the Geography page with a filter, open it from the
Overview. Screenshots under test-artifacts/safe-replace/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import DATA, ROOT
from tests.e2e.browser import Stack, api_and_dashboard, assert_clean, enter_token, full_screenshot, goto_ready
from tests.reference import ORDERS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "safe-replace"
REFERENCE_LINE = "revenue $9,838,141.37 · 303 orders"  # tests/reference.py, as the Overview writes it
REPLACEMENT_LINE = (
    "revenue $880,320.66 · 29 orders"  # tests/data/replacement.csv (tests/api/test_replace_check.py)
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with api_and_dashboard(tmp_path_factory.mktemp("safe-replace")) as running:
        yield running


def wait_text(page: Page, text: str, timeout: float = 120_000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def overview_says(page: Page, stack: Stack, line: str) -> None:
    goto_ready(page, f"{stack.dashboard}/", "Sales overview", charts=3, metrics=4)
    wait_text(page, line)
    assert_clean(page, "the Overview")


def test_replace_with_confirmation_then_restore(stack: Stack, browser: Browser) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    overview_says(page, stack, REFERENCE_LINE)
    original = stack.api_json("/api/version")["data"]["data_version"]

    goto_ready(page, f"{stack.dashboard}/data", None, charts=0)
    enter_token(page, stack.admin_token)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        str(DATA / "replacement.csv")
    )
    page.get_by_role("button", name="Validate the file").click()
    wait_text(page, "Disappear after the replace")
    summary = page.locator('[data-testid="stTable"]').filter(has_text="after the replace").inner_text()
    for text in ("$9,838,141.37", "$880,320.66", "2,823", "227", "2003-01-06 to 2005-05-31", "2005-01-05"):
        assert text in summary, (text, summary)
    warning = (
        page.locator('[data-testid="stAlert"]').filter(has_text="Disappear after the replace").inner_text()
    )
    assert "278 orders" in warning and "72 customers" in warning and "24 months" in warning
    replace = page.get_by_role("button", name="Replace the data")
    assert replace.is_disabled()  # not before the confirmation
    assert stack.api_json("/api/version")["data"]["data_version"] == original
    full_screenshot(page, ARTIFACTS / "replace-summary-1400.png", 1400)

    page.set_viewport_size({"width": 1400, "height": 2400})
    page.get_by_text("I understand: the current data is replaced by this file").click()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('button')).some("
        "b => b.innerText.includes('Replace the data') && !b.disabled)",
        timeout=60_000,
    )
    replace.click()
    wait_text(page, "replaced the data")
    replaced = stack.api_json("/api/version")["data"]["data_version"]
    assert replaced != original
    assert_clean(page, "the Data page after the replace")
    overview_says(page, stack, REPLACEMENT_LINE)
    full_screenshot(page, ARTIFACTS / "overview-after-replace-1400.png", 1400)

    page.set_viewport_size({"width": 1400, "height": 2400})
    goto_ready(page, f"{stack.dashboard}/data", None, charts=0)
    enter_token(page, stack.admin_token)  # a page load is a new session
    page.locator(f".st-key-restore-{original} button").click()
    wait_text(page, f"Restore data version {original}?")
    page.get_by_role("button", name="Yes, restore").click()
    wait_text(page, f"Restored data version {original}")
    restored = stack.api_json("/api/kpis")["data"]
    assert restored["order_count"] == ORDERS
    overview_says(page, stack, REFERENCE_LINE)
    full_screenshot(page, ARTIFACTS / "overview-after-restore-1400.png", 1400)
    context.close()


def test_save_a_view_and_open_it_from_another_page(stack: Stack, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    goto_ready(page, f"{stack.dashboard}/geography?country=France", "Geography", charts=3)
    sidebar = page.locator('[data-testid="stSidebar"]')
    enter_token(page, stack.admin_token)
    sidebar.locator("summary", has_text="Saved views").click()
    name = page.locator(".st-key-saved_view_name input")
    name.fill("France on the map")
    name.press("Enter")
    save = page.locator(".st-key-saved_view_save button")
    page.wait_for_function(
        "() => { const b = document.querySelector('.st-key-saved_view_save button'); return b && !b.disabled; }",
        timeout=60_000,
    )
    save.click()
    wait_text(page, "Saved “France on the map”.")
    (view,) = [v for v in stack.api_json("/api/saved-views")["data"] if v["name"] == "France on the map"]
    assert (view["page"], view["state"]) == ("geography", "country=France")
    # the link to copy: this dashboard's address + the view's page and query string
    sidebar.get_by_text(f"{stack.dashboard}/geography?country=France").first.wait_for(timeout=60_000)
    full_screenshot(page, ARTIFACTS / "saved-view-1400.png", 1400)

    page.set_viewport_size({"width": 1400, "height": 2400})
    goto_ready(page, f"{stack.dashboard}/", "Sales overview", charts=3, metrics=4)
    if not page.locator(f".st-key-saved_view_open_{view['id']} button").is_visible():
        sidebar.locator("summary", has_text="Saved views").click()
    page.locator(f".st-key-saved_view_open_{view['id']} button").click()
    page.wait_for_url("**/geography?country=France", timeout=60_000)
    wait_text(page, "Opened “France on the map”.")
    assert_clean(page, "the opened view")
    context.close()
