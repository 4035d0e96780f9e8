"""Bounded-memory ingest of large files: read, validate, clean and load a fixed number of lines at a time.

The columnar path (fast.py) holds a whole file in memory, so its peak grows with the file (about 1 KB per line:
100M lines cannot load in 24 GB). This path streams the file instead, a chunk of lines at a time (the
caller passes the size: ``Settings.ingest_chunk_rows``, ``SALESDASH_INGEST_CHUNK_ROWS``, default 1,000,000),
with the same rules, messages and report:

- **read**: Arrow's streaming CSV reader (every column as text, as fast.py reads it) or a Parquet file's
  batches (``parquet._as_text``: the text a CSV of the same lines would hold);
- **validate** each chunk with fast.py's rules that look at one row (each column's pandera rules on the chunk's
  distinct values, the calendar rules on its distinct pairs), line numbers counted over the whole file. The
  rules across rows (one CUSTOMERNAME / ORDERDATE / STATUS per order, unique (ORDERNUMBER, ORDERLINENUMBER))
  need every line of the file: each chunk keeps, per line, its order number, line number and an id of each
  per-order value (28 bytes a line, nothing else); at the end numpy finds the suspect lines (a cheap superset),
  and only when there are any the file is read again for exactly those lines, which fast.py's own across-row
  rules judge (the same pandera checks, so the same failures);
- **load** each chunk's cleaned lines into the new version's tables inside the load's one transaction
  (``store.load.replace_data_chunks``), then build the rollups with SQL over the loaded table; failures are
  raised before anything is committed (strict), so the previous data is served until the switch and a failed
  or killed load leaves it. In strict mode a chunk after the first failure is validated but no longer loaded.

``on_error="skip"`` drops the failing lines. A line that fails an across-row rule is only known at the end:
then the transaction is rolled back and the file loaded again without those lines (invalid files only).

Anything this path cannot judge the way the one-shot paths would (a CSV that is not UTF-8, a parse error
mid-file, an unknown frame-wide rule) raises ``Fallback``: the caller then takes the one-shot path, which
gives the exact message (its memory grows with the file again, for such files only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Engine

from salesdash.errors import InputFileError
from salesdash.ingest import fast
from salesdash.ingest.fast import ColumnarFile, Fallback, TypedColumn
from salesdash.ingest.parquet import ENCODING as PARQUET_ENCODING
from salesdash.ingest.parquet import _as_text, _digest
from salesdash.ingest.read import detect_encoding
from salesdash.ingest.report import Facts, build_report
from salesdash.ingest.schema import SOURCE_COLUMNS, build_schema
from salesdash.ingest.validate import MAX_DETAILS, _format_failures, check_header, raise_for_failures
from salesdash.store.load import DataVersion, Finished, replace_data_chunks

Progress = Callable[[str, int, int], None]

CHUNK_ROWS = 1_000_000  # the default of Settings.ingest_chunk_rows (SALESDASH_INGEST_CHUNK_ROWS)
_NAN_BITS = int(np.array([np.nan]).view(np.int64)[0])


def applies(engine: Engine, path: Path, parquet: bool, encoding: str | None, rows: int = CHUNK_ROWS) -> bool:
    """Whether ``ingest_file`` streams ``path``: a file for the columnar path with more lines than one chunk
    of ``rows`` lines (estimated from its size for a CSV), read as UTF-8 (or Parquet), into a store with
    transactions."""
    from salesdash.ingest import use_columnar

    if engine.dialect.name == "spark" or not use_columnar(path):
        return False
    if parquet:
        return int(pq.read_metadata(path).num_rows) > rows
    if encoding not in (None, "utf-8", "utf-8-sig"):
        return False
    return path.stat().st_size // fast.CSV_LINE_BYTES > rows


class _Restart(Exception):
    """Load again, without these lines (skip mode: a line failed a rule across rows after it was loaded)."""

    def __init__(self, bad_rows: np.ndarray) -> None:
        super().__init__("load again without the failing lines")
        self.bad_rows = bad_rows


# ----------------------------------------------------------------------------------------------- reading


def _rechunk(batches: Iterator[arrow.RecordBatch], rows: int) -> Iterator[arrow.Table]:
    """Tables of exactly ``rows`` lines (the last one shorter) from batches of any size."""
    pending: list[arrow.RecordBatch] = []
    count = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = arrow.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending = rest.to_batches()
            count -= rows
    if count:
        yield arrow.Table.from_batches(pending)


def _csv_batches(path: Path) -> Iterator[arrow.RecordBatch]:
    header = fast._header(path, "utf-8-sig")
    if not header:
        raise Fallback("no header")
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=fast.BLOCK_SIZE, encoding="utf8"),
        # newlines inside quoted values are allowed: a stream cannot re-read the file the other way later
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: arrow.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    yield from reader


def _parquet_batches(path: Path, rows: int) -> Iterator[arrow.RecordBatch]:
    file = pq.ParquetFile(path)
    names = [str(n).strip() for n in file.schema_arrow.names]
    for batch in file.iter_batches(batch_size=rows):
        columns = [_as_text(n, arrow.chunked_array([batch.column(i)])) for i, n in enumerate(names)]
        yield from arrow.table(columns, names=names).to_batches()


def _encode(table: arrow.Table, encoding: str) -> ColumnarFile:
    names = [str(c).strip() for c in table.column_names]
    if len(set(names)) != len(names):
        raise Fallback("duplicate column names")
    chunks = [table.column(i) for i in range(table.num_columns)]
    with ThreadPoolExecutor(max_workers=fast.ENCODE_THREADS) as pool:
        encoded = list(pool.map(fast._encode, chunks))
    return ColumnarFile(
        columns=dict(zip(names, encoded, strict=True)),
        rows=table.num_rows,
        encoding=encoding,
        sha256="",
        size_bytes=0,
    )


class _Source:
    """The file as chunks of text lines, and (in a thread, next to the parse) its sha256 and encoding check."""

    def __init__(self, path: Path, parquet: bool, rows: int, encoding: str | None = None) -> None:
        self.path, self.parquet, self.rows, self.given = path, parquet, rows, encoding
        self.encoding = PARQUET_ENCODING if parquet else "utf-8"
        self._box: dict[str, Any] = {}
        self._thread: threading.Thread | None = None

    def start_digest(self) -> None:
        def run() -> None:
            try:
                if self.parquet:
                    self._box["result"] = (PARQUET_ENCODING, _digest(self.path))
                else:
                    self._box["result"] = detect_encoding(self.path)
            except BaseException as exc:  # re-raised in the caller's thread
                self._box["error"] = exc

        self._thread = threading.Thread(target=run, name="salesdash-digest", daemon=True)
        self._thread.start()

    def digest(self) -> str:
        """The file's sha256 (raises what the encoding check found: a NUL byte, a stray CR, ...)."""
        assert self._thread is not None
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        encoding, digest = self._box["result"]
        if encoding not in ("utf-8", "utf-8-sig", PARQUET_ENCODING):
            raise Fallback(f"the file is {encoding}, not UTF-8")
        self.encoding = self.given or encoding  # the encoding asked for is the one reported, as in fast.py
        return str(digest)

    def tables(self) -> Iterator[tuple[int, arrow.Table]]:
        """(row offset, table) per chunk; a parse error mid-file is a Fallback (once the encoding check has
        said its piece, which comes first as in the one-shot paths)."""
        batches = _parquet_batches(self.path, self.rows) if self.parquet else _csv_batches(self.path)
        offset = 0
        try:
            for table in _rechunk(batches, self.rows):
                yield offset, table
                offset += table.num_rows
        except (arrow.ArrowException, UnicodeDecodeError, OSError) as exc:
            if self._thread is not None:
                self.digest()
            raise Fallback(str(exc)) from None


