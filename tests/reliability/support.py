"""Helpers shared by the hostile-corpus and reliability tests."""

from __future__ import annotations

import math
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
