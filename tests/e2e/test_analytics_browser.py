"""The analytics views in a real browser: the real API (`salesdash serve`) and dashboard on free loopback ports
over the bundled data, Playwright + Chromium. Forecast, data quality, RFM, the KPI period choice, an Excel
download through the Export menu (bytes checked against the API) and the upload flow (validate -> preview ->
append -> new data version). Screenshots go to test-artifacts/analytics/."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from salesdash.auth import create_token
from salesdash.cli import dashboard_command
from salesdash.config import load_settings
from salesdash.dashboard.format import percent
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from tests.conftest import ROOT, SAMPLE_CSV
from tests.orderlines import line, write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "analytics"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip
# Every chart on the page has drawn its traces, there are enough KPI values, and nothing is loading.
READY_JS = """
([charts, metrics]) => {
  const plots = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'));
  const drawn = plots.filter(p => p.querySelector("g.trace, g.hm"));
  const values = document.querySelectorAll('[data-testid="stMetricValue"]');
  const busy = document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]');
  return plots.length >= charts && drawn.length === plots.length && values.length >= metrics && !busy;
}
"""
FULL_HEIGHT_JS = """
() => Math.max(document.documentElement.scrollHeight, ...Array.from(document.querySelectorAll(
  '[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stAppViewContainer"]'
)).map(e => e.scrollHeight))
"""


@dataclass
class Stack:
    api: str
    dashboard: str

    def api_json(self, path: str, **params: object) -> dict:
        response = requests.get(f"{self.api}{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up in {seconds} s")


def goto_ready(page: Page, url: str, charts: int, metrics: int = 0) -> None:
    page.goto(url, wait_until="commit")
    page.wait_for_function(READY_JS, arg=[charts, metrics], polling="raf", timeout=120_000)


def card(page: Page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def assert_clean(page: Page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, f"Streamlit exception on {where}"
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, f"error notice on {where}"


def full_screenshot(page: Page, path: Path, width: int) -> None:
    height = int(page.evaluate(FULL_HEIGHT_JS))
    page.set_viewport_size({"width": width, "height": min(height + 40, 8000)})
    page.wait_for_timeout(600)  # the charts re-layout to the new size
    page.screenshot(path=str(path), full_page=True)


@pytest.fixture(scope="module")
def stack_and_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str, Path]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does)")
    tmp = tmp_path_factory.mktemp("analytics-e2e")
    database_url = f"sqlite:///{tmp / 'salesdash.db'}"
    engine = make_engine(database_url)
    ingest_file(engine, SAMPLE_CSV)
    token = create_token(engine, "admin", "e2e")
    engine.dispose()
    api_port, dashboard_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "SALESDASH_DATABASE_URL": database_url,
        "SALESDASH_SOURCE_PATH": str(SAMPLE_CSV),
        "SALESDASH_API_URL": api_url,
        "SALESDASH_CORS_ORIGINS": f"http://127.0.0.1:{dashboard_port}",
    }
    settings = load_settings(dashboard_host="127.0.0.1", dashboard_port=dashboard_port, api_url=api_url)
    quiet = {"env": env, "cwd": tmp, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen([sys.executable, "-m", "salesdash", "serve", "--port", str(api_port)], **quiet),  # type: ignore[call-overload]
        subprocess.Popen(dashboard_command(settings), **quiet),  # type: ignore[call-overload]
    ]
    try:
        wait_http(f"{api_url}/api/health", processes[0])
        wait_http(f"http://127.0.0.1:{dashboard_port}/_stcore/health", processes[1])
        yield Stack(api=api_url, dashboard=f"http://127.0.0.1:{dashboard_port}"), token, tmp
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def wait_text(page: Page, text: str, timeout: float = 120_000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def test_analytics_views_in_a_real_browser(
    stack_and_token: tuple[Stack, str, Path], browser: Browser
) -> None:
    stack, token, tmp = stack_and_token
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()

    # Forecast: chart with bands, the backtest error the API reports.
    forecast = stack.api_json("/api/forecast", horizon=3)
    goto_ready(page, f"{stack.dashboard}/forecast", charts=1, metrics=4)
    assert card(page, "Backtest error (MAPE)") == percent(forecast["meta"]["mape"])
    assert page.locator(".js-plotly-plot .legendtext").filter(has_text="95% interval").count() == 1
    assert_clean(page, "Forecast")
    full_screenshot(page, ARTIFACTS / "forecast-1400.png", 1400)
    page.set_viewport_size({"width": 390, "height": 844})
    goto_ready(page, f"{stack.dashboard}/forecast", charts=1, metrics=4)
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 1
    full_screenshot(page, ARTIFACTS / "forecast-390.png", 390)
    page.set_viewport_size({"width": 1400, "height": 900})

    # Data quality.
    goto_ready(page, f"{stack.dashboard}/quality", charts=1, metrics=4)
    assert card(page, "Rows read") == "2,823"
    wait_text(page, "PRICEEACH is capped at 100.00")
    assert_clean(page, "Data quality")
    full_screenshot(page, ARTIFACTS / "quality-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    # Customers: the RFM section.
    goto_ready(page, f"{stack.dashboard}/customers", charts=3)
    wait_text(page, "Customer segments (RFM)")
    assert_clean(page, "Customers")
    full_screenshot(page, ARTIFACTS / "customers-rfm-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    # KPI cards vs the previous period (a date range is needed for one).
    goto_ready(page, f"{stack.dashboard}/?start=2005-01-01&end=2005-05-31", charts=3, metrics=5)
    page.get_by_text("vs previous period", exact=True).first.click()
    wait_text(page, "vs Aug-Dec 2004")
    assert_clean(page, "Overview vs previous period")
    page.screenshot(path=str(ARTIFACTS / "overview-previous-period.png"))

    # Export menu on the Products page: the Excel file holds the API's numbers.
    goto_ready(page, f"{stack.dashboard}/products?country=France", charts=2)
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
    goto_ready(page, f"{stack.dashboard}/data", charts=0)
    field = page.get_by_label("Admin token").last
    field.fill(token)
    field.press("Enter")  # Streamlit takes a text input's value on Enter or blur
    page.wait_for_timeout(500)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_path))
    page.get_by_role("button", name="Validate the file").click()
    try:
        wait_text(page, "passed validation: 2 order lines")
    except Exception:
        full_screenshot(page, ARTIFACTS / "data-upload-failed.png", 1400)
        print("ALERTS:", page.locator('[data-testid="stAlert"]').all_inner_texts())
        print("UPLOADER:", page.locator('[data-testid="stFileUploader"]').all_inner_texts())
        raise
    page.get_by_text("Append these lines to the data").click()
    full_screenshot(page, ARTIFACTS / "data-upload-preview-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.get_by_role("button", name="Load into salesdash").click()
    wait_text(page, "New data version")
    after = stack.api_json("/api/version")["data"]["data_version"]
    assert after != before
    wait_text(page, after)
    assert stack.api_json("/api/data-quality")["data"]["history"][0]["load_mode"] == "append"
    assert page.locator('[data-testid="stException"]').count() == 0
    full_screenshot(page, ARTIFACTS / "data-upload-done-1400.png", 1400)
    context.close()
