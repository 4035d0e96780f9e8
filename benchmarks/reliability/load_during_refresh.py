"""Load during a data refresh: 50 concurrent clients for 60 s against the real server on 127.0.0.1, with a refresh
to a different file in the middle.

    .venv/bin/python -m benchmarks.reliability.load_during_refresh [--clients 50] [--seconds 60]
        [--refresh-at 30] [--refresh-rows 50000] [--database-url URL] [--out PATH]

Version A is the bundled sample; version B is a generated file (`salesdash generate`, a different data set)
uploaded to POST /api/data-refresh with an admin token half-way through. Before the run every endpoint's answer is
fetched once for A; after the run once for B. During the run every response must be a 200 whose body is exactly
A's or exactly B's answer for that request, as named by its own ``meta.data_version`` (and the X-Data-Version
header): never a failure, never a mix of versions. Latencies (p50/p95/p99/max, overall and while the refresh ran)
and counts go to benchmarks/reliability/results/load_during_refresh.json. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from benchmarks.reliability.common import RESULTS, SAMPLE_CSV, start_server

PATHS = (
    "/api/kpis",
    "/api/kpis?country=France",
    "/api/kpis?start=2004-01-01&end=2004-12-31",
    "/api/sales-over-time?period=monthly",
    "/api/sales-over-time?period=weekly&productline=Classic%20Cars",
    "/api/sales-by-category",
    "/api/product-performance?level=product",
    "/api/sales-by-country",
    "/api/top-customers?limit=10",
    "/api/monthly-trends",
    "/api/quarterly-analysis",
    "/api/heatmap",
    "/api/status-distribution",
    "/api/deal-sizes?country=USA",
    "/api/filters",
    "/api/orders?limit=50&sort=sales&order=desc",
    "/api/orders?limit=20&offset=100&dealsize=Large",
    "/api/top-customers?limit=5&format=csv",
)


def digest(response: requests.Response) -> tuple[str | None, str]:
    """(data version, hash of the data) of one response; CSV bodies are hashed whole."""
    if response.headers.get("Content-Type", "").startswith("text/csv"):
        return response.headers.get("X-Data-Version"), hashlib.sha256(response.content).hexdigest()
    body = response.json()
    version = body["meta"]["data_version"]
    header = response.headers.get("X-Data-Version")
    if header is not None and header != version:
        raise ValueError(f"X-Data-Version {header} != meta.data_version {version}")
    canonical = json.dumps(body["data"], sort_keys=True, separators=(",", ":"))
    return version, hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Record:
    started: float
    seconds: float
    path: str
    status: int
    version: str | None
    data_hash: str
    error: str = ""


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refresh: dict[str, Any] = field(default_factory=dict)


def client_loop(base: str, index: int, deadline: float, t0: float, run: Run) -> None:
    session = requests.Session()
    local: list[Record] = []
    i = index
    while time.monotonic() < deadline:
        path = PATHS[i % len(PATHS)]
        i += 1
        started = time.monotonic()
        try:
            response = session.get(base + path, timeout=60)
            elapsed = time.monotonic() - started
            if response.status_code == 200:
                version, data_hash = digest(response)
                local.append(Record(started - t0, elapsed, path, 200, version, data_hash))
            else:
                local.append(
                    Record(started - t0, elapsed, path, response.status_code, None, "", response.text[:300])
                )
        except Exception as exc:  # a failed request is a result, not a crash of the client
            local.append(Record(started - t0, time.monotonic() - started, path, 0, None, "", repr(exc)[:300]))
    with run.lock:
        run.records.extend(local)


def refresh(base: str, token: str, upload: Path, at: float, t0: float, run: Run) -> None:
    time.sleep(max(0.0, t0 + at - time.monotonic()))
    started = time.monotonic()
    with upload.open("rb") as fh:
        response = requests.post(
            base + "/api/data-refresh",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (upload.name, fh, "text/csv")},
            timeout=600,
        )
    run.refresh = {
        "started_at_s": round(started - t0, 2),
        "seconds": round(time.monotonic() - started, 2),
        "status": response.status_code,
        "body": response.json()
        if response.headers.get("Content-Type", "").startswith("application/json")
        else {},
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def latency_summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "requests": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def expected_answers(base: str) -> tuple[str, dict[str, str]]:
    session = requests.Session()
    answers: dict[str, str] = {}
    versions = set()
    for path in PATHS:
        response = session.get(base + path, timeout=60)
        response.raise_for_status()
        version, data_hash = digest(response)
        versions.add(version)
        answers[path] = data_hash
    if len(versions) != 1:
        raise RuntimeError(f"expected answers span several versions: {versions}")
    return versions.pop() or "", answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--refresh-at", type=float, default=None, help="seconds into the run (default: middle)"
    )
    parser.add_argument("--refresh-rows", type=int, default=50_000, help="order lines in version B")
    parser.add_argument("--database-url", help="default: a new SQLite file (the database is overwritten!)")
    parser.add_argument(
        "--threads", type=int, default=None, help="SALESDASH_API_THREADS (default: the setting's)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "load_during_refresh.json")
    args = parser.parse_args(argv)
    refresh_at = args.seconds / 2 if args.refresh_at is None else args.refresh_at

    from salesdash.generate import generate
    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine
    from salesdash.tokens import create_token

    with tempfile.TemporaryDirectory(prefix="salesdash-load-") as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite:///{workdir / 'load.db'}"
        engine = make_engine(url)
        ingest_file(engine, SAMPLE_CSV)
        token = create_token(engine, "admin", "load test")
        engine.dispose()
        upload = generate(
            rows=args.refresh_rows, out=workdir / "version_b.csv", seed=20260101, source=SAMPLE_CSV
        )

        extra = {"api_threads": str(args.threads)} if args.threads else {}
        server = start_server(workdir, url, **extra)
        try:
            version_a, answers_a = expected_answers(server.url)
            run = Run()
            t0 = time.monotonic()
            deadline = t0 + args.seconds
            threads = [
                threading.Thread(target=client_loop, args=(server.url, i, deadline, t0, run), daemon=True)
                for i in range(args.clients)
            ]
            refresher = threading.Thread(
                target=refresh, args=(server.url, token, upload, refresh_at, t0, run), daemon=True
            )
            for t in threads:
                t.start()
            refresher.start()
            for t in threads:
                t.join(timeout=args.seconds + 120)
            refresher.join(timeout=600)
            wall = time.monotonic() - t0
            version_b, answers_b = expected_answers(server.url)
        finally:
            exit_code = server.stop()
            log = server.output()

    expected = {version_a: answers_a, version_b: answers_b}
    failures: list[str] = []
    versions_seen: Counter[str] = Counter()
    for r in run.records:
        if r.status != 200:
            failures.append(f"{r.path} at {r.started:.1f}s: status {r.status} {r.error}")
        elif r.version not in expected:
            failures.append(f"{r.path} at {r.started:.1f}s: unknown data version {r.version}")
        elif expected[r.version][r.path] != r.data_hash:
            failures.append(f"{r.path} at {r.started:.1f}s: body is not version {r.version}'s answer")
        else:
            versions_seen[r.version] += 1
    refresh_info = run.refresh
    window = (
        refresh_info.get("started_at_s", 0.0),
        refresh_info.get("started_at_s", 0.0) + refresh_info.get("seconds", 0.0),
    )
    during = [r.seconds for r in run.records if window[0] <= r.started <= window[1]]
    first_b = min((r.started for r in run.records if r.version == version_b), default=None)
    last_a = max((r.started for r in run.records if r.version == version_a), default=None)
    summary = {
        "clients": args.clients,
        "seconds": args.seconds,
        "wall_seconds": round(wall, 1),
        "database": url.split(":", 1)[0],
        "requests": len(run.records),
        "requests_per_second": round(len(run.records) / wall, 1),
        "failures": len(failures),
        "failure_samples": failures[:20],
        "latency": latency_summary([r.seconds for r in run.records]),
        "latency_during_refresh": latency_summary(during),
        "version_a": version_a,
        "version_b": version_b,
        "responses_per_version": {"A": versions_seen[version_a], "B": versions_seen[version_b]},
        "last_version_a_response_started_s": None if last_a is None else round(last_a, 2),
        "first_version_b_response_started_s": None if first_b is None else round(first_b, 2),
        "refresh": {k: v for k, v in refresh_info.items() if k != "body"}
        | {"rows_loaded": refresh_info.get("body", {}).get("data", {}).get("rows_loaded")},
        "server_exit_code": exit_code,
        "server_tracebacks": log.count("Traceback"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    lat = summary["latency"]
    print(
        f"{summary['requests']:,} requests from {args.clients} clients in {summary['wall_seconds']} s "
        f"({summary['requests_per_second']}/s); failures {summary['failures']}; "
        f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms; "
        f"refresh {refresh_info.get('status')} in {refresh_info.get('seconds')} s at {refresh_info.get('started_at_s')} s "
        f"(p99 during it {summary['latency_during_refresh']['p99_ms']} ms); "
        f"responses A {versions_seen[version_a]:,} / B {versions_seen[version_b]:,}"
    )
    for sample in failures[:5]:
        print("  " + sample, file=sys.stderr)
    print(f"summary written to {args.out}")
    ok = (
        not failures
        and refresh_info.get("status") == 200
        and versions_seen[version_a] > 0
        and versions_seen[version_b] > 0
        and summary["server_tracebacks"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
