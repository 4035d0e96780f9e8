"""The cluster ingest on Spark, measured: wall time, rows/s, and the memory of the cluster's Java processes.

    python -m benchmarks.spark_ingest FILE --run-dir RUN_DIR [--out benchmarks/results/x.json]

RUN_DIR is a running local cluster's directory (``salesdash spark start --run-dir``, or the tests' cluster):
its ``cluster.json`` gives the Connect URL and the pids of the master, the workers and the Connect server (the
driver). The executors are the workers' child processes. Every process's resident memory (RSS, from /proc) is
sampled twice a second while the ingest runs; the peak per role is reported, and the cluster's logs are
searched for OutOfMemoryError afterwards. Hold ``flock /work/locks/heavy`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    out, todo = [], list(tree.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(tree.get(child, []))
    return out


class Sampler(threading.Thread):
    """Peak RSS per role: the driver (Connect server), the executors (the workers' children), the workers."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak: dict[str, int] = {}
        self.stopped = threading.Event()

    def sample(self) -> None:
        tree = _children()
        roles: dict[str, int] = {"driver (Connect server)": _rss(self.pids["connect"])}
        executors = [
            c for name, pid in self.pids.items() if name.startswith("worker") for c in _descendants(pid, tree)
        ]
        roles["executors (sum)"] = sum(_rss(p) for p in executors)
        roles["executor (largest)"] = max((_rss(p) for p in executors), default=0)
        roles["workers (sum)"] = sum(
            _rss(pid) for name, pid in self.pids.items() if name.startswith("worker")
        )
        roles["master"] = _rss(self.pids["master"])
        for role, value in roles.items():
            self.peak[role] = max(self.peak.get(role, 0), value)

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.sample()


def _out_of_memory(run_dir: Path, since: float) -> list[str]:
    found = []
    for log in run_dir.rglob("*"):
        wanted = log.suffix == ".log" or log.name in ("stderr", "stdout")
        if wanted and log.is_file() and log.stat().st_mtime >= since:
            try:
                if "OutOfMemoryError" in log.read_text(errors="replace"):
                    found.append(str(log))
            except OSError:
                continue
    return found


def main() -> int:
    from salesdash.ingest import ingest_file
    from salesdash.metrics import Filters, kpis
    from salesdash.store import make_engine, snapshot

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--out")
    args = parser.parse_args()
    run_dir = Path(args.run_dir)
    state = json.loads((run_dir / "cluster.json").read_text())
    url = f"sc://127.0.0.1:{state['connect_port']}"
    engine = make_engine(f"{url}/;salesdash_database=bench_{uuid.uuid4().hex[:8]}")
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, round(time.perf_counter() - started, 1))

    sampler = Sampler(state["pids"])
    sampler.sample()
    before = dict(sampler.peak)
    sampler.start()
    wall_start = time.time()
    load = os.getloadavg()
    result = ingest_file(engine, args.file, progress=progress)
    elapsed = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    with snapshot(engine) as conn:
        figures = kpis(conn, Filters())
    rows = result.version.row_count
    out: dict[str, Any] = {
        "file": str(args.file),
        "bytes": Path(args.file).stat().st_size,
        "rows": rows,
        "distinct": result.report["distinct"],
        "years": sorted(
            {
                int(y)
                for y in (result.report["date_range"]["start"][:4], result.report["date_range"]["end"][:4])
            }
        ),
        "seconds": round(elapsed, 1),
        "rows_per_second": round(rows / elapsed),
        "stage_start_seconds": stages,
        "rss_before_mb": {k: round(v / 2**20) for k, v in before.items()},
        "rss_peak_mb": {k: round(v / 2**20) for k, v in sampler.peak.items()},
        "out_of_memory_logs": _out_of_memory(run_dir, wall_start),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "kpis": {k: figures[k] for k in ("revenue", "order_count", "customer_count", "line_count")},
        "cluster": "local: master, 2 workers (1 core each), Connect server; see cluster.json",
    }
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
