"""Live-orders benchmark (``python -m benchmarks.stream_bench``; not a timed test, nothing is asserted).

For each engine, on a private nats-server (a free port, its own JetStream directory):

1. **sustained throughput**: a backlog of BACKLOG generated order lines (``salesdash generate``, seed 7) is
   published, then the consumer (default settings) drains it into a store that already holds the bundled
   sample, deployed as documented: ``salesdash serve`` plus ``salesdash stream`` (SQLite, PostgreSQL), or
   ``salesdash serve`` with SALESDASH_STREAM_ENABLED (DuckDB); READERS threads call ``GET /api/kpis`` over HTTP
   back to back all along; lines/s = backlog / time from the consumer's start to the API showing every line;
2. **publish -> visible latency**: LIVE more lines published one by one at RATE lines/s; a poller calls
   ``GET /api/kpis`` (every status) every 50 ms; a line's latency = the first poll whose ``line_count``
   includes it minus the moment its publish was acknowledged by JetStream. p50/p95/max.

Results: ``benchmarks/results/stream-latest.json`` and printed as the markdown table of docs/performance.md.
Knobs (environment): ENGINES (sqlite,duckdb,postgresql), BACKLOG (default 50000), LIVE (1500), RATE (300),
READERS (2), BENCH_POSTGRES_URL (default SALESDASH_TEST_POSTGRES_URL or postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.reliability.common import free_port
from salesdash.config import load_settings
from salesdash.generate import generate
from salesdash.ingest import ingest_file
from salesdash.store import make_engine, snapshot
from salesdash.store.schema import order_lines
from salesdash.stream.publisher import file_messages, publish_messages
from salesdash.vocabulary import STATUS_ORDER

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "raw" / "sales_data_sample.csv"
RESULTS = ROOT / "benchmarks" / "results"
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
ALL = urllib.parse.quote(",".join(STATUS_ORDER))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _database_url(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'bench.db'}", None
    if kind == "duckdb":
        return f"duckdb:///{work / 'bench.duckdb'}", None
    admin_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
        "SALESDASH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    name = f"salesdash_stream_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def _drop(name: str | None) -> None:
    if name is None:
        return
    admin_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
        "SALESDASH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


def _lines(engine: Any) -> int:
    with snapshot(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "salesdash", *args], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process and its children (Linux /proc; gunicorn's worker is a child
    of its arbiter), every thread included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(int(child)) for child in children)


def _api_lines(api: str) -> int:
    try:
        return int(_get(f"{api}/api/kpis?status={ALL}")["data"]["line_count"])
    except (OSError, KeyError, ValueError):
        return -1


def run_engine(
    kind: str, messages: list[bytes], backlog: int, live: int, rate: float, readers: int
) -> dict[str, Any]:
    """The deployment as documented: `salesdash serve` (with the consumer inside for DuckDB) and, for SQLite and
    PostgreSQL, `salesdash stream` as its own process; readers call the API over HTTP."""
    work = Path(tempfile.mkdtemp(prefix=f"stream-bench-{kind}-"))
    port, api_port = free_port(), free_port()
    server = subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(work / "js")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database_url, pg_name = _database_url(kind, work)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _wait(lambda: _answers(port), 20, "nats-server")
        settings = load_settings(database_url=database_url, stream_url=f"nats://127.0.0.1:{port}")
        engine = make_engine(database_url)
        ingest_file(engine, SAMPLE)
        base = _lines(engine)
        engine.dispose()  # DuckDB: the file belongs to the API process from here on
        t0 = time.monotonic()
        asyncio.run(publish_messages(settings, messages[:backlog]))
        publish_s = time.monotonic() - t0
        env = os.environ | {
            "SALESDASH_DATABASE_URL": database_url,
            "SALESDASH_STREAM_URL": settings.stream_url,
            "SALESDASH_API_PORT": str(api_port),
            "SALESDASH_LOG_LEVEL": "WARNING",
        }
        api = f"http://127.0.0.1:{api_port}"
        if kind == "duckdb":
            env["SALESDASH_STREAM_ENABLED"] = "1"
        processes.append(_spawn(["serve"], env))
        _wait(lambda: _api_lines(api) >= 0, 300, "the API")  # a loaded machine starts it slowly
        stop_readers = threading.Event()
        reads: list[float] = []

        def reader() -> None:
            while not stop_readers.is_set():
                started = time.monotonic()
                _api_lines(api)
                reads.append(time.monotonic() - started)

        threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        if kind != "duckdb":
            processes.append(_spawn(["stream"], env))
        consumer = processes[-1]  # DuckDB: the API process, which also answers the readers
        cpu_before = _cpu_seconds(consumer.pid)
        _wait(lambda: _api_lines(api) >= base + backlog, 3600, "the backlog to be consumed")
        drain_s = time.monotonic() - started  # includes the consumer's start (about a second)
        drain_cpu = _cpu_seconds(consumer.pid) - cpu_before
        stop_readers.set()
        for thread in threads:
            thread.join()
        read_p50 = statistics.median(reads) if reads else None

        published: dict[int, float] = {}
        seen: list[tuple[float, int]] = []
        stop_poll = threading.Event()

        def poller() -> None:
            while not stop_poll.is_set():
                count = _api_lines(api)
                seen.append((time.monotonic(), count))
                time.sleep(0.05)

        poll = threading.Thread(target=poller, daemon=True)
        poll.start()
        live_messages = messages[backlog : backlog + live]
        asyncio.run(
            publish_messages(
                settings, live_messages, rate=rate, on_published=lambda i, t: published.__setitem__(i, t)
            )
        )
        target = base + backlog + len(live_messages)
        _wait(lambda: bool(seen) and seen[-1][1] >= target, 120, "the live lines")
        stop_poll.set()
        poll.join()
        latencies = []
        for i, at in published.items():
            need = base + backlog + i + 1
            first = next((t for t, count in seen if count >= need and t >= at), None)
            if first is not None:
                latencies.append(first - at)
        stream = _get(f"{api}/api/stream")["data"]
        return {
            "engine": kind,
            "backlog_lines": backlog,
            "publish_lines_per_s": round(backlog / publish_s),
            "consume_lines_per_s": round(backlog / drain_s),
            "drain_seconds": round(drain_s, 2),
            "consumer_cpu_seconds": round(drain_cpu, 2),
            "lines_per_consumer_cpu_second": round(backlog / drain_cpu) if drain_cpu else None,
            "load_average_1m": round(os.getloadavg()[0], 1),
            "batches": stream["batches"],
            "api_reads_during_drain": len(reads),
            "api_read_p50_ms": round(read_p50 * 1000, 1) if read_p50 else None,
            "live_lines": len(live_messages),
            "live_rate": rate,
            "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "latency_p95_s": round(_percentile(latencies, 0.95), 3) if latencies else None,
            "latency_max_s": round(max(latencies), 3) if latencies else None,
        }
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        server.terminate()
        server.wait(timeout=20)
        _drop(pg_name)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    engines = os.environ.get("ENGINES", "sqlite,duckdb,postgresql").split(",")
    backlog, live = _env_int("BACKLOG", 50_000), _env_int("LIVE", 1500)
    rate, readers = float(os.environ.get("RATE", 300)), _env_int("READERS", 2)
    with tempfile.TemporaryDirectory() as tmp:
        csv = generate(rows=backlog + live, out=Path(tmp) / "lines.csv", seed=7, source=SAMPLE)
        messages = file_messages(csv)
    results = [run_engine(kind, messages, backlog, live, rate, readers) for kind in engines]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "results": results}
    (RESULTS / "stream-latest.json").write_text(json.dumps(out, indent=2) + "\n")
    print(
        "| engine | backlog | consume lines/s (wall) | lines per consumer CPU-s | load avg | API /api/kpis p50 "
        "during | publish lines/s | latency p50 | p95 | max |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['engine']} | {r['backlog_lines']:,} | {r['consume_lines_per_s']:,} | "
            f"{r['lines_per_consumer_cpu_second']:,} | {r['load_average_1m']} | {r['api_read_p50_ms']} ms "
            f"({r['api_reads_during_drain']:,} reads) | {r['publish_lines_per_s']:,} | {r['latency_p50_s']} s | "
            f"{r['latency_p95_s']} s | {r['latency_max_s']} s |"
        )


if __name__ == "__main__":
    main()
