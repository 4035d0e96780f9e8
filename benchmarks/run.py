"""The scale benchmarks: ``make bench`` (= ``python -m benchmarks.run``). Not part of ``make test``.

For each data size and engine:

1. **ingest** the generated CSV (``salesdash generate``, seed 42; 2,823 rows = the bundled sample) in a child
   process: wall time, rows/s, CPU time, peak resident memory;
2. **every GET endpoint of the API** (found in /api/openapi.json, default parameters, plus a few filtered
   variants) through real HTTP against ``python -m salesdash serve``: p50/p95 with the API cache off
   (``SALESDASH_CACHE_ENTRIES=0``: every request computes its answer) and on (repeat requests are served
   from the cache);
3. **the dashboard Overview's calls**, cold (a fresh server, the page's requests in order, nothing cached);
0. **side by side with the original app** at its own scale (``benchmarks/side_by_side.py``: the bundled sample on
   SQLite, salesdash cached and uncached interleaved with an original-like Flask app, per original endpoint);
4. **the dashboard's render** in Chromium (``benchmarks/dashboard_render.py``) on the stores named by DASHBOARD:
   a new visitor's first render of the Overview and a filter change, against the bare-Streamlit floor;
5. **the naive baseline**, same run, same endpoints: SQLite with the original app's four line-level indexes and
   no rollups, so every answer is a plain GROUP BY over the order lines. Each figure is also a ratio to it.

Results: ``benchmarks/results/scale-<time>.json`` (+ ``scale-latest.json``) and the tables between the
``bench:begin``/``bench:end`` markers of ``docs/performance.md``.

Knobs (environment variables or ``--name value``): SIZES (default 2800,1000000,10000000), ENGINES (sqlite,
duckdb,postgresql), PG_MAX_ROWS (largest size run on PostgreSQL, default 1000000), BASELINE (1/0),
BASELINE_MAX_ROWS (default 10000000), SIDE_BY_SIDE (1/0), DATA_SHAPE (realistic, the default, or resampled:
see ``data_file``), REPEAT (timed requests per endpoint, default 30; endpoints slower than
a second get 3), CACHED_REPEAT (default 200), BENCH_POSTGRES_URL (server for the PostgreSQL runs; default
SALESDASH_TEST_POSTGRES_URL or postgres@127.0.0.1:5432), DASHBOARD (engine:size pairs whose store the dashboard
render is measured on, default sqlite:2800,duckdb:10000000; 0 = none), RENDER_REPEAT (new visitors per store,
default 5), WRITE_DOCS (1/0). Example:
``make bench SIZES=2800,1000000 ENGINES=duckdb,postgresql``; ENGINES=spark runs on a local Spark cluster started
for the run (or on BENCH_SPARK_URL=sc://host:port).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.reliability.common import free_port

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"
SAMPLE = ROOT / "data" / "raw" / "sales_data_sample.csv"
SAMPLE_ROWS = 2823
SEED = 42

# The dashboard Overview page's requests, in the order the page makes them (dashboard/views/overview.py,
# components/context.py, components/compare.py).
OVERVIEW = [
    "/api/version",
    "/api/filters",
    "/api/kpis",
    "/api/comparisons",
    "/api/sales-over-time?period=monthly",
    "/api/sales-by-category",
    "/api/sales-by-country",
]
# Extra variants: other grains, the product level, and typical filters.
VARIANTS = [
    "/api/sales-over-time?period=daily",
    "/api/sales-over-time?period=weekly",
    "/api/product-performance?level=product",
    "/api/kpis?country=France",
    "/api/kpis?start=2004-01-01&end=2004-06-30",
    "/api/kpis?productline=Classic%20Cars",
    "/api/kpis?productline=Classic%20Cars,Motorcycles",
    "/api/sales-by-category?start=2004-03-15&end=2004-09-20&country=USA",
    "/api/top-customers?dealsize=Large",
]
SKIPPED_PATHS = {"/api/openapi.json", "/api/docs", "/api/export", "/"}
NAIVE_INDEXES = ("order_date", "country", "product_line", "status")  # the original app's four


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


@dataclass
class Config:
    sizes: list[int]
    engines: list[str]
    pg_max_rows: int
    baseline: bool
    baseline_max_rows: int
    repeat: int
    cached_repeat: int
    postgres_url: str
    write_docs: bool
    side_by_side: bool = True
    data_shape: str = "realistic"
    dashboard: list[tuple[str, int]] = field(default_factory=list)
    render_repeat: int = 5
    runs: list[dict[str, Any]] = field(default_factory=list)


def _knob(args: argparse.Namespace, name: str, default: str) -> str:
    value = getattr(args, name.lower())
    return str(value if value is not None else os.environ.get(name, default))


def parse_config(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in (
        "SIZES",
        "ENGINES",
        "PG_MAX_ROWS",
        "BASELINE",
        "BASELINE_MAX_ROWS",
        "REPEAT",
        "CACHED_REPEAT",
        "BENCH_POSTGRES_URL",
        "WRITE_DOCS",
        "SIDE_BY_SIDE",
        "DATA_SHAPE",
        "DASHBOARD",
        "RENDER_REPEAT",
    ):
        parser.add_argument(f"--{name.lower().replace('_', '-')}", dest=name.lower())
    args = parser.parse_args(argv)
    if _knob(args, "DATA_SHAPE", "realistic") not in ("realistic", "resampled"):
        parser.error("DATA_SHAPE must be realistic or resampled")
    pg_default = os.environ.get(
        "SALESDASH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    return Config(
        sizes=[
            int(s.replace("_", "")) for s in _knob(args, "SIZES", "2800,1000000,10000000").split(",") if s
        ],
        engines=[
            e.strip() for e in _knob(args, "ENGINES", "sqlite,duckdb,postgresql").split(",") if e.strip()
        ],
        pg_max_rows=int(_knob(args, "PG_MAX_ROWS", "1000000")),
        baseline=_knob(args, "BASELINE", "1") not in ("0", "false", "no"),
        baseline_max_rows=int(_knob(args, "BASELINE_MAX_ROWS", "10000000")),
        repeat=int(_knob(args, "REPEAT", "30")),
        cached_repeat=int(_knob(args, "CACHED_REPEAT", "200")),
        postgres_url=_knob(args, "BENCH_POSTGRES_URL", pg_default),
        write_docs=_knob(args, "WRITE_DOCS", "1") not in ("0", "false", "no"),
        side_by_side=_knob(args, "SIDE_BY_SIDE", "1") not in ("0", "false", "no"),
        data_shape=_knob(args, "DATA_SHAPE", "realistic"),
        dashboard=[
            (pair.split(":")[0].strip(), int(pair.split(":")[1].replace("_", "")))
            for pair in _knob(args, "DASHBOARD", "sqlite:2800,duckdb:10000000").split(",")
            if ":" in pair
        ],
        render_repeat=int(_knob(args, "RENDER_REPEAT", "5")),
    )


# -- data --------------------------------------------------------------------------------------------------------


def data_file(size: int, shape: str = "realistic") -> tuple[Path, int]:
    """The CSV for a size (the bundled sample for the 2.8K size), generating it once (deterministic).

    ``shape`` "realistic" (the default, DATA_SHAPE): ``salesdash generate --realistic`` (a customer per 50 lines,
    a product code per 500, 5 years: 10M lines -> 200K customers, 20K codes); "resampled": the plain resampling
    (the sample's 92 customers and 109 codes at every size)."""
    if size <= SAMPLE_ROWS:
        return SAMPLE, SAMPLE_ROWS
    path = DATA / f"gen_{size}.csv" if shape == "resampled" else DATA / f"gen_{size}_{shape}.csv"
    if not path.exists():
        from salesdash.generate import Shape, generate

        log(f"generating {size:,} {shape} rows -> {path.relative_to(ROOT)}")
        DATA.mkdir(parents=True, exist_ok=True)  # not in a fresh clone (ignored by git)
        started = time.perf_counter()
        generate(
            rows=size,
            out=path,
            seed=SEED,
            source=SAMPLE,
            shape=Shape(realistic=shape == "realistic"),
            progress=_progress("generate"),
        )
        log(f"generated in {time.perf_counter() - started:.1f} s")
    return path, size


def _progress(label: str) -> Any:
    last = {"pct": -1}

    def report(stage: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        if pct // 10 != last["pct"]:
            last["pct"] = pct // 10
            print(f"    {label} {stage}: {pct}%", file=sys.stderr, flush=True)

    return report


_SPARK: dict[str, Any] = {}


def spark_url() -> str:
    """BENCH_SPARK_URL (a running Spark Connect endpoint), else a local cluster started for this run."""
    given = os.environ.get("BENCH_SPARK_URL")
    if given:
        return given
    if "state" not in _SPARK:
        from salesdash import spark_cluster

        log("starting a local Spark cluster (master, 2 workers of 1 core, Spark Connect)")
        _SPARK["state"] = spark_cluster.start(spark_cluster.ClusterConfig(run_dir=DATA / "spark"))
    return str(_SPARK["state"].url)


def stop_spark() -> None:
    if "state" in _SPARK:
        from salesdash import spark_cluster

        spark_cluster.stop(_SPARK.pop("state"))


def database_url(config: Config, engine: str, size: int, label: str = "") -> str:
    name = f"{label or engine}_{size}"
    if engine == "spark":
        DATA.mkdir(parents=True, exist_ok=True)
        return f"{spark_url()}/;salesdash_database=bench_{name}"
    folder = DATA / "db"
    folder.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{folder / name}.db{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{folder / name}.db"
    if engine == "duckdb":
        for suffix in ("", ".wal", ".lock"):
            Path(f"{folder / name}.duckdb{suffix}").unlink(missing_ok=True)
        return f"duckdb:///{folder / name}.duckdb"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(config.postgres_url, isolation_level="AUTOCOMMIT")
    db = f"salesdash_bench_{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return make_url(config.postgres_url).set(database=db).render_as_string(hide_password=False)


def ingest(url: str, csv_path: Path) -> dict[str, Any]:
    out = DATA / "ingest_result.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.ingest_child", url, str(csv_path), str(out)]
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads(out.read_text())


def make_naive(url: str) -> None:
    """Turn a loaded SQLite store into the original app's: four line-level indexes and no rollups."""
    from sqlalchemy import text

    from salesdash.store import make_engine
    from salesdash.store.schema import ROLLUPS, rollup_codes, rollup_state

    engine = make_engine(url)
    with engine.begin() as conn:
        for index in ("deal_size", "customer_name"):
            conn.execute(text(f"DROP INDEX IF EXISTS ix_order_lines_{index}"))
        conn.execute(rollup_state.delete())
        for table in (*ROLLUPS.values(), rollup_codes):
            conn.execute(table.delete())
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    assert {f"ix_order_lines_{c}" for c in NAIVE_INDEXES} <= names, names
    engine.dispose()


# -- HTTP ------------------------------------------------------------------------------------------------------


class Server:
    """``python -m salesdash serve`` on a free port, with the given database and API cache size."""

    def __init__(self, url: str, cache_entries: int) -> None:
        self.port = free_port()
        env = os.environ | {
            "SALESDASH_DATABASE_URL": url,
            "SALESDASH_CACHE_ENTRIES": str(cache_entries),
            "SALESDASH_LOG_LEVEL": "WARNING",
        }
        self.start([sys.executable, "-m", "salesdash", "serve", "--port", str(self.port)], env, "/api/health")

    def start(self, command: list[str], env: dict[str, str], health: str) -> None:
        """Start ``command`` and wait until ``health`` answers 200."""
        # The server's log goes to a file: a pipe nobody reads fills up under load (waitress logs its queue
        # depth when every thread is busy) and then blocks the server's main loop mid-benchmark.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log
        )
        self.conn: http.client.HTTPConnection | None = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                err = self.log.read().decode(errors="replace")
                raise RuntimeError(f"the server exited: {err[-2000:]}")
            try:
                status, _ = self.get(health)
                if status == 200:
                    return
            except OSError:
                self.conn = None
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer {health} within 180 s")

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def timed(self, path: str) -> float:
        started = time.perf_counter()
        status, _ = self.get(path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return elapsed

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def endpoints(server: Server) -> list[str]:
    """Every GET endpoint without required parameters (from the API's OpenAPI spec), then the variants."""
    status, body = server.get("/api/openapi.json")
    if status != 200:
        raise RuntimeError("no /api/openapi.json")
    spec = json.loads(body)
    found = []
    for path, operations in sorted(spec.get("paths", {}).items()):
        get = operations.get("get")
        if get is None or "{" in path or path in SKIPPED_PATHS or not path.startswith("/api"):
            continue
        if any(p.get("required") for p in get.get("parameters", []) if p.get("in") == "query"):
            continue
        found.append(path)
    paths = found + [v for v in VARIANTS if v.split("?")[0] in found]
    usable = []
    for path in paths:
        status, _ = server.get(path)
        if status == 200:
            usable.append(path)
        else:
            log(f"  skipping {path}: HTTP {status}")
    return usable


def percentiles(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(pick(0.95) * 1000, 2),
        "n": len(ordered),
    }


def measure(server: Server, path: str, repeat: int) -> dict[str, Any]:
    first = server.timed(path)  # not counted: warms connections and the OS page cache
    n = repeat if first < 1.0 else min(repeat, 3)
    return percentiles([server.timed(path) for _ in range(n)])


def overview_cold(server: Server) -> dict[str, Any]:
    calls = {}
    started = time.perf_counter()
    for path in OVERVIEW:
        calls[path] = round(server.timed(path) * 1000, 1)
    return {"seconds": round(time.perf_counter() - started, 3), "calls_ms": calls}


def http_suite(config: Config, url: str, label: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    log(f"  {label}: API with the cache off (every request computed)")
    server = Server(url, cache_entries=0)
    try:
        out["overview_cold"] = overview_cold(server)
        paths = endpoints(server)
        out["uncached"] = {}
        for path in paths:
            out["uncached"][path] = measure(server, path, config.repeat)
            log(f"    {path}: p50 {out['uncached'][path]['p50_ms']} ms")
    finally:
        server.stop()
    log(f"  {label}: API with the cache on")
    server = Server(url, cache_entries=4096)
    try:
        out["overview_cold_cache_on"] = overview_cold(server)
        out["cached"] = {path: measure(server, path, config.cached_repeat) for path in paths}
    finally:
        server.stop()
    return out


# -- the run -------------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, str]:
    import duckdb
    import pandas
    import pyarrow
    import sqlalchemy

    return {
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "sqlalchemy": sqlalchemy.__version__,
    }


def run_engine(config: Config, engine: str, size: int) -> dict[str, Any]:
    csv_path, rows = data_file(size, config.data_shape)
    log(f"{engine} {rows:,} rows: ingest {csv_path.name}")
    url = database_url(config, engine, rows)
    result: dict[str, Any] = {"engine": engine, "rows": rows, "load_average_before": list(os.getloadavg())}
    result["ingest"] = ingest(url, csv_path)
    log(
        f"  ingest {result['ingest']['seconds']} s, {result['ingest']['rows_per_second']:,} rows/s, "
        f"peak {result['ingest']['peak_rss_mb']:,} MB"
    )
    result.update(http_suite(config, url, f"{engine} {rows:,}"))
    if (engine, size) in config.dashboard:
        from benchmarks import dashboard_render

        result["dashboard_render"] = dashboard_render.run(
            url, label=f"{engine} {rows:,} {config.data_shape} lines", repeat=config.render_repeat
        )
    result["load_average_after"] = list(os.getloadavg())
    return result


def run_baseline(config: Config, size: int) -> dict[str, Any]:
    csv_path, rows = data_file(size, config.data_shape)
    log(f"naive baseline {rows:,} rows: SQLite, four line-level indexes, no rollups")
    url = database_url(config, "sqlite", rows, label="naive")
    result: dict[str, Any] = {"engine": "naive-sqlite", "rows": rows}
    result["ingest"] = ingest(url, csv_path)
    make_naive(url)
    result.update(http_suite(config, url, f"naive {rows:,}"))
    return result


def main(argv: list[str] | None = None) -> int:
    config = parse_config(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "config": {k: v for k, v in vars(config).items() if k not in ("runs", "postgres_url")},
        "runs": [],
    }
    stamp = started.strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"scale-{stamp}.json"
    if config.side_by_side and config.engines != ["spark"]:
        from benchmarks import side_by_side

        report["side_by_side"] = side_by_side.run()
        _save(report, out)
    if "spark" in config.engines:
        report["spark"] = (
            f"the Spark Connect endpoint {os.environ['BENCH_SPARK_URL']}"
            if os.environ.get("BENCH_SPARK_URL")
            else "a local cluster started for the run (master, 2 workers of 1 core, Spark Connect)"
        )
    try:
        _run_all(config, report, out)
    finally:
        stop_spark()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _save(report, out)
    shutil.copyfile(out, RESULTS / "scale-latest.json")
    log(f"results: {out.relative_to(ROOT)}")
    if config.write_docs:
        from benchmarks.report import update_doc

        update_doc(report, DOC)
        log(f"tables written to {DOC.relative_to(ROOT)}")
    return 0


def _run_all(config: Config, report: dict[str, Any], out: Path) -> None:
    for size in config.sizes:
        for engine in config.engines:
            if engine == "postgresql" and size > config.pg_max_rows:
                log(f"postgresql {size:,}: skipped (PG_MAX_ROWS={config.pg_max_rows:,})")
                continue
            report["runs"].append(run_engine(config, engine, size))
            _save(report, out)
        # the naive baseline is SQLite's: not part of a run on Spark alone
        if config.baseline and size <= config.baseline_max_rows and config.engines != ["spark"]:
            report["runs"].append(run_baseline(config, size))
            _save(report, out)


def _save(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