# ------------------------------------------------------------------------------------------- validation


def _bits(values: np.ndarray) -> np.ndarray:
    """Typed numbers as int64 keys: equal values (NaN with NaN, 0.0 with -0.0) get equal keys."""
    v = np.asarray(values, dtype=np.float64) + 0.0
    return np.where(np.isnan(v), np.nan, v).view(np.int64)


class _Ids:
    """A global id per distinct typed value, over all chunks (missing -> -1)."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def rows(self, col: TypedColumn) -> np.ndarray:
        ids = self.ids
        per_value = np.fromiter(
            (-1 if pd.isna(v) else ids.setdefault(v, len(ids)) for v in col.uniques.tolist()),
            dtype=np.int32,
            count=len(col.uniques),
        )
        return np.take(per_value, col.codes)


def _order_columns() -> list[str]:
    return [
        str(c.name).removeprefix("one_").removesuffix("_per_order")
        for c in build_schema().checks
        if fast.is_order_rule(c)
    ]


@dataclass
class _AcrossRows:
    """What the rules across rows need of each line: order number, line number, per-order values' ids."""

    order: list[np.ndarray] = field(default_factory=list)
    line: list[np.ndarray] = field(default_factory=list)
    values: dict[str, list[np.ndarray]] = field(default_factory=dict)
    ids: dict[str, _Ids] = field(default_factory=dict)

    def add(self, typed: dict[str, TypedColumn], rows: int) -> None:
        for name, target in (("ORDERNUMBER", self.order), ("ORDERLINENUMBER", self.line)):
            col = typed.get(name)
            target.append(_bits(col.rows()) if col is not None else np.full(rows, _NAN_BITS, np.int64))
        for name in _order_columns():
            if name in typed:
                self.values.setdefault(name, []).append(self.ids.setdefault(name, _Ids()).rows(typed[name]))

    def suspects(self) -> np.ndarray:
        """Rows (sorted) that may fail a rule across rows: every line of an order whose lines differ in a
        per-order column, and every line whose (ORDERNUMBER, ORDERLINENUMBER) occurs more than once."""
        order = np.concatenate(self.order)
        found: list[np.ndarray] = []
        perm = None if bool(np.all(order[1:] >= order[:-1])) else np.argsort(order, kind="stable")
        ids = order if perm is None else order[perm]
        orders: list[np.ndarray] = []
        for parts in self.values.values():
            values = np.concatenate(parts)
            vals = values if perm is None else values[perm]
            differs = (ids[1:] == ids[:-1]) & (vals[1:] != vals[:-1]) & (ids[1:] != _NAN_BITS)
            if differs.any():
                orders.append(np.unique(ids[1:][differs]))
            del values, vals
        perm_was_none = perm is None
        del ids, perm
        if orders:
            found.append(np.flatnonzero(np.isin(order, np.unique(np.concatenate(orders)))))
        line = np.concatenate(self.line)
        repeated = _repeated_pairs(order, line, grouped=perm_was_none)
        if len(repeated):
            found.append(repeated)
        if not found:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(found))


