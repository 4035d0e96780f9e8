"""The bench's targets table (benchmarks/report.py) says met, missed by how much, or not measured."""

from __future__ import annotations

from typing import Any

from benchmarks import report


def _timing(p50: float) -> dict[str, float]:
    return {"p50_ms": p50, "p95_ms": p50 * 1.2}


def _run(engine: str, rows: int, uncached: dict[str, float], cached: dict[str, float]) -> dict[str, Any]:
    return {
        "engine": engine,
        "rows": rows,
        "uncached": {path: _timing(v) for path, v in uncached.items()},
        "cached": {path: _timing(v) for path, v in cached.items()},
        "overview_cold": {"seconds": 0.4},
        "ingest": {"seconds": 75.0, "peak_rss_mb": 6 * 1024},
    }


def _row(table: list[str], label: str) -> str:
    return next(line for line in table if line.startswith(f"| {label} |"))


def test_each_target_is_met_missed_by_how_much_or_not_measured():
    runs = [
        _run(
            "duckdb", 10_000_000, {"/api/kpis": 90.0, "/api/rfm": 300.0}, {"/api/kpis": 0.5, "/api/rfm": 0.7}
        ),
        _run("postgresql", 1_000_000, {"/api/kpis": 40.0}, {"/api/kpis": 0.6}),
    ]
    table = report.targets_table({"runs": runs})
    uncached = _row(table, "10M DuckDB: every GET endpoint p50, uncached")
    assert "1 of 2 within; worst /api/rfm" in uncached and "**missed** by 150 ms (×2.00)" in uncached
    assert _row(table, "10M DuckDB: every GET endpoint p50, cached").endswith("| met |")
    assert _row(table, "10M DuckDB: Overview page's calls, cold").endswith("| met |")
    assert "**missed** by 15 s" in _row(table, "10M DuckDB: ingest with validation")
    assert _row(table, "10M DuckDB: ingest peak memory").endswith("| met |")
    assert _row(table, "1M PostgreSQL: every GET endpoint p50, uncached").endswith("| met |")
    assert "not measured in this run" in _row(table, "10M PostgreSQL: every GET endpoint p50, uncached")
    assert "not measured in this run" in _row(table, "100M DuckDB: ingest peak memory")


def test_the_side_by_side_targets_read_the_original_endpoints_only():
    def latency(path: str, ours: float, cached: float, base: float, body: int) -> dict[str, Any]:
        return {
            "salesdash_path": path,
            "baseline": {"p50_ms": base, "bytes": 400},
            "uncached": {"p50_ms": ours, "bytes": body},
            "cached": {"p50_ms": cached},
            "ratio_uncached": round(base / ours, 2),
            "ratio_cached": round(base / cached, 2),
        }

    result = {
        "latency": {
            "/api/kpis": latency("/api/kpis", 1.0, 0.4, 4.0, 500),
            # an extra row (the full answer), slower and bigger: not one of the original's endpoints
            "/api/kpis -> /api/kpis?detail=full": latency("/api/kpis?detail=full", 9.0, 0.9, 4.0, 5000),
        },
        "throughput": {
            "endpoints": {
                "/api/kpis": {"ratio_cached": 6.0, "ratio_uncached": 3.0},
                "/api/kpis -> /api/kpis?detail=full": {"ratio_cached": 1.0, "ratio_uncached": 0.5},
            }
        },
    }
    table = report.side_by_side_targets(result)
    assert _row(table, "2.8K SQLite: every original endpoint p50, uncached").endswith("| met |")
    assert _row(table, "2.8K SQLite: default body / the original's").endswith("| met |")
    assert _row(table, "2.8K SQLite: cached p50 ratio to the original-like app").endswith("| met |")
    unc = _row(table, "2.8K SQLite: requests/s at 16 connections (uncached), ratio")
    assert "**missed**: 0.60 of the goal" in unc
