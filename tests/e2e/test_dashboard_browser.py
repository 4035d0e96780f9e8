"""The dashboard in a real browser: the real API (`salesdash serve`) and the real dashboard (the command
`salesdash dashboard` runs) on free loopback ports over the bundled data, driven by Playwright + Chromium.

One browser session walks the whole dashboard: first render of the Overview (timed, written to
benchmarks/results/dashboard_render.json, never asserted), the reference KPI figures, a country filter typed
into the sidebar, page switches that keep it, every page at 1400 px and 390 px (full-page screenshots under
test-artifacts/dashboard/), no Streamlit exception anywhere and no horizontal page scroll on a phone.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from salesdash.auth import create_token
from salesdash.cli import dashboard_command
from salesdash.config import load_settings
from salesdash.dashboard.format import money
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from tests.conftest import ROOT, SAMPLE_CSV

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
AUTO_REFRESH_SECONDS = 3  # the dashboard polls /api/version this often in this test
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
RESULT = ROOT / "benchmarks" / "results" / "dashboard_render.json"
VIEWS = {
    "": ("Sales overview", 3),  # url path -> (title, number of charts when fully drawn)
    "geography": ("Geography", 2),
    "products": ("Products", 2),
    "customers": ("Customers", 1),
    "seasonality": ("Seasonality", 3),
    "orders": ("Orders", 2),
    "data": ("Data", 0),
}

# True when every chart on the page has drawn its traces, the KPI/metric values are there and nothing is
# still loading; records the time of that moment (ms since navigation start) in window.__salesdashReady.
READY_JS = """
([charts, metrics, title]) => {
  const plots = Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'));
  const drawn = plots.filter(p => p.querySelector("g.trace, g.hm, .choroplethlayer path.choroplethlocation"));
  const values = document.querySelectorAll('[data-testid="stMetricValue"]');
  const busy = document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]');
  const heading = Array.from(document.querySelectorAll('[data-testid="stMain"] h1')).some(
    h => h.innerText.trim() === title);
  const ready = heading && plots.length >= charts && drawn.length === plots.length
    && values.length >= metrics && !busy;
  if (ready && window.__salesdashReady === undefined) { window.__salesdashReady = performance.now(); }
  return ready;
}
"""
# Tallest scrolling area (Streamlit scrolls inside its main container, not the document).
FULL_HEIGHT_JS = """
() => Math.max(document.documentElement.scrollHeight, ...Array.from(document.querySelectorAll(
  '[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stAppViewContainer"]'
)).map(e => e.scrollHeight))
"""


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


# The floor any Streamlit + Plotly page pays on this machine (JS bundles, websocket, Plotly): one metric and
# three small charts, no API. Measured beside the dashboard so the render time can be read against it.
BASELINE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("Baseline")
st.metric("Revenue", "$1")
for i in range(3):
    st.plotly_chart(go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2])), key=f"chart{i}")
"""


@dataclass
class Stack:
    api: str
    dashboard: str
    admin_token: str
    baseline: str

    def api_json(self, path: str, **params: object) -> dict:
        response = requests.get(f"{self.api}{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does)")
    tmp = tmp_path_factory.mktemp("dashboard-e2e")
    database_url = f"sqlite:///{tmp / 'salesdash.db'}"
    engine = make_engine(database_url)
    ingest_file(engine, SAMPLE_CSV)
    token = create_token(engine, "admin", "dashboard e2e")
    engine.dispose()
    api_port, dashboard_port, baseline_port = free_port(), free_port(), free_port()
    baseline_app = tmp / "baseline.py"
    baseline_app.write_text(BASELINE_APP)
    api_url = f"http://127.0.0.1:{api_port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "SALESDASH_DATABASE_URL": database_url,
        "SALESDASH_SOURCE_PATH": str(SAMPLE_CSV),
        "SALESDASH_API_URL": api_url,
        "SALESDASH_API_THREADS": "8",
        "SALESDASH_AUTO_REFRESH_SECONDS": str(AUTO_REFRESH_SECONDS),
        "SALESDASH_CORS_ORIGINS": f"http://127.0.0.1:{dashboard_port}",
    }
    settings = load_settings(dashboard_host="127.0.0.1", dashboard_port=dashboard_port, api_url=api_url)
    baseline_command = dashboard_command(settings.model_copy(update={"dashboard_port": baseline_port}))
    baseline_command[baseline_command.index("run") + 1] = str(baseline_app)  # same flags, other script
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "salesdash", "serve", "--port", str(api_port)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            dashboard_command(settings),
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            baseline_command,
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        wait_http(f"{api_url}/api/health", processes[0])
        wait_http(f"http://127.0.0.1:{dashboard_port}/_stcore/health", processes[1])
        wait_http(f"http://127.0.0.1:{baseline_port}/_stcore/health", processes[2])
        yield Stack(
            api=api_url,
            dashboard=f"http://127.0.0.1:{dashboard_port}",
            admin_token=token,
            baseline=f"http://127.0.0.1:{baseline_port}",
        )
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