MAX_LAG = 64  # orders of at most this many lines are checked for repeated pairs without a sort


def _repeated_pairs(order: np.ndarray, line: np.ndarray, *, grouped: bool) -> np.ndarray:
    """Rows (sorted) whose (order, line) key occurs more than once. When the lines of each order are
    together (``grouped``) and orders are short, rows are compared with their neighbours up to the longest
    order; otherwise the pairs are sorted."""
    if len(order) < 2:
        return np.zeros(0, dtype=np.int64)
    if grouped:
        starts = np.flatnonzero(np.r_[True, order[1:] != order[:-1]])
        longest = int(np.diff(np.r_[starts, len(order)]).max())
        if longest <= MAX_LAG:
            twice = np.zeros(len(order), dtype=bool)
            for lag in range(1, longest):
                same = (order[lag:] == order[:-lag]) & (line[lag:] == line[:-lag])
                twice[lag:] |= same
                twice[:-lag] |= same
            return np.flatnonzero(twice)
    by_pair = np.lexsort((line, order))
    o, ln = order[by_pair], line[by_pair]
    same = (o[1:] == o[:-1]) & (ln[1:] == ln[:-1])
    if not same.any():
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate([by_pair[1:][same], by_pair[:-1][same]]))


def _chunk_failures(file: ColumnarFile, typed: dict[str, TypedColumn], offset: int) -> list[dict[str, Any]]:
    cases = fast._concat_cases(fast.row_failure_cases(typed, strict_rows=True))
    if not len(cases):
        return []
    rows = np.unique(cases["index"].dropna().astype(np.int64).to_numpy())
    failures = _format_failures(fast._Cases(cases), file.raw_frame(rows))  # type: ignore[arg-type]
    for f in failures:
        f["line"] += offset
    return failures


