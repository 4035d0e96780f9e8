"""Which Spark statements each API request issues, and their times: ``python -m benchmarks.spark_statements``.

Starts ``python -m salesdash serve`` on ``SALESDASH_DATABASE_URL`` (an ``sc://`` store that holds data) with
``SALESDASH_LOG_LEVEL=DEBUG``, so ``store/spark.py`` logs every statement with its time, then requests each path
(the dashboard Overview's calls unless paths are given) twice, and prints per request the statements it issued
(count, summed time, the slowest) and the wall time. ``--cache`` keeps the API cache on (the second request of a
path is then answered from it). Not a benchmark of record: the times depend on the machine's load (printed),
and the API's report scheduler reads its schedules every 30 s: those statements count with the request they
fall in.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.reliability.common import free_port
from benchmarks.run import OVERVIEW, ROOT

STATEMENT = re.compile(r"salesdash\.store\.spark: spark (\d+) ms: (.*)$")


def _get(port: int, path: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    started = time.perf_counter()
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="API paths (default: the Overview page's calls)")
    parser.add_argument("--cache", action="store_true", help="keep the API cache on")
    args = parser.parse_args(argv)
    if not os.environ.get("SALESDASH_DATABASE_URL", "").startswith("sc://"):
        parser.error("set SALESDASH_DATABASE_URL to the sc:// store to look at")
    port = free_port()
    env = os.environ | {
        "SALESDASH_LOG_LEVEL": "DEBUG",
        "SALESDASH_CACHE_ENTRIES": "4096" if args.cache else "0",
    }
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with log.open("w") as sink:
            server = subprocess.Popen(
                [sys.executable, "-m", "salesdash", "serve", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
            try:
                deadline = time.monotonic() + 300
                while True:
                    try:
                        if _get(port, "/api/health")[0] == 200:
                            break
                    except OSError:
                        pass
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the server did not start; its log: {log.read_text()[-2000:]}")
                    time.sleep(0.2)
                print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
                for path in args.paths or OVERVIEW:
                    for attempt in ("first", "again"):
                        seen = len(_statements(log))
                        status, seconds = _get(port, path)
                        issued = _statements(log)[seen:]
                        total = sum(ms for ms, _ in issued)
                        slowest = max(issued, default=(0, ""))
                        print(
                            f"{path} ({attempt}): HTTP {status}, {seconds:.2f} s, {len(issued)} statements "
                            f"({total} ms); slowest {slowest[0]} ms: {slowest[1][:100]}",
                            flush=True,
                        )
                print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=60)
    return 0


def _statements(log: Path) -> list[tuple[int, str]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = STATEMENT.search(line)
        if match:
            found.append((int(match.group(1)), match.group(2)))
    return found


if __name__ == "__main__":
    raise SystemExit(main())