def wait_ready(page: Page, title: str, charts: int, metrics: int = 0, timeout: float = 120_000) -> float:
    """Wait until the page is fully drawn; return the ms since navigation start when it first was."""
    page.evaluate("() => { delete window.__salesdashReady; }")
    page.wait_for_function(READY_JS, arg=[charts, metrics, title], polling="raf", timeout=timeout)
    return float(page.evaluate("() => window.__salesdashReady"))


def goto_ready(page: Page, url: str, title: str, charts: int, metrics: int = 0) -> float:
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


def test_dashboard_in_a_real_browser(stack: Stack, browser: Browser) -> None:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()

    # 1. Full render of the Overview: the very first after the servers started (Python imports, empty
    #    caches), then a new user's first visit (fresh browser profile: nothing cached in the browser), then
    #    repeat visits.
    cold = goto_ready(page, stack.dashboard + "/", "Sales overview", charts=3, metrics=5)
    goto_ready(page, stack.baseline + "/", "Baseline", charts=3, metrics=1)  # the floor's cold start

    def visit(url: str, title: str, metrics: int, fresh: bool) -> float:
        if not fresh:
            return goto_ready(page, url, title, charts=3, metrics=metrics)
        visitor = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            return goto_ready(visitor.new_page(), url, title, charts=3, metrics=metrics)
        finally:
            visitor.close()

    # Interleaved with the floor, so both see the same machine load.
    first_visits, floor_first, repeat, floor_repeat = [], [], [], []
    for fresh, ours, floor in ((True, first_visits, floor_first), (False, repeat, floor_repeat)):
        for _ in range(3):
            ours.append(visit(stack.dashboard + "/", "Sales overview", 5, fresh))
            floor.append(visit(stack.baseline + "/", "Baseline", 1, fresh))
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(
        json.dumps(
            {
                "what": "Overview page, navigation start until every KPI card and all 3 charts are drawn "
                "(Playwright + Chromium, bundled data, API and dashboard on loopback)",
                "goal_seconds": 1.5,
                "first_render_seconds": round(median(first_visits) / 1000, 3),
                "first_render_note": "a new visitor (fresh browser profile) on running servers; median of 3",
                "first_visit_seconds": [round(ms / 1000, 3) for ms in first_visits],
                "cold_server_seconds": round(cold / 1000, 3),
                "repeat_visit_seconds": [round(ms / 1000, 3) for ms in repeat],
                "floor": {
                    "what": "a bare Streamlit page (one metric, three small Plotly charts, no API), same "
                    "machine and moment: what any Streamlit + Plotly page pays",
                    "first_visit_seconds": [round(ms / 1000, 3) for ms in floor_first],
                    "repeat_visit_seconds": [round(ms / 1000, 3) for ms in floor_repeat],
                },
                "rows": 2823,
                "viewport": "1400x900",
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": sys.version.split()[0],
                },
            },
            indent=2,
        )
        + "\n"
    )

    # 2. The reference figures (bundled data, default filters).
    goto_ready(page, stack.dashboard + "/", "Sales overview", charts=3, metrics=5)
    assert card(page, "Revenue") == "$9,838,141.37"
    assert card(page, "Orders") == "303"
    assert card(page, "Average order value") == "$32,469.11"
    assert card(page, "Customers") == "92"
    assert_clean(page, "Overview")
    full_screenshot(page, ARTIFACTS / "overview-1400.png", 1400)
    page.set_viewport_size({"width": 1400, "height": 900})

    # 3. Filter to France through the sidebar: the revenue card changes to the API's France figure.
    france = money(stack.api_json("/api/kpis", country="France")["data"]["revenue"])
    assert france != "$9,838,141.37"
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
    assert top[0]["customer_name"] in page.locator('[data-testid="stPlotlyChart"]').first.inner_text()

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

    # 7. CSV download of a table: the API's own CSV for the same filters.
    section = (
        page.locator('[data-testid="stVerticalBlock"]')
        .filter(has=page.get_by_role("heading", name="Top countries"))
        .last
    )
    with page.expect_download() as download:
        section.get_by_role("button", name="CSV").first.click()
    body = Path(download.value.path()).read_text()
    expected_csv = requests.get(
        f"{stack.api}/api/sales-by-country", params={"country": "France", "format": "csv"}, timeout=30
    ).text
    assert body.replace("\r\n", "\n") == expected_csv.replace("\r\n", "\n")
    assert body.splitlines()[1].startswith("France,FRA")

    # 8. Auto refresh: new data loaded behind the dashboard's back shows up without a reload.
    before = stack.api_json("/api/version")["data"]["data_version"]
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert before in sidebar.inner_text()
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