def _across_failures(source: _Source, suspects: np.ndarray) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """The failures of the rules across rows among ``suspects`` (global rows, sorted), judged by fast.py's own
    across-row rules on exactly those lines (read again); and their raw text (index = global row)."""
    taken: list[arrow.Table] = []
    for offset, table in source.tables():
        local = suspects[(suspects >= offset) & (suspects < offset + table.num_rows)] - offset
        if len(local):
            taken.append(table.take(arrow.array(local)))
    file = _encode(arrow.concat_tables(taken), source.encoding)
    typed = fast.type_columns(file)
    cases = fast._concat_cases(fast.order_failure_cases(typed))
    raw = file.raw_frame(np.arange(file.rows))
    raw.index = pd.Index(suspects)
    if not len(cases):
        return [], raw.iloc[:0]
    rows = np.unique(cases["index"].dropna().astype(np.int64).to_numpy())
    failures = _format_failures(fast._Cases(cases), file.raw_frame(rows))  # type: ignore[arg-type]
    for f in failures:
        f["line"] = int(suspects[f["line"] - 2]) + 2
    bad = np.unique([f["line"] - 2 for f in failures])
    return failures, raw.loc[bad]


# ------------------------------------------------------------------------------------------------ the load


@dataclass
class _Scan:
    """One pass over the file: chunks of cleaned lines for the store, then (``finish``) the verdict."""

    source: _Source
    name: str
    on_error: str
    rejects_path: Path | None
    exclude: np.ndarray  # global rows not to load (failures found by an earlier pass)
    progress: Progress | None
    version_of: Callable[[str], str]
    total: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    rejected_raw: list[pd.DataFrame] = field(default_factory=list)
    facts: Facts = field(default_factory=Facts)
    across: _AcrossRows = field(default_factory=_AcrossRows)
    empty_cells: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCE_COLUMNS, 0))
    rows_read: int = 0
    columns: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    def chunks(self) -> Iterator[pd.DataFrame]:
        for offset, table in self.source.tables():
            file = _encode(table, self.source.encoding)
            del table
            if not self.columns:
                self.columns = list(file.columns)
            typed = fast.type_columns(file)
            failures = _chunk_failures(file, typed, offset)
            self.failures.extend(failures)
            self.across.add(typed, file.rows)
            self.rows_read += file.rows
            for column, count in file.empty_cells().items():
                self.empty_cells[column] += count
            if self.on_error == "strict" and self.failures:
                continue  # nothing is loaded: the rest is validated only, for the complete list
            keep = np.ones(file.rows, dtype=bool)
            bad = np.array(sorted({f["line"] - 2 - offset for f in failures}), dtype=np.int64)
            keep[bad] = False
            if self.rejects_path is not None and len(bad):
                raw = file.raw_frame(bad)
                raw.index = pd.Index(bad + offset)
                self.rejected_raw.append(raw)
            excluded = self.exclude[(self.exclude >= offset) & (self.exclude < offset + file.rows)] - offset
            keep[excluded] = False
            frame = fast.clean_columnar(typed, None if keep.all() else keep)
            self.facts.merge(Facts.of(fast.typed_numbers(typed, None if keep.all() else keep), frame))
            if self.progress:
                self.progress(
                    "load", min(offset + file.rows, self.total), max(self.total, offset + file.rows)
                )
            if len(frame):
                yield frame

    def finish(self) -> Finished:
        digest = self.source.digest()
        if self.rows_read == 0:
            raise InputFileError(f"{self.name} has a header but no order lines.")
        warnings = check_header(pd.DataFrame(columns=self.columns), self.name)
        suspects = self.across.suspects()
        self.across = _AcrossRows()  # its memory goes before the rollups are built
        one_row = {f["line"] - 2 for f in self.failures}
        if len(suspects):
            failures, raw = _across_failures(self.source, suspects)
            self.failures.extend(failures)
            if len(raw) and self.rejects_path is not None:
                self.rejected_raw.append(raw)
            loaded = {f["line"] - 2 for f in failures} - one_row - set(self.exclude.tolist())
            if loaded and self.on_error != "strict":
                raise _Restart(np.array(sorted({f["line"] - 2 for f in self.failures}), dtype=np.int64))
        self.failures.sort(key=lambda f: (f["line"], str(f["column"]), str(f["problem"])))
        rejected = 0
        if self.failures:
            if self.on_error == "strict":
                raise_for_failures(self.failures, self.name)
            bad_rows = {f["line"] - 2 for f in self.failures}
            rejected = len(bad_rows)
            if self.facts.rows_loaded == 0:
                raise InputFileError(
                    f"{self.name}: every line failed validation; nothing to load.",
                    details=self.failures[:MAX_DETAILS],
                )
            if self.rejects_path is not None:
                from salesdash.ingest import _write_rejects

                raw = pd.concat(self.rejected_raw)
                raw = raw[~raw.index.duplicated()].sort_index()
                _write_rejects(self.rejects_path, raw, self.failures)
        report = build_report(
            name=self.name,
            encoding=self.source.encoding,
            sha256=digest,
            size_bytes=self.source.path.stat().st_size,
            raw=None,
            typed_valid=None,
            clean=None,
            rows_read=self.rows_read,
            empty_cells=self.empty_cells,
            warnings=warnings,
            failures=self.failures,
            rejected_lines=rejected,
            facts=self.facts,
        )
        self.report = report
        return Finished(version=self.version_of(digest), source_sha256=digest, report=report)


