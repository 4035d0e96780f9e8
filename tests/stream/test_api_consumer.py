"""DuckDB allows one process per database file: with SALESDASH_STREAM_ENABLED the API process consumes the feed
itself, and `salesdash stream` beside it is refused with what to do instead."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from benchmarks.reliability.common import free_port
from salesdash.config import Settings
from salesdash.stream.publisher import file_messages, publish_messages
from tests.conftest import ROOT, SAMPLE_CSV
from tests.stream.conftest import wait_for


def _env(settings: Settings, port: int) -> dict[str, str]:
    values = {
        f"SALESDASH_{k.upper()}": str(v) for k, v in settings.model_dump().items() if k.startswith("stream")
    }
    return (
        os.environ
        | values
        | {"SALESDASH_DATABASE_URL": settings.database_url, "SALESDASH_API_PORT": str(port)}
    )


def _active(api: str) -> bool:
    try:
        return bool(requests.get(f"{api}/api/stream", timeout=5).json()["data"]["active"])
    except requests.RequestException:
        return False


def _kpis(api: str) -> dict | None:
    try:
        response = requests.get(f"{api}/api/kpis", timeout=10)
    except requests.RequestException:
        return None
    return response.json()["data"] if response.status_code == 200 else None


@pytest.mark.parametrize("engine_kind", ["duckdb"], indirect=True)
def test_the_api_process_consumes_into_duckdb(make_settings: Callable[..., Settings], tmp_path: Path):
    settings = make_settings(stream_enabled=True)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = _env(settings, port)
    server = subprocess.Popen(
        [sys.executable, "-m", "salesdash", "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: _active(api), 90, "the API's consumer to be live")
        asyncio.run(publish_messages(settings, file_messages(SAMPLE_CSV)))
        figures = wait_for(lambda: (k := _kpis(api)) and k["order_count"] == 303 and k, 120, "all 303 orders")
        assert (figures["revenue"], figures["customer_count"]) == (9_838_141.37, 92)
        refused = subprocess.run(
            [sys.executable, "-m", "salesdash", "stream"], env=env, cwd=ROOT, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert refused.returncode == 2
        assert "one process at a time" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
