"""The analytics views in a real browser: the real API (`salesdash serve`) and dashboard on free loopback ports
over the bundled data, Playwright + Chromium. Forecast, data quality, RFM, the KPI period choice, an Excel
download through the Export menu (bytes checked against the API) and the upload flow (validate -> preview ->
append -> new data version). Screenshots go to test-artifacts/analytics/."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page

from salesdash.charts.format import percent
from tests.conftest import ROOT
from tests.e2e.browser import (
    Stack,
    api_and_dashboard,
    assert_clean,
    card,
    enter_token,
    full_screenshot,
    goto_ready,
)
from tests.orderlines import line, write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "analytics"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with api_and_dashboard(tmp_path_factory.mktemp("analytics-e2e")) as running:
        yield running


def wait_text(page: Page, text: str, timeout: float = 120_000) -> None:
    """Wait until ``text`` is shown in the page's main area (the sidebar keeps the data version hidden
    behind its "Details" toggle)."""
    page.locator('[data-testid="stMain"]').get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def test_analytics_views_in_a_real_browser(stack: Stack, browser: Browser) -> None:
    token, tmp = stack.admin_token, stack.workdir
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()

    # Forecast: chart with bands, the backtest error the API reports.
    forecast = stack.api_json("/api/forecast", horizon=3)
    goto_ready(page, f"{stack.dashboard}/forecast", None, charts=1, metrics=4)
    assert card(page, "Backtest error (MAPE)") == percent(forecast["meta"]["mape"])
    assert page.locator(".js-plotly-plot .legendtext").filter(has_text="95% interval").count() == 1
    assert_clean(page, "Forecast")
    full_screenshot(page, ARTIFACTS / "forecast-1400.png", 1400)
    page.set_viewport_size({"width": 390, "height": 844})
    goto_ready(page, f"{stack.dashboard}/forecast", None, charts=1, metrics=4)
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
    full_screenshot(page, ARTIFACTS / "forecast-390.png", 390)
    page.set_viewport_size({"width": 1400, "height": 900})

    # Data quality.
    goto_ready(page, f"{stack.dashboard}/quality", None, charts=1, metrics=4)
    assert card(page, "Rows read") == "2,823"
    wait_text(page, "PRICEEACH is capped at 100.00")
    assert_clean(page, "Data quality")
    full_screenshot(page, ARTIFACTS / "quality-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    # Customers: the RFM section.
    goto_ready(page, f"{stack.dashboard}/customers", None, charts=3)
    wait_text(page, "Customer segments (RFM)")
    assert_clean(page, "Customers")
    full_screenshot(page, ARTIFACTS / "customers-rfm-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    # KPI cards vs the previous period (a date range is needed for one).
    goto_ready(page, f"{stack.dashboard}/?start=2005-01-01&end=2005-05-31", None, charts=3, metrics=5)
    page.get_by_text("vs previous period", exact=True).first.click()
    wait_text(page, "vs Aug\u2011Dec\u00a02004")  # the card keeps a period's name on one line
    assert_clean(page, "Overview vs previous period")
    page.screenshot(path=str(ARTIFACTS / "overview-previous-period.png"))

    # Export menu on the Products page: the Excel file holds the API's numbers.
    goto_ready(page, f"{stack.dashboard}/products?country=France", None, charts=2)
    page.get_by_role("button", name="Export").first.click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Excel").first.click()
    content = Path(download.value.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    api = stack.api_json("/api/sales-by-category", country="France")["data"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [r["revenue"] for r in api]
    page.screenshot(path=str(ARTIFACTS / "products-export-menu.png"))
    page.keyboard.press("Escape")

    # Upload flow on the Data page: validate -> report + preview -> append -> new data version.
    rows = [line(99001, date(2005, 5, 31), 1500.0), line(99001, date(2005, 5, 31), 250.0, line_number=2)]
    csv_path = write_csv(tmp / "new_orders.csv", rows)
    before = stack.api_json("/api/version")["data"]["data_version"]
    goto_ready(page, f"{stack.dashboard}/data", None, charts=0)
    enter_token(page, token)  # the sidebar's one token field, used by every write
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_path))
    page.get_by_role("button", name="Validate the file").click()
    try:
        wait_text(page, "passed validation: 2 order lines")
    except Exception:
        full_screenshot(page, ARTIFACTS / "data-upload-failed.png", 1400)
        print("ALERTS:", page.locator('[data-testid="stAlert"]').all_inner_texts())
        print("UPLOADER:", page.locator('[data-testid="stFileUploader"]').all_inner_texts())
        raise
    full_screenshot(page, ARTIFACTS / "data-upload-preview-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.get_by_role("button", name="Append the lines").click()
    wait_text(page, "New data version")
    after = stack.api_json("/api/version")["data"]["data_version"]
    assert after != before
    wait_text(page, after)
    assert stack.api_json("/api/data-quality")["data"]["history"][0]["load_mode"] == "append"
    assert page.locator('[data-testid="stException"]').count() == 0
    full_screenshot(page, ARTIFACTS / "data-upload-done-1400.png", 1400)
    context.close()
