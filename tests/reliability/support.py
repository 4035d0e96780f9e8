"""Helpers shared by the hostile-corpus and reliability tests."""

from __future__ import annotations

import math
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from salesdash.metrics import (
    DIMENSIONS,
    GRAINS,
    Filters,
    breakdown,
    comparisons,
    filter_options,
    growth,
    kpis,
    month_year_matrix,
    over_time,
)
from salesdash.store import current_version, snapshot

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
MANIFEST = BAD / "manifest.toml"
ALL_STATUSES = ("Cancelled", "Disputed", "In Process", "On Hold", "Resolved", "Shipped")


def corpus() -> list[dict[str, Any]]:
    """The cases of tests/data/bad/manifest.toml."""
    with MANIFEST.open("rb") as fh:
        cases: list[dict[str, Any]] = tomllib.load(fh)["case"]
    return cases


def _plain(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.to_dict("records")]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def metric_outputs(engine: Engine, *, with_version: bool = True) -> dict[str, Any]:
    """What the metric layer answers for the stored data: every KPI, every breakdown, every time grain,
    the month-year matrix, growth, comparisons and the filter options (default filters and all statuses),
    plus the data version. Two equal snapshots mean a user sees exactly the same numbers."""
    out: dict[str, Any] = {}
    with snapshot(engine) as conn:
        for label, filters in (("default", Filters()), ("all", Filters(statuses=ALL_STATUSES))):
            out[f"kpis/{label}"] = kpis(conn, filters)
            for dimension in DIMENSIONS:
                out[f"breakdown/{dimension}/{label}"] = breakdown(conn, filters, dimension)
            for grain in GRAINS:
                out[f"over_time/{grain}/{label}"] = over_time(conn, filters, grain)
            out[f"matrix/{label}"] = month_year_matrix(conn, filters)
            out[f"growth/{label}"] = growth(conn, filters)
            out[f"comparisons/{label}"] = comparisons(conn, filters)
        out["filter_options"] = filter_options(conn)
    if with_version:
        version = current_version(engine)
        out["version"] = version.version if version else None
    return _plain(out)


def write_big_csv(path: Path, copies: int, source: Path | None = None) -> int:
    """Write ``copies`` copies of small.csv's orders (each copy with new order numbers, so every order keeps
    one customer, date and status) to ``path``; returns the number of order lines."""
    from tests.conftest import SMALL_CSV

    small = pd.read_csv(source or SMALL_CSV, dtype=str, keep_default_na=False)
    numbers = small["ORDERNUMBER"].astype("int64")
    span = int(numbers.max() - numbers.min() + 1)
    frame = pd.concat([small] * copies, ignore_index=True)
    copy = pd.Series(range(copies), dtype="int64").repeat(len(small)).reset_index(drop=True)
    frame["ORDERNUMBER"] = (numbers.tolist() * copies + copy * span).astype(str)
    frame.to_csv(path, index=False)
    return len(frame)


PROGRESS = re.compile(r"^\s*(\w+):\s+(\d+)%\s+\(([\d,]+)/([\d,]+)\)")


class Ingest:
    """`salesdash ingest PATH` in a child process, its progress lines read as they come."""

    def __init__(self, url: str, path: Path, cwd: Path, settings: dict[str, str] | None = None) -> None:
        env = {
            "SALESDASH_DATABASE_URL": url,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(cwd),
            **(settings or {}),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "salesdash", "ingest", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_for_stage(self, stage: str, timeout: float = 60.0, min_done: int = 0) -> tuple[int, int]:
        """Block until a progress line of ``stage`` with at least ``min_done`` rows; returns (done, total)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {stage!r} progress within {timeout}s: {''.join(self.stderr)[-2000:]}"
                )
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise AssertionError(
                        f"ingest exited ({self.proc.returncode}) before {stage!r}: {''.join(self.stderr)[-2000:]}"
                    ) from None
                continue
            m = PROGRESS.match(line)
            if m and m.group(1) == stage and int(m.group(3).replace(",", "")) >= min_done:
                return int(m.group(3).replace(",", "")), int(m.group(4).replace(",", ""))

    def kill_during_load(self, min_done: int = 0) -> None:
        """SIGKILL the moment the load stage reports ``min_done`` lines (by default its start: the old rows are
        deleted and the new ones are going in, inside one open transaction). Asserts the kill landed before
        the load finished."""
        done, total = self.wait_for_stage("load", min_done=min_done)
        assert done < total, "the first load progress line was already 100%: use a bigger file"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL, "the ingest finished before the kill"
        finished = [
            ln
            for ln in self.stderr
            if (m := PROGRESS.match(ln)) and m.group(1) == "load" and m.group(2) == "100"
        ]
        assert not finished, "the load reached 100% before the kill"

    def finish(self, timeout: float = 120.0) -> int:
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
