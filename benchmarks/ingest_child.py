"""One ingest, measured in its own process: ``python -m benchmarks.ingest_child URL CSV OUT.json``.

Runs ``salesdash.ingest.ingest_file`` as the CLI does, shows its progress on stderr and writes the wall time,
the time of each stage and the process's peak resident memory (``ru_maxrss``, which includes Arrow's and
DuckDB's native allocations; a PostgreSQL server's own memory is not in it) to OUT.json.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    url, csv_path, out = argv
    from salesdash.config import load_settings
    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine

    started = time.perf_counter()
    stages: dict[str, float] = {}
    last = {"stage": "", "pct": -1}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - started
        stages.setdefault(f"{stage}_start", round(now, 3))
        stages[f"{stage}_end"] = round(now, 3)
        pct = int(100 * done / total) if total else 100
        if (stage, pct // 10) != (last["stage"], last["pct"]):
            last.update(stage=stage, pct=pct // 10)
            print(f"    {stage:>9}: {pct:3d}%  {now:7.1f}s", file=sys.stderr, flush=True)

    engine = make_engine(url)
    # as `salesdash ingest` does: files of more lines than SALESDASH_INGEST_CHUNK_ROWS load a chunk at a time
    result = ingest_file(
        engine, Path(csv_path), progress=progress, chunk_rows=load_settings().ingest_chunk_rows
    )
    elapsed = time.perf_counter() - started
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    Path(out).write_text(
        json.dumps(
            {
                "seconds": round(elapsed, 3),
                "rows": result.report["rows_loaded"],
                "rows_per_second": round(result.report["rows_loaded"] / elapsed),
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                "stages": stages,
                "version": result.version.version,
                # what the data looked like: distinct orders, customers, product codes, ...; the date range
                "data": {**result.report["distinct"], "date_range": result.report.get("date_range")},
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
