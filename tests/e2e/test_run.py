"""`salesdash run` (what `make run` starts) as a new user meets it: no database yet, so it loads the bundled
data, then serves the API and the dashboard together; Ctrl-C (SIGINT to the terminal's process group) stops
both cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from benchmarks.reliability.common import free_port
from tests.conftest import SAMPLE_CSV
from tests.e2e.browser import wait_http
from tests.reference import CUSTOMERS, ORDERS, REVENUE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_run_loads_the_bundled_data_serves_both_and_stops_on_ctrl_c(tmp_path: Path):
    api_port, dashboard_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SALESDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'salesdash.db'}",
        "SALESDASH_SOURCE_PATH": str(SAMPLE_CSV),
    }
    process = subprocess.Popen(  # the ports by flag: both servers must use them
        [
            sys.executable,
            "-m",
            "salesdash",
            "run",
            "--api-port",
            str(api_port),
            "--dashboard-port",
            str(dashboard_port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        wait_http(f"http://127.0.0.1:{api_port}/api/health", process, seconds=120)  # type: ignore[arg-type]
        wait_http(f"http://127.0.0.1:{dashboard_port}/_stcore/health", process, seconds=120)  # type: ignore[arg-type]
        kpis = requests.get(f"http://127.0.0.1:{api_port}/api/kpis", timeout=30).json()["data"]
        assert (kpis["revenue"], kpis["order_count"], kpis["customer_count"]) == (REVENUE, ORDERS, CUSTOMERS)
        dashboard = requests.get(f"http://127.0.0.1:{dashboard_port}/", timeout=30)
        assert dashboard.status_code == 200 and "<html" in dashboard.text.lower()
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            pytest.fail(f"`salesdash run` did not stop within 60 s of Ctrl-C:\n{output.decode()}")
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "No data yet: ingesting" in text and "rows read:     2,823" in text, text
    assert "Stopped." in text
    for port in (api_port, dashboard_port):  # nothing left listening
        with socket.socket() as probe, pytest.raises(OSError):
            probe.settimeout(2)
            probe.connect(("127.0.0.1", port))
