"""salesdash next to the original app, at the original's own scale: ``python -m benchmarks.side_by_side``.

Both serve the bundled sample (2,823 lines) from the same SQLite file: salesdash through ``salesdash serve``
(waitress), once with its API cache on and once with it off (every request computed), and the original-like
baseline (``benchmarks/original_like.py``: Flask's development server, a plain GROUP BY per request). For each
of the original's endpoints and the salesdash request that answers the same question (plus ``/api/kpis`` with
``detail=full``, salesdash's KPI answer with the headline period, growth and status distribution, beside the
original's KPI answer, which carries a growth rate and a status distribution too):

- **latency** over real HTTP with keep-alive, interleaved request by request (baseline, salesdash uncached,
  salesdash cached, baseline, ...), so that the machine's load hits all three alike: p50, p95;
- **body size** in bytes;
- **requests/s under 16 connections** (16 client threads, each with its own keep-alive connection, for
  ``SECONDS`` per server, in alternating rounds).

Ratios are baseline / salesdash (latency) and salesdash / baseline (requests/s): above 1 = salesdash faster.
Results: ``benchmarks/results/side-by-side-<time>.json`` (+ ``-latest.json``); ``make bench`` runs it too.
Knobs (environment): SBS_REPEAT (timed requests per endpoint and server, default 300), SBS_SECONDS (seconds of
load per server and round, default 2), SBS_ROUNDS (default 3), SBS_CONNECTIONS (default 16).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.original_like import ENDPOINTS
from benchmarks.reliability.common import free_port
from benchmarks.report import side_by_side_table
from benchmarks.run import DATA, RESULTS, ROOT, SAMPLE, Server, log, machine, percentiles


class Baseline(Server):
    """``python -m benchmarks.original_like`` on a free port, on the SQLite file at ``db_path``."""

    def __init__(self, db_path: Path) -> None:  # not super().__init__: that one starts salesdash
        self.port = free_port()
        command = [sys.executable, "-m", "benchmarks.original_like", str(db_path), str(self.port)]
        self.start(command, dict(os.environ), "/")


def _load(db_path: Path) -> None:
    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine

    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    ingest_file(engine, SAMPLE)
    engine.dispose()


def _timed(server: Server, path: str) -> float:
    started = time.perf_counter()
    status, _ = server.get(path)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"GET {path} on port {server.port} answered {status}")
    return elapsed


# (the original's request, salesdash's request answering it): every original endpoint, and the full KPI answer
PAIRS: tuple[tuple[str, str], ...] = (*ENDPOINTS.items(), ("/api/kpis", "/api/kpis?detail=full"))


def _name(original: str, ours: str) -> str:
    return original if ours == original else f"{original} -> {ours}"


def latency(servers: dict[str, Server], repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for original, ours in PAIRS:
        paths = {"baseline": original, "uncached": ours, "cached": ours}
        samples: dict[str, list[float]] = {name: [] for name in servers}
        for name, server in servers.items():
            for _ in range(5):  # warm-up: connections, caches, the OS page cache
                _timed(server, paths[name])
        for _ in range(repeat):
            for name, server in servers.items():
                samples[name].append(_timed(server, paths[name]))
        row: dict[str, Any] = {"salesdash_path": ours}
        for name, server in servers.items():
            row[name] = percentiles(samples[name])
            row[name]["bytes"] = len(server.get(paths[name])[1])
        base = row["baseline"]["p50_ms"]
        row["ratio_uncached"] = round(base / row["uncached"]["p50_ms"], 2)
        row["ratio_cached"] = round(base / row["cached"]["p50_ms"], 2)
        row["size_ratio"] = round(row["uncached"]["bytes"] / row["baseline"]["bytes"], 2)
        out[_name(original, ours)] = row
        log(
            f"  {original}: baseline {base} ms, uncached {row['uncached']['p50_ms']} ms "
            f"({row['ratio_uncached']}x), cached {row['cached']['p50_ms']} ms ({row['ratio_cached']}x); "
            f"{row['uncached']['bytes']:,} B vs {row['baseline']['bytes']:,} B"
        )
    return out


def _load_for(port: int, path: str, connections: int, seconds: float) -> int:
    """Requests completed by ``connections`` keep-alive clients in ``seconds``."""
    done = [0] * connections
    stop_at = time.perf_counter() + seconds
    errors: list[str] = []

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while time.perf_counter() < stop_at:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"{path}: {response.status}")
                    return
                done[i] += 1
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{path}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(done)


def throughput(servers: dict[str, Server], connections: int, seconds: float, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for original, ours in PAIRS:
        paths = {"baseline": original, "uncached": ours, "cached": ours}
        counts = {name: 0 for name in servers}
        for _ in range(rounds):
            for name, server in servers.items():
                counts[name] += _load_for(server.port, paths[name], connections, seconds)
        row: dict[str, Any] = {name: round(counts[name] / (seconds * rounds), 1) for name in servers}
        row["ratio_uncached"] = round(row["uncached"] / row["baseline"], 2)
        row["ratio_cached"] = round(row["cached"] / row["baseline"], 2)
        out[_name(original, ours)] = row
        log(
            f"  {original}: {connections} connections: baseline {row['baseline']} req/s, uncached "
            f"{row['uncached']} ({row['ratio_uncached']}x), cached {row['cached']} ({row['ratio_cached']}x)"
        )
    return out


def run() -> dict[str, Any]:
    repeat = int(os.environ.get("SBS_REPEAT", "300"))
    seconds = float(os.environ.get("SBS_SECONDS", "2"))
    rounds = int(os.environ.get("SBS_ROUNDS", "3"))
    connections = int(os.environ.get("SBS_CONNECTIONS", "16"))
    DATA.mkdir(parents=True, exist_ok=True)
    db_path = DATA / "side_by_side.db"
    log(f"side by side with the original-like app: {SAMPLE.name} on SQLite ({db_path.relative_to(ROOT)})")
    _load(db_path)
    url = f"sqlite:///{db_path}"
    servers: dict[str, Server] = {}
    try:
        servers["baseline"] = Baseline(db_path)
        servers["uncached"] = Server(url, cache_entries=0)
        servers["cached"] = Server(url, cache_entries=4096)
        result: dict[str, Any] = {
            "data": f"{SAMPLE.name}: 2,823 order lines, SQLite",
            "machine": machine(),
            "repeat": repeat,
            "latency": latency(servers, repeat),
        }
        for server in servers.values():  # the load test opens its own connections
            if server.conn is not None:
                server.conn.close()
                server.conn = None
        result["throughput"] = {
            "connections": connections,
            "seconds": seconds * rounds,
            "endpoints": throughput(servers, connections, seconds, rounds),
        }
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        for server in servers.values():
            server.stop()
    return result


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    result = {"started_at": started.isoformat(timespec="seconds"), **run()}
    out = RESULTS / f"side-by-side-{started:%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    shutil.copyfile(out, RESULTS / "side-by-side-latest.json")
    print(side_by_side_table(result))
    log(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