def load_chunked(
    engine: Engine,
    path: Path,
    *,
    name: str,
    parquet: bool,
    on_error: str,
    rejects_path: str | Path | None,
    progress: Progress | None,
    keep_versions: int,
    loaded_at: datetime,
    version_of: Callable[[str], str],
    encoding: str | None = None,
    rows: int = CHUNK_ROWS,
) -> tuple[DataVersion, dict[str, Any]]:
    """Validate and load ``path`` ``rows`` lines at a time into the store behind ``engine``, atomically."""
    if rows < 1:
        raise ValueError(f"a chunk holds at least one line (got {rows})")
    total = int(pq.read_metadata(path).num_rows) if parquet else path.stat().st_size // fast.CSV_LINE_BYTES
    exclude = np.zeros(0, dtype=np.int64)
    while True:
        source = _Source(path, parquet, rows, None if parquet else encoding)
        source.start_digest()
        scan = _Scan(
            source=source,
            name=name,
            on_error=on_error,
            rejects_path=Path(rejects_path) if rejects_path else None,
            exclude=exclude,
            progress=progress,
            version_of=version_of,
            total=max(total, 1),
        )
        if progress:
            progress("load", 0, scan.total)
        try:
            version = replace_data_chunks(
                engine,
                scan.chunks(),
                scan.finish,
                source=str(path),
                loaded_at=loaded_at,
                progress=progress,
                keep_versions=keep_versions,
            )
        except _Restart as again:
            exclude = again.bad_rows
            continue
        return version, scan.report


__all__ = ["CHUNK_ROWS", "applies", "load_chunked"]
