"""The ETL: read -> validate (pandera) -> clean -> load (atomic) -> quality report.

Use :func:`ingest_file` from Python; ``salesdash ingest`` is a thin wrapper around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Engine

from salesdash.errors import InputFileError
from salesdash.export_safety import to_csv
from salesdash.ingest.clean import clean
from salesdash.ingest.parquet import is_parquet, parquet_columns, parquet_rows, read_parquet
from salesdash.ingest.read import byte_progress, check_column_count, check_path, header_line, read_csv
from salesdash.ingest.report import build_report, format_report
from salesdash.ingest.validate import check_header, line_of, raise_for_failures, validate
from salesdash.store import DataVersion, replace_data
from salesdash.store.archive import DEFAULT_KEEP_VERSIONS
from salesdash.store.lock import write_lock
from salesdash.telemetry import observe_load

Progress = Callable[[str, int, int], None]
OnError = Literal["strict", "skip"]


@dataclass(frozen=True)
class PreparedData:
    """A validated, cleaned file ready to load (what an upload preview shows before the user confirms)."""

    frame: pd.DataFrame
    report: dict[str, Any]
    sha256: str
    source: str


@dataclass(frozen=True)
class IngestResult:
    version: DataVersion
    report: dict[str, Any]


def make_version(sha256: str, loaded_at: datetime) -> str:
    return f"{loaded_at:%Y%m%dT%H%M%S%f}-{sha256[:12]}"


def _write_rejects(path: Path, raw: pd.DataFrame, failures: list[dict[str, Any]]) -> None:
    by_line: dict[int, list[str]] = {}
    for f in failures:
        by_line.setdefault(f["line"], []).append(f"{f['column']} {f['problem']}")
    rows = raw.loc[[ln - 2 for ln in sorted(by_line)]].copy()
    rows.insert(0, "REJECT_REASON", ["; ".join(by_line[ln]) for ln in sorted(by_line)])
    rows.insert(0, "LINE", sorted(by_line))
    # people open this file in a spreadsheet: formula-like cells are neutralised like every other export
    path.write_text(to_csv(rows.to_dict("records"), [str(c) for c in rows.columns]), encoding="utf-8")


def _check_file(path: Path, name: str) -> bool:
    """The checks before any read of the whole file; returns whether it is a Parquet file."""
    check_path(path)  # "File not found" comes before any progress line
    parquet = is_parquet(path)
    # the header (the first line, or the Parquet schema), in bounded memory: an absurd or wrong header is
    # refused before any parser reads the whole file (a 200 MB line, 50,000 columns, millions of rows under
    # a wrong header)
    names = parquet_columns(path) if parquet else header_line(path)
    if names is not None and parquet:
        check_column_count(name, len(names))
    if names is not None:
        check_header(pd.DataFrame(columns=names), name)
    return parquet


def prepare(
    path: str | Path,
    *,
    encoding: str | None = None,
    on_error: OnError = "strict",
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
    source_name: str | None = None,
) -> PreparedData:
    """Read, validate and clean ``path`` without touching any database.

    ``path`` is a CSV or a Parquet file (told apart by its content; ``encoding`` applies to CSV only). Files of
    ``fast.FAST_PATH_BYTES`` or more take the columnar path (same rules, same messages, seconds instead of
    minutes at millions of rows); it hands over to the row path for anything it cannot judge.
    """
    path = Path(path)
    name = source_name or path.name
    parquet = _check_file(path, name)
    if use_columnar(path):
        from salesdash.ingest.fast import Fallback

        try:
            return _prepare_columnar(path, name, encoding, on_error, rejects_path, progress, parquet)
        except Fallback:
            pass
    if parquet:
        if progress:
            progress("read", 0, 1)
        raw_file = read_parquet(path)
    else:
        size = path.stat().st_size
        raw_file = read_csv(
            path, encoding=encoding, on_bytes=byte_progress(progress, size) if progress else None
        )
    raw = raw_file.frame
    if progress:
        if parquet:
            progress("read", 1, 1)
        progress("validate", 0, len(raw))
    typed, warnings, failures = validate(raw, name)
    rejected = 0
    if failures:
        if on_error == "strict":
            raise_for_failures(failures, name)
        bad_index = sorted({f["line"] - 2 for f in failures})
        rejected = len(bad_index)
        if rejects_path:
            _write_rejects(Path(rejects_path), raw, failures)
        typed = typed.drop(index=bad_index)
        if typed.empty:
            raise InputFileError(
                f"{name}: every line failed validation; nothing to load.", details=failures[:1000]
            )
    if progress:
        progress("validate", len(raw), len(raw))
    frame = clean(typed)
    report = build_report(
        name=name,
        encoding=raw_file.encoding,
        sha256=raw_file.sha256,
        size_bytes=raw_file.size_bytes,
        raw=raw,
        typed_valid=typed,
        clean=frame,
        warnings=warnings,
        failures=failures,
        rejected_lines=rejected,
    )
    return PreparedData(frame=frame, report=report, sha256=raw_file.sha256, source=str(path))


def use_columnar(path: Path, threshold: int | None = None) -> bool:
    """Whether ``prepare`` reads ``path`` with the columnar path (a regular file of the threshold size; for a
    compressed Parquet file, the size of the same lines as CSV, estimated from its row count)."""
    from salesdash.ingest import fast

    limit = fast.FAST_PATH_BYTES if threshold is None else threshold
    try:
        if not path.is_file():
            return False
        if is_parquet(path):
            return parquet_rows(path) * fast.CSV_LINE_BYTES >= limit
        return path.stat().st_size >= limit
    except OSError:
        return False


def _prepare_columnar(
    path: Path,
    name: str,
    encoding: str | None,
    on_error: OnError,
    rejects_path: str | Path | None,
    progress: Progress | None,
    parquet: bool = False,
) -> PreparedData:
    import numpy as np

    from salesdash.ingest.fast import (
        clean_columnar,
        read_columnar,
        read_parquet_columnar,
        typed_numbers,
        validate_columnar,
    )

    if progress and parquet:
        progress("read", 0, 1)  # a CSV's read reports its bytes (read_columnar)
    file = read_parquet_columnar(path, progress) if parquet else read_columnar(path, encoding, progress)
    if progress:
        progress("validate", 0, file.rows)
    typed, warnings, failures = validate_columnar(file, name)
    rejected = 0
    keep = None
    if failures:
        if on_error == "strict":
            raise_for_failures(failures, name)
        bad_index = np.array(sorted({f["line"] - 2 for f in failures}), dtype=np.int64)
        rejected = len(bad_index)
        if rejects_path:
            _write_rejects(Path(rejects_path), file.raw_frame(bad_index), failures)
        keep = np.ones(file.rows, dtype=bool)
        keep[bad_index] = False
        if not keep.any():
            raise InputFileError(
                f"{name}: every line failed validation; nothing to load.", details=failures[:1000]
            )
    if progress:
        progress("validate", file.rows, file.rows)
    frame = clean_columnar(typed, keep)
    typed_valid = typed_numbers(typed, keep)
    report = build_report(
        name=name,
        encoding=file.encoding,
        sha256=file.sha256,
        size_bytes=file.size_bytes,
        raw=None,
        rows_read=file.rows,
        empty_cells=file.empty_cells(),
        typed_valid=typed_valid,
        clean=frame,
        warnings=warnings,
        failures=failures,
        rejected_lines=rejected,
    )
    return PreparedData(frame=frame, report=report, sha256=file.sha256, source=str(path))


def load_prepared(
    engine: Engine,
    prepared: PreparedData,
    *,
    progress: Progress | None = None,
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
) -> IngestResult:
    """Replace the stored data with ``prepared`` atomically and record its data version."""
    started = time.perf_counter()
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    version = replace_data(
        engine,
        prepared.frame,
        version=make_version(prepared.sha256, loaded_at),
        source=prepared.source,
        source_sha256=prepared.sha256,
        loaded_at=loaded_at,
        report=prepared.report,
        progress=progress,
        keep_versions=keep_versions,
    )
    observe_load("ingest", time.perf_counter() - started, len(prepared.frame))
    return IngestResult(version=version, report=prepared.report)


def ingest_file(
    engine: Engine,
    path: str | Path,
    *,
    encoding: str | None = None,
    on_error: OnError = "strict",
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
    chunk_rows: int | None = None,
) -> IngestResult:
    """Ingest one CSV or Parquet file into the store behind ``engine``. On any error the stored data is left as it was.

    A file of more than ``chunk_rows`` lines (``Settings.ingest_chunk_rows``; default ``chunked.CHUNK_ROWS``) is
    validated and loaded that many lines at a time (``chunked.py``: memory bounded by the chunk).

    The database's write lock is held from the start, so a second concurrent ingest is refused at once
    (RefreshInProgress) instead of after validating its whole file. On Spark, a large file the cluster can read
    is read, validated and cleaned by the cluster (``ingest/spark.py``)."""
    with write_lock(engine, f"ingest of {Path(path).name}"):
        if engine.dialect.name == "spark":
            from salesdash.ingest import spark

            if spark.takes_cluster_path(engine, Path(path), rejects_path):
                try:
                    result: IngestResult = spark.ingest_on_cluster(
                        engine, Path(path), encoding=encoding, on_error=on_error, progress=progress
                    )
                    return result
                except spark.Fallback:
                    pass  # a file only salesdash's own reader judges right: the path below
        loaded = _ingest_chunked(
            engine, Path(path), encoding, on_error, rejects_path, progress, keep_versions, chunk_rows
        )
        if loaded is not None:
            return loaded
        prepared = prepare(
            path, encoding=encoding, on_error=on_error, rejects_path=rejects_path, progress=progress
        )
        return load_prepared(engine, prepared, progress=progress, keep_versions=keep_versions)


def _ingest_chunked(
    engine: Engine,
    path: Path,
    encoding: str | None,
    on_error: OnError,
    rejects_path: str | Path | None,
    progress: Progress | None,
    keep_versions: int,
    chunk_rows: int | None,
) -> IngestResult | None:
    """A large file a chunk at a time (``chunked.py``: memory bounded by the chunk); None when the file is
    not for that path or it cannot judge the file the way ``prepare`` would (then ``prepare`` does)."""
    from salesdash.ingest import chunked
    from salesdash.ingest.fast import Fallback

    rows = chunked.CHUNK_ROWS if chunk_rows is None else chunk_rows
    parquet = _check_file(path, path.name)
    if not chunked.applies(engine, path, parquet, encoding, rows):
        return None
    started = time.perf_counter()
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        version, report = chunked.load_chunked(
            engine,
            path,
            name=path.name,
            parquet=parquet,
            on_error=on_error,
            rejects_path=rejects_path,
            progress=progress,
            keep_versions=keep_versions,
            loaded_at=loaded_at,
            version_of=lambda sha256: make_version(sha256, loaded_at),
            encoding=encoding,
            rows=rows,
        )
    except Fallback:
        return None
    observe_load("ingest", time.perf_counter() - started, version.row_count)
    return IngestResult(version=version, report=report)


__all__ = [
    "IngestResult",
    "PreparedData",
    "format_report",
    "ingest_file",
    "line_of",
    "load_prepared",
    "prepare",
]
