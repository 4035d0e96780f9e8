"""The contract suite runs on PostgreSQL whenever SALESDASH_TEST_POSTGRES_URL is set: an unreachable server
makes the PostgreSQL cases fail (an error a reviewer sees), it never turns them into quiet skips."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.conftest import ROOT


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def test_an_unreachable_postgres_fails_the_suite_instead_of_skipping():
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres"
    case = "tests/metrics/test_metrics_small.py::test_kpis_exclude_cancelled_by_default"
    result = subprocess.run(
        # (-m "not spark": the Spark case would start a cluster; this test is about PostgreSQL)
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-m",
            "not spark",
            case,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=os.environ | {"SALESDASH_TEST_POSTGRES_URL": url},
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode != 0, result.stdout
    assert "[postgresql]" in result.stdout
    assert "1 error" in summary or "1 failed" in summary, summary
    assert "skipped" not in summary
    assert "2 passed" in summary  # SQLite and DuckDB still ran
