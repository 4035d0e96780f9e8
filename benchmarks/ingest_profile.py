"""Where a chunked ingest spends its time and memory: ``python -m benchmarks.ingest_profile URL FILE OUT.json``.

Runs ``ingest_file`` (chunk size: SALESDASH_INGEST_CHUNK_ROWS) with each stage timed (read, encode, type,
validate, clean, insert per chunk; finish; each rollup step; the archive copy), a thread sampling the process's
resident memory every 0.5 s (the peak per stage), DuckDB's own buffer use after each chunk's insert, CPU time and
the load average, and writes them to OUT.json. Wall times on the shared machine follow its load; CPU time and
the stages' shares are the steadier figures.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(argv: list[str]) -> int:
    url, path, out = argv
    from salesdash.config import load_settings
    from salesdash.ingest import chunked, fast, ingest_file
    from salesdash.store import aggregates, load, make_engine

    totals: dict[str, float] = defaultdict(float)
    peak: dict[str, int] = defaultdict(int)
    current = ["start"]
    samples: list[tuple[float, str, int]] = []
    duckdb_after_insert: list[tuple[float, int, int]] = []
    started = time.perf_counter()
    done = threading.Event()

    def sampler() -> None:
        while not done.wait(0.5):
            r = _rss()
            peak[current[0]] = max(peak[current[0]], r)
            samples.append((round(time.perf_counter() - started, 1), current[0], r >> 20))

    def wrap(owner: Any, name: str, label: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            before, current[0] = current[0], label
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - t
                peak[label] = max(peak[label], _rss())
                current[0] = before

        setattr(owner, name, timed)

    wrap(chunked, "_encode", "encode")
    wrap(fast, "type_columns", "type")
    wrap(chunked, "_chunk_failures", "validate")
    wrap(fast, "clean_columnar", "clean")
    wrap(chunked._Scan, "finish", "finish")
    for step in (
        "clear_rollups",
        "_fill_parts",
        "_fill_rollup",
        "_orders_exact",
        "_fill_masks",
        "_fill_codes",
        "_fill_monthly",
        "fill_entities",
    ):
        wrap(aggregates, step, "rollups." + step.lstrip("_"))
    wrap(load, "rebuild_rollups", "rollups (all)")
    wrap(load, "archive_lines", "archive")
    insert_lines = load.insert_lines

    def insert(conn: Any, *args: Any, **kwargs: Any) -> int:
        before, current[0] = current[0], "insert"
        t = time.perf_counter()
        try:
            rows: int = insert_lines(conn, *args, **kwargs)
        finally:
            totals["insert"] += time.perf_counter() - t
            current[0] = before
        if conn.dialect.name == "duckdb":
            used = conn.exec_driver_sql("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").scalar_one()
            duckdb_after_insert.append(
                (round(time.perf_counter() - started, 1), int(used) >> 20, _rss() >> 20)
            )
        return rows

    load.insert_lines = insert  # type: ignore[assignment]
    tables = chunked._Source.tables

    def read(self: Any) -> Iterator[Any]:
        chunks = tables(self)
        while True:
            before, current[0] = current[0], "read"
            t = time.perf_counter()
            try:
                item = next(chunks)
            except StopIteration:
                return
            finally:
                totals["read"] += time.perf_counter() - t
                current[0] = before
            yield item

    chunked._Source.tables = read  # type: ignore[method-assign]
    threading.Thread(target=sampler, daemon=True).start()
    load_at_start = os.getloadavg()
    engine = make_engine(url)
    rows = load_settings().ingest_chunk_rows
    result = ingest_file(engine, Path(path), chunk_rows=rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    done.set()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    loaded = result.report["rows_loaded"]
    report = {
        "file": path,
        "url": url,
        "chunk_rows": rows,
        "rows": loaded,
        "data": {**result.report["distinct"], "date_range": result.report.get("date_range")},
        "seconds": round(elapsed, 1),
        "rows_per_second": round(loaded / elapsed),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_start": load_at_start,
        "load_average_end": os.getloadavg(),
        "stage_seconds": {k: round(v, 1) for k, v in totals.items()},
        "stage_peak_rss_mb": {k: v >> 20 for k, v in peak.items()},
        "duckdb_after_insert_mb (t, duckdb, rss)": duckdb_after_insert,
        "rss_every_10s_mb": samples[::20],
    }
    Path(out).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "rss_every_10s_mb"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
