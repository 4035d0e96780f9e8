"""The real API server (`salesdash serve`: waitress, threads) over real HTTP, as a user runs it."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser

from benchmarks.reliability.common import Server, start_server
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from tests.conftest import SAMPLE_CSV
from tests.reference import AVERAGE_ORDER_VALUE, CUSTOMERS, ORDERS, REVENUE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def start(workdir: Path, database_url: str, **settings: str) -> Server:
    """`salesdash serve` as a user starts it, logging at INFO (the start-up notices are checked)."""
    defaults = {"source_path": str(SAMPLE_CSV), "api_threads": "4", "log_level": "INFO"}
    return start_server(workdir, database_url, **(defaults | settings))


def admin_token(server: Server) -> str:
    """An admin token made the way a user makes one: `salesdash token create --role admin` on the server's store."""
    return subprocess.run(
        [sys.executable, "-m", "salesdash", "token", "create", "--role", "admin"],
        env=server.env,
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def stop_server(server: Server) -> tuple[int, str]:
    """SIGTERM, as Ctrl-C or a service manager would; the exit code and everything the server printed."""
    return server.stop(), server.output()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("api-e2e")
    url = f"sqlite:///{tmp / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    engine.dispose()
    running = start(tmp, url)
    yield running
    code, output = stop_server(running)
    assert code == 0, output
    assert "Traceback" not in output


def test_reference_numbers_over_http(server: Server):
    kpis = server.get("/api/kpis")
    assert kpis.status_code == 200
    assert kpis.headers["Server"] == "salesdash"
    data = kpis.json()["data"]
    assert data["revenue"] == REVENUE
    assert data["order_count"] == ORDERS
    assert data["customer_count"] == CUSTOMERS
    assert data["average_order_value"] == AVERAGE_ORDER_VALUE

    years = {
        r["period"]: r["revenue"] for r in server.get("/api/sales-over-time?period=yearly").json()["data"]
    }
    assert years["2004"] == 4578386.04
    assert round(sum(years.values()), 2) == REVENUE

    lines = {r["product_line"]: r["revenue"] for r in server.get("/api/sales-by-category").json()["data"]}
    assert lines["Classic Cars"] == 3860372.85
    assert len(lines) == 7

    top = server.get("/api/top-customers", params={"limit": 1}).json()["data"]
    assert (top[0]["customer_name"], top[0]["revenue"]) == ("Euro Shopping Channel", 862283.46)

    france = server.get("/api/kpis", params={"country": "France"}).json()
    by_country = {r["country"]: r["revenue"] for r in server.get("/api/sales-by-country").json()["data"]}
    assert france["data"]["revenue"] == by_country["France"]
    assert france["meta"]["filters"]["country"] == ["France"]


def test_conditional_get_csv_and_errors_over_http(server: Server):
    first = server.get("/api/sales-by-country")
    etag = first.headers["ETag"]
    again = server.get("/api/sales-by-country", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    csv = server.get("/api/sales-by-country", params={"format": "csv"})
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("country,iso3,revenue")
    assert len(csv.text.splitlines()) == 20
    missing = server.get("/api/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = server.get("/api/top-customers", params={"limit": "lots"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["parameter"] == "limit"
    assert server.get("/api/kpis").headers["X-Content-Type-Options"] == "nosniff"
    docs = server.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_concurrent_requests_agree(server: Server):
    paths = [
        "/api/kpis",
        "/api/sales-by-country",
        "/api/heatmap",
        "/api/orders?limit=500",
        "/api/filters",
    ] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(server.get, paths))
    assert all(r.status_code == 200 for r in responses)
    versions = {r.json()["meta"]["data_version"] for r in responses}
    assert len(versions) == 1
    revenues = {r.json()["data"]["revenue"] for r in responses if r.url.endswith("/api/kpis")}
    assert revenues == {REVENUE}


def test_refresh_over_http_needs_admin_and_changes_the_version(server: Server):
    token = admin_token(server)
    assert requests.post(server.url + "/api/data-refresh", timeout=30).status_code == 401
    before = server.get("/api/version").json()["data"]["data_version"]
    response = requests.post(
        server.url + "/api/data-refresh", headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    assert response.status_code == 200, response.text
    after = response.json()["data"]["data_version"]
    assert after != before
    assert server.get("/api/version").json()["data"]["data_version"] == after
    assert server.get("/api/kpis").json()["data"]["revenue"] == REVENUE


def test_upload_over_the_limit_is_a_413_envelope_over_http(tmp_path: Path):
    """The server answers 413 in the envelope before reading a too-large body (the client is not cut off)."""
    url = f"sqlite:///{tmp_path / 'limit.db'}"
    running = start(tmp_path, url, max_upload_mb="1")
    try:
        token = admin_token(running)
        response = requests.post(
            running.url + "/api/data-refresh",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("big.csv", b"x" * (3 * 1024 * 1024))},
            timeout=60,
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        assert "1 MiB" in response.json()["error"]["message"]
    finally:
        code, output = stop_server(running)
    assert code == 0, output


def test_serve_starts_without_data_and_stops_on_sigint(tmp_path: Path):
    running = start(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        health = running.get("/api/health")
        assert health.status_code == 200 and health.json()["data"]["data_loaded"] is False
        kpis = running.get("/api/kpis")
        assert kpis.status_code == 503
        assert "salesdash ingest" in kpis.json()["error"]["message"]
    finally:
        running.process.send_signal(signal.SIGINT)
        # Then SIGTERM after SIGTERM until it has exited, as an impatient user or a service manager might: a
        # signal that lands while the process exits must not kill it half-way (stop 26's CI saw -15 here).
        deadline = time.monotonic() + 60
        while running.process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                running.process.send_signal(signal.SIGTERM)
        code, output = stop_server(running)
    assert code == 0, output
    assert "Traceback" not in output
    assert "No data loaded yet" in output


def test_docs_page_renders_in_a_real_browser(server: Server, browser: Browser, tmp_path: Path):
    """Swagger UI at /api/docs loads from the API itself under its strict CSP (no console errors, no CSP
    violations) and lists the operations of the OpenAPI document."""
    spec = server.get("/api/openapi.json").json()
    operations = sum(len(item) for item in spec["paths"].values())
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.goto(server.url + "/api/docs", wait_until="networkidle")
        page.wait_for_selector(".opblock", timeout=30_000)
        shown = page.locator(".opblock").count()
        title = page.locator(".title").first.inner_text()
        page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    finally:
        page.close()
    assert problems == []
    assert "salesdash API" in title
    assert shown == operations


def test_a_repeated_request_over_http_is_the_same_answer_from_the_front_cache(server: Server):
    """Keep-alive, as a dashboard's client: the repeat comes from the front cache (api/front.py) with the same
    bytes and headers, its own request id; a refused request stays refused."""
    with requests.Session() as http:
        path = server.url + "/api/sales-by-country?country=France&dealsize=Medium"
        first = http.get(path, headers={"X-Request-ID": "one"}, timeout=30)
        again = http.get(server.url + "/api/sales-by-country?dealsize=Medium&country=France", timeout=30)
        assert first.status_code == again.status_code == 200
        assert again.content == first.content and again.headers["X-Cache"] == "hit"
        for name in ("ETag", "X-Data-Version", "Cache-Control", "Content-Security-Policy", "X-Frame-Options"):
            assert again.headers[name] == first.headers[name]
        assert first.headers["X-Request-ID"] == "one" != again.headers["X-Request-ID"]
        for _ in range(2):
            refused = http.get(server.url + "/api/sales-by-country?colour=red", timeout=30)
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_parameter"
