"""Export storm: many concurrent PDF exports against the real server, while a prober times /api/health and
/api/kpis.

    .venv/bin/python -m benchmarks.reliability.export_storm [--clients 50] [--seconds 30] [--abandon 10]
        [--idle 10] [--out PATH]

``--clients`` threads loop ``GET /api/export?view=...&format=pdf`` (views and filters vary; 90 s client timeout)
for ``--seconds``; ``--abandon`` more threads send the same request on a raw socket and hang up after 0.2 s
(a user closing the tab). Meanwhile one prober thread requests /api/health and /api/kpis alternately (new
connection each, 5 s timeout) and records the latencies. Before, during (peak) and after the storm the script
reads the server's RSS, its process tree's RSS and how many Chrome/Chromium processes the tree holds; "after" is
read once the browser has been idle for SALESDASH_EXPORT_BROWSER_IDLE_SECONDS (``--idle``), waiting for it to be
closed. The server is `salesdash serve` with its default thread and export settings on a SQLite copy of the
bundled data. Results go to benchmarks/reliability/results/export_storm.json; exits non-zero if a probe failed,
an export got anything but 200 or 503 (+ Retry-After), or browser processes remain after the idle time.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from benchmarks.reliability.common import RESULTS, SAMPLE_CSV, process_tree, start_server

EXPORTS = (
    "/api/export?view=kpis&format=pdf",
    "/api/export?view=heatmap&format=pdf&country=USA",
    "/api/export?view=sales-by-country&format=pdf&start=2004-01-01&end=2004-12-31",
    "/api/export?view=sales-by-category&format=pdf&dealsize=Large",
    "/api/export?view=sales-by-country&format=png",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"requests": 0}
    return {
        "requests": len(seconds),
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--abandon", type=int, default=10, help="threads that hang up on their export")
    parser.add_argument("--idle", type=int, default=10, help="SALESDASH_EXPORT_BROWSER_IDLE_SECONDS")
    parser.add_argument("--out", type=Path, default=RESULTS / "export_storm.json")
    args = parser.parse_args(argv)

    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine

    with tempfile.TemporaryDirectory(prefix="salesdash-storm-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'storm.db'}"
        engine = make_engine(url)
        ingest_file(engine, SAMPLE_CSV)
        engine.dispose()
        server = start_server(workdir, url, export_browser_idle_seconds=str(args.idle))
        pid = server.process.pid
        try:
            server.get("/api/kpis")
            before = process_tree(pid)
            stop = threading.Event()
            lock = threading.Lock()
            statuses: Counter[str] = Counter()
            export_seconds: dict[str, list[float]] = {"200": [], "503": []}
            probes: dict[str, list[float]] = {"/api/health": [], "/api/kpis": []}
            probe_failures: list[str] = []
            abandoned = 0
            peak = dict(before)

            def exporter(index: int) -> None:
                n = index
                while not stop.is_set():
                    path = EXPORTS[n % len(EXPORTS)]
                    n += 1
                    started = time.perf_counter()
                    try:
                        response = requests.get(server.url + path, timeout=90)
                        kind = str(response.status_code)
                        if response.status_code == 503 and not (
                            response.headers.get("Retry-After")
                            and response.json()["error"]["code"] == "export_busy"
                        ):
                            kind = "503 without Retry-After/envelope"
                    except requests.RequestException as exc:
                        kind = type(exc).__name__
                    with lock:
                        statuses[kind] += 1
                        export_seconds.setdefault(kind, []).append(time.perf_counter() - started)

            def abandoner(index: int) -> None:
                nonlocal abandoned
                parts = urlsplit(server.url)
                n = index
                while not stop.is_set():
                    path = EXPORTS[n % len(EXPORTS)]
                    n += 1
                    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
                        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                        stop.wait(0.2)
                    with lock:
                        abandoned += 1

            def prober() -> None:
                n = 0
                while not stop.is_set():
                    path = ("/api/health", "/api/kpis")[n % 2]
                    n += 1
                    started = time.perf_counter()
                    try:
                        response = requests.get(server.url + path, timeout=5)
                        if response.status_code != 200:
                            probe_failures.append(f"{path}: HTTP {response.status_code}")
                    except requests.RequestException as exc:
                        probe_failures.append(f"{path}: {type(exc).__name__}")
                    probes[path].append(time.perf_counter() - started)
                    stop.wait(0.1)

            def sampler() -> None:
                while not stop.is_set():
                    now = process_tree(pid)
                    for key, value in now.items():
                        peak[key] = max(peak[key], value)
                    stop.wait(1.0)

            threads = [threading.Thread(target=exporter, args=(i,)) for i in range(args.clients)]
            threads += [threading.Thread(target=abandoner, args=(i,)) for i in range(args.abandon)]
            threads += [threading.Thread(target=prober), threading.Thread(target=sampler)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            stop.wait(args.seconds)
            stop.set()
            for thread in threads:
                thread.join(120)
            storm_seconds = time.monotonic() - started
            right_after = process_tree(pid)
            # The browser closes once idle for --idle seconds: wait for that (polling, with a deadline).
            deadline = time.monotonic() + args.idle + 60
            after = process_tree(pid)
            while after["browser_processes"] and time.monotonic() < deadline:
                time.sleep(0.5)
                after = process_tree(pid)
            closed_after = round(time.monotonic() - started - storm_seconds, 1)
            health_after = server.get("/api/health").status_code
            code = server.stop()
            output = server.output()
        finally:
            server.kill()

    result = {
        "clients": args.clients,
        "abandoning_clients": args.abandon,
        "seconds": args.seconds,
        "export_statuses": dict(statuses),
        "export_latency": {kind: summary(values) for kind, values in export_seconds.items()},
        "abandoned_requests": abandoned,
        "probe": {path: summary(values) for path, values in probes.items()},
        "probe_failures": len(probe_failures),
        "probe_failure_kinds": sorted(set(probe_failures)),
        "process_before": before,
        "process_peak": peak,
        "process_right_after": right_after,
        "process_after_idle": after,
        "browser_closed_within_s_of_the_storm_end": closed_after,
        "health_after": health_after,
        "server_exit_code": code,
        "traceback_in_log": "Traceback" in output,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    bad_exports = set(statuses) - {"200", "503"}
    failed = (
        probe_failures or bad_exports or after["browser_processes"] or code != 0 or result["traceback_in_log"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
