"""Heavy exports on the real server (`salesdash serve`) over HTTP: PNG/PDF rendering is bounded (a full queue
answers 503 + Retry-After in the envelope at once), /api/health keeps answering during the storm, and the headless
browser is closed once exports stop (SALESDASH_EXPORT_BROWSER_IDLE_SECONDS)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from benchmarks.reliability.common import Server, process_tree, start_server
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from tests.conftest import SMALL_CSV

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXPORTS = 8  # on 4 threads with 1 render slot and 1 queue place: some must be turned away


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'storm.db'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    engine.dispose()
    server = start_server(
        tmp_path,
        url,
        api_threads="4",
        export_renders="1",
        export_queue="1",
        export_browser_idle_seconds="2",
    )
    yield server
    assert server.stop() == 0, server.output()
    assert "Traceback" not in server.output()


def export(server: Server, n: int) -> requests.Response:
    view = ("kpis", "heatmap", "sales-by-country", "sales-by-category")[n % 4]
    return requests.get(server.url + f"/api/export?view={view}&format=pdf", timeout=180)


def test_a_full_render_queue_is_503_with_retry_after_while_health_answers(served: Server):
    health: list[int] = []
    with ThreadPoolExecutor(max_workers=EXPORTS) as pool:
        futures = [pool.submit(export, served, n) for n in range(EXPORTS)]
        while not all(f.done() for f in futures) or not health:
            health.append(requests.get(served.url + "/api/health", timeout=30).status_code)
        responses = [f.result() for f in futures]
    assert set(health) == {200}
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    busy = [r for r in responses if r.status_code == 503]
    done = [r for r in responses if r.status_code == 200]
    assert busy and done, statuses
    for response in busy:
        assert response.headers["Retry-After"].isdigit()
        error = response.json()["error"]
        assert (error["status"], error["code"]) == (503, "export_busy")
        assert "try again" in error["message"]
    for response in done:
        assert response.content.startswith(b"%PDF")
    # Once idle, the browser is closed: no Chrome/Chromium process is left under the server.
    deadline = time.monotonic() + 60
    while process_tree(served.process.pid)["browser_processes"] and time.monotonic() < deadline:
        time.sleep(0.2)  # polling a condition with a deadline
    assert process_tree(served.process.pid)["browser_processes"] == 0
    assert export(served, 0).status_code == 200  # and the next export starts a browser again
