"""What the browser tests share: the real API (`salesdash serve`) and the real dashboard (the command
`salesdash dashboard` runs) on free loopback ports over the bundled data, and the page helpers Playwright +
Chromium need (drawn charts, KPI cards, exception blocks, full-page screenshots)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page

from benchmarks.reliability.common import free_port
from salesdash.cli import dashboard_command
from salesdash.config import load_settings
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.conftest import SAMPLE_CSV

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip
# Tallest scrolling area (Streamlit scrolls inside its main container, not the document).
FULL_HEIGHT_JS = """
() => Math.max(document.documentElement.scrollHeight, ...Array.from(document.querySelectorAll(
  '[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stAppViewContainer"]'
)).map(e => e.scrollHeight))
"""

# True when every chart on the page has drawn its traces, the KPI/metric values are there, the page's title
# (when given) is shown and nothing is still loading; records the time of that moment (ms since navigation start) in window.__salesdashReady.
READY_JS = """
([charts, metrics, title]) => {
  const plots = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'));
  const drawn = plots.filter(p => p.querySelector("g.trace, g.hm, .choroplethlayer path.choroplethlocation"));
  const values = document.querySelectorAll('[data-testid="stMetricValue"]');
  // a rerun in progress: Streamlit's running icon, or elements of the previous run still shown (stale)
  const busy = document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"], '
    + '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"], [data-stale="true"]');
  const heading = Array.from(document.querySelectorAll('[data-testid="stMain"] h1')).some(
    h => h.innerText.trim() === title);
  const ready = (title === null || heading) && plots.length >= charts && drawn.length === plots.length
    && values.length >= metrics && !busy;
  if (ready && window.__salesdashReady === undefined) { window.__salesdashReady = performance.now(); }
  return ready;
}
"""


@dataclass
class Stack:
    api: str
    dashboard: str
    admin_token: str
    workdir: Path
    api_process: subprocess.Popen[bytes] | None = None  # `salesdash serve` (a test may stop it)

    def api_json(self, path: str, **params: object) -> dict:
        response = requests.get(f"{self.api}{path}", params=params, timeout=60)
        response.raise_for_status()
        return response.json()


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


@contextmanager
def api_and_dashboard(
    workdir: Path,
    env: dict[str, str] | None = None,
    csv: Path = SAMPLE_CSV,
) -> Iterator[Stack]:
    """The API and the dashboard over a fresh SQLite store holding ``csv`` (the bundled data unless told; plus
    an admin token), both stopped on exit."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (`make test` does as root)"
        )
    database_url = f"sqlite:///{workdir / 'salesdash.db'}"
    engine = make_engine(database_url)
    ingest_file(engine, csv)
    token = create_token(engine, "admin", "browser test")
    engine.dispose()
    api_port, dashboard_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "SALESDASH_DATABASE_URL": database_url,
        "SALESDASH_SOURCE_PATH": str(SAMPLE_CSV),
        "SALESDASH_API_URL": api_url,
        "SALESDASH_CORS_ORIGINS": f"http://127.0.0.1:{dashboard_port}",
    } | (env or {})
    settings = load_settings(dashboard_host="127.0.0.1", dashboard_port=dashboard_port, api_url=api_url)
    commands = {
        f"{api_url}/api/health": [sys.executable, "-m", "salesdash", "serve", "--port", str(api_port)],
        f"http://127.0.0.1:{dashboard_port}/_stcore/health": dashboard_command(settings),
    }
    quiet = {"env": environment, "cwd": workdir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = {health: subprocess.Popen(command, **quiet) for health, command in commands.items()}  # type: ignore[call-overload]
    try:
        for health, process in processes.items():
            wait_http(health, process)
        api_process = processes[f"{api_url}/api/health"]
        yield Stack(api_url, f"http://127.0.0.1:{dashboard_port}", token, workdir, api_process)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_ready(
    page: Page, title: str | None, charts: int, metrics: int = 0, timeout: float = 120_000
) -> float:
    """Wait until the page is fully drawn; return the ms since navigation start when it first was."""
    page.evaluate("() => { delete window.__salesdashReady; }")
    page.wait_for_function(READY_JS, arg=[charts, metrics, title], polling="raf", timeout=timeout)
    return float(page.evaluate("() => window.__salesdashReady"))


def goto_ready(page: Page, url: str, title: str | None, charts: int, metrics: int = 0) -> float:
    page.goto(url, wait_until="commit")
    page.wait_for_function(READY_JS, arg=[charts, metrics, title], polling="raf", timeout=120_000)
    return float(page.evaluate("() => window.__salesdashReady"))


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


def enter_token(page: Page, token: str) -> None:
    """Type ``token`` into the sidebar's "Your token" field (the one token of the session) and wait until the
    dashboard has taken it."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    field = page.locator(".st-key-session_token input")
    if not field.is_visible():
        sidebar.locator("summary", has_text="Your token").click()
    field.fill(token)
    field.press("Enter")  # Streamlit takes a text input's value on Enter or blur
    sidebar.get_by_text("Token entered for this session.").wait_for(timeout=60_000)
