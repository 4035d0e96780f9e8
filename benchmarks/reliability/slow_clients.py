"""Slow clients: hundreds of sockets that start a request and never finish its headers, against the real server.

    .venv/bin/python -m benchmarks.reliability.slow_clients [--sockets 200] [--requests 50]
        [--client-timeout 10] [--threads 8] [--out PATH]

Each slow socket sends ``GET /api/health HTTP/1.1\\r\\nHost: x\\r\\n`` and then nothing (no blank line ends its
headers). With all of them open, the script times ``--requests`` requests each to /api/health and /api/kpis
from a normal client (a new connection each, 5 s client timeout) and records p50/p99/max and failures. Then it
waits for the server to close the slow sockets (SALESDASH_API_CLIENT_TIMEOUT, set to ``--client-timeout``) and
records when each one was closed. The server is `salesdash serve` (``--threads`` application threads) on a
SQLite copy of the bundled data. Results go to benchmarks/reliability/results/slow_clients.json; the script exits
non-zero if any normal request failed or any slow socket stayed open past twice the timeout.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from benchmarks.reliability.common import RESULTS, SAMPLE_CSV, start_server

HALF_REQUEST = b"GET /api/health HTTP/1.1\r\nHost: x\r\n"


def open_slow_sockets(url: str, count: int) -> list[socket.socket]:
    """``count`` connections, each holding half a request (headers never finished)."""
    parts = urlsplit(url)
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        sock.sendall(HALF_REQUEST)
        sockets.append(sock)
    return sockets


def wait_closed(sockets: list[socket.socket], deadline_seconds: float) -> list[float]:
    """Seconds until the server closed each socket (EOF or reset), waiting at most ``deadline_seconds``."""
    start = time.monotonic()
    closed_after: list[float] = []
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        open_count = len(sockets)
        while open_count and time.monotonic() - start < deadline_seconds:
            for key, _ in selector.select(timeout=0.5):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:
                    selector.unregister(sock)
                    closed_after.append(time.monotonic() - start)
                    open_count -= 1
    return closed_after


def timed_gets(url: str, count: int) -> dict[str, Any]:
    seconds: list[float] = []
    failures: list[str] = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            response = requests.get(url, timeout=5)
            if response.status_code != 200:
                failures.append(f"HTTP {response.status_code}")
        except requests.RequestException as exc:
            failures.append(type(exc).__name__)
        seconds.append(time.perf_counter() - started)
    ordered = sorted(seconds)
    return {
        "requests": count,
        "failures": len(failures),
        "failure_kinds": sorted(set(failures)),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    parser.add_argument("--client-timeout", type=int, default=10, help="SALESDASH_API_CLIENT_TIMEOUT (s)")
    parser.add_argument("--threads", type=int, default=8, help="SALESDASH_API_THREADS")
    parser.add_argument("--out", type=Path, default=RESULTS / "slow_clients.json")
    args = parser.parse_args(argv)

    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine

    with tempfile.TemporaryDirectory(prefix="salesdash-slow-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'slow.db'}"
        engine = make_engine(url)
        ingest_file(engine, SAMPLE_CSV)
        engine.dispose()
        server = start_server(
            workdir, url, api_threads=str(args.threads), api_client_timeout=str(args.client_timeout)
        )
        try:
            baseline = {
                "health": timed_gets(server.url + "/api/health", args.requests),
                "kpis": timed_gets(server.url + "/api/kpis", args.requests),
            }
            opened = time.monotonic()
            slow = open_slow_sockets(server.url, args.sockets)
            during = {
                "health": timed_gets(server.url + "/api/health", args.requests),
                "kpis": timed_gets(server.url + "/api/kpis", args.requests),
            }
            measured_after = time.monotonic() - opened
            closed_after = [
                t + measured_after for t in wait_closed(slow, 2 * args.client_timeout + 5 - measured_after)
            ]
            for sock in slow:
                sock.close()
            code = server.stop()
            output = server.output()
        finally:
            server.kill()

    still_open = args.sockets - len(closed_after)
    result = {
        "sockets": args.sockets,
        "threads": args.threads,
        "client_timeout_s": args.client_timeout,
        "without_slow_clients": baseline,
        "with_slow_clients": during,
        "slow_sockets_closed": len(closed_after),
        "slow_sockets_still_open": still_open,
        "closed_after_s": {
            "min": round(min(closed_after), 2) if closed_after else None,
            "max": round(max(closed_after), 2) if closed_after else None,
        },
        "server_exit_code": code,
        "traceback_in_log": "Traceback" in output,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    failed = sum(during[k]["failures"] for k in during) or still_open or code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
