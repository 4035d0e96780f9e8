"""The columnar path for large files: the same rules and messages as the row path, at millions of rows.

The row path (read.py -> validate.py -> clean.py) holds every cell as a Python string and runs pandera over
every row: exact, but minutes at 10M rows. This path gets the *same* answer faster:

- **read** with Arrow's multithreaded CSV reader, every column as text (no type guessing, empty stays "");
  anything the Arrow reader objects to (ragged rows, odd headers) falls back to the row path, which produces
  the exact error message;
- **type** each column once per *distinct* value: a column is dictionary-encoded (10M cells of ORDERDATE are
  ~900 distinct strings) and ``validate.to_typed`` runs on the distinct values only, so parsing is the very
  same code with the very same results;
- **validate** every column's pandera rules (``build_schema().columns``) on the distinct typed values, and map
  failures back to every row holding that value; the frame-wide rules (calendar agreement, one customer / date /
  status per order, unique (ORDERNUMBER, ORDERLINENUMBER)) run on the whole typed frame, with text as
  categoricals (cheap to group). Failures are formatted by ``validate._format_failures``: same lines, columns,
  values and wording as the row path;
- **clean** with the same rules as ``clean.clean``, text kept as categoricals (codes + distinct values).

``prepare`` in ``salesdash.ingest`` picks this path for files of ``FAST_PATH_BYTES`` or more.
"""

from __future__ import annotations

import codecs
import csv
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from salesdash.errors import InputFileError
from salesdash.ingest.read import byte_progress, detect_encoding
from salesdash.ingest.schema import COLUMN_MAP, SOURCE_COLUMNS, build_schema
from salesdash.ingest.validate import _format_failures, check_header, to_typed
from salesdash.store.schema import ORDER_LINE_COLUMNS

Progress = Callable[[str, int, int], None]

FAST_PATH_BYTES = 32 << 20
CSV_LINE_BYTES = (
    190  # a line of the source's CSV, about (to compare a Parquet file's rows with FAST_PATH_BYTES)
)
BLOCK_SIZE = 16 << 20
ENCODE_THREADS = 2


class Fallback(Exception):
    """The columnar path cannot read this file the way the row path would: use the row path."""


@dataclass
class EncodedColumn:
    """A text column as distinct raw values + one code per row (raw value of row i = values[codes[i]])."""

    values: arrow.Array  # distinct raw strings
    codes: np.ndarray  # int32 per row

    def raw_at(self, rows: np.ndarray) -> list[str]:
        return [str(v) for v in self.values.take(arrow.array(self.codes[rows])).to_pylist()]


@dataclass
class ColumnarFile:
    columns: dict[str, EncodedColumn]  # stripped header name -> encoded column, file order
    rows: int
    encoding: str
    sha256: str
    size_bytes: int

    def raw_frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The raw text of ``rows`` (index = row number), like the row path's raw frame."""
        data = {
            name: pd.Series(col.raw_at(rows), index=rows, dtype="str") for name, col in self.columns.items()
        }
        return pd.DataFrame(data, index=pd.Index(rows))

    def empty_cells(self) -> dict[str, int]:
        """Cells that are empty or blank, per source column (a missing column counts every row)."""
        out: dict[str, int] = {}
        for name in SOURCE_COLUMNS:
            col = self.columns.get(name)
            if col is None:
                out[name] = self.rows
                continue
            blank = pc.equal(pc.utf8_trim_whitespace(col.values), "").to_numpy(zero_copy_only=False)
            out[name] = int(np.bincount(col.codes, minlength=len(blank))[blank].sum())
        return out


# ----------------------------------------------------------------------------------------------- reading


def _header(path: Path, encoding: str) -> list[str]:
    with path.open("r", encoding=encoding, newline="") as fh:
        return next(csv.reader(fh), [])


def read_columnar(path: Path, encoding: str | None, progress: Progress | None = None) -> ColumnarFile:
    """Read ``path`` into dictionary-encoded text columns. Raises InputFileError like the row path for
    files it refuses, and Fallback when only the row path can judge the file."""
    size = path.stat().st_size
    box: dict[str, Any] = {}

    def detect() -> None:
        try:
            box["result"] = detect_encoding(path, byte_progress(progress, size) if progress else None)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    # hashing the file (sha256, UTF-8 check) runs next to the Arrow parse, which runs outside the GIL
    detector = threading.Thread(target=detect, name="salesdash-detect", daemon=True)
    detector.start()
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            detector.join()
            raise InputFileError(f"Unknown encoding {encoding!r}.") from None
    attempts = (False, True)
    columns, rows, problem = _read_encoded(path, encoding or "utf-8", attempts)
    detector.join()
    if "error" in box:
        raise box["error"]
    detected, digest = box["result"]
    used = encoding or detected
    if used not in ("utf-8", "utf-8-sig") and not encoding:
        columns, rows, problem = _read_encoded(path, used, attempts)
    if columns is None:
        raise Fallback(problem)
    if progress:
        progress("read", size, size)
    return ColumnarFile(columns=columns, rows=rows, encoding=used, sha256=digest, size_bytes=size)


def read_parquet_columnar(path: Path, progress: Progress | None = None) -> ColumnarFile:
    """A Parquet file as dictionary-encoded text columns (``parquet.read_text_table``'s text)."""
    from salesdash.ingest.parquet import ENCODING, read_text_table

    table, digest, size = read_text_table(path)
    names = table.column_names
    if len(set(names)) != len(names):
        raise Fallback("duplicate column names")
    rows = table.num_rows
    chunks = [table.column(i) for i in range(table.num_columns)]
    del table
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        encoded = list(pool.map(_encode, chunks))
    if progress:
        progress("read", 1, 1)
    return ColumnarFile(
        columns=dict(zip(names, encoded, strict=True)),
        rows=rows,
        encoding=ENCODING,
        sha256=digest,
        size_bytes=size,
    )


def _read_encoded(
    path: Path, encoding: str, attempts: tuple[bool, ...]
) -> tuple[dict[str, EncodedColumn] | None, int, str]:
    """Parse with Arrow and dictionary-encode every column.

    The first attempt lets Arrow split the file into blocks at any newline (fast). A newline inside a quoted
    value would then either fail to parse or leave a stray quote character in some value, so when it fails or
    any value holds a quote, the file is parsed again allowing newlines inside values."""
    problem = ""
    for newlines_in_values in attempts:
        try:
            table = _parse_once(path, encoding, newlines_in_values)
        except (arrow.ArrowInvalid, UnicodeDecodeError, csv.Error, OSError, Fallback) as exc:
            problem = str(exc)
            continue
        names = [str(c).strip() for c in table.column_names]
        if len(set(names)) != len(names):
            return None, 0, "duplicate column names"
        rows = table.num_rows
        chunks = [table.column(i) for i in range(table.num_columns)]
        del table
        with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
            encoded = list(pool.map(_encode, chunks))
        del chunks
        if not newlines_in_values and any(pc.any(pc.match_substring(e.values, '"')).as_py() for e in encoded):
            problem = "a value holds a quote character"
            continue
        return dict(zip(names, encoded, strict=True)), rows, ""
    return None, 0, problem


def _encode(column: arrow.ChunkedArray) -> EncodedColumn:
    encoded = pc.dictionary_encode(column).combine_chunks()
    return EncodedColumn(
        values=encoded.dictionary,
        codes=encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False),
    )


def _parse_once(path: Path, encoding: str, newlines_in_values: bool) -> arrow.Table:
    header = _header(path, "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding)
    if not header:
        raise Fallback("no header")
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE, encoding=arrow_encoding),
        parse_options=pacsv.ParseOptions(newlines_in_values=newlines_in_values),
        convert_options=pacsv.ConvertOptions(
            column_types={name: arrow.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


# ---------------------------------------------------------------------------------------- typing + rules


@dataclass
class TypedColumn:
    """A typed column as distinct typed values + one code per row into them."""

    uniques: pd.Series  # to_typed's value for each distinct raw value
    codes: np.ndarray  # int32 per row
    _canonical: np.ndarray | None = None

    def rows(self, rows: np.ndarray | None = None) -> np.ndarray:
        codes = self.codes if rows is None else self.codes[rows]
        return np.take(np.asarray(self.uniques.to_numpy()), codes)

    def canonical(self) -> np.ndarray:
        """Per distinct raw value, an id of its *typed* value (' 5' and '5' share one); missing -> -1."""
        if self._canonical is None:
            ids, _ = pd.factorize(self.uniques, use_na_sentinel=True)
            self._canonical = ids.astype(np.int64)
        return self._canonical

    def canonical_rows(self) -> np.ndarray:
        return np.take(self.canonical(), self.codes)


def type_columns(file: ColumnarFile) -> dict[str, TypedColumn]:
    """``validate.to_typed`` applied to each column's distinct values (the very same parsing)."""
    typed: dict[str, TypedColumn] = {}
    for name in SOURCE_COLUMNS:
        col = file.columns.get(name)
        if col is None:
            continue
        raw_uniques = pd.DataFrame({name: pd.Series(col.values.to_numpy(zero_copy_only=False), dtype="str")})
        typed[name] = TypedColumn(uniques=to_typed(raw_uniques)[name], codes=col.codes)
    return typed


class _Cases:
    """Quacks like pandera's SchemaErrors for ``validate._format_failures`` (it only reads failure_cases)."""

    def __init__(self, failure_cases: pd.DataFrame) -> None:
        self.failure_cases = failure_cases


def _expand(cases: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Failure cases found on distinct values (index = value id) -> the same cases on every row holding
    that value (index = row number)."""
    cases = cases[cases["index"].notna()]
    if cases.empty:
        return cases
    positions = cases["index"].astype(np.int64).to_numpy()
    counts = np.bincount(codes, minlength=int(positions.max()) + 1)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    repeats = counts[positions]
    out = cases.loc[cases.index.repeat(repeats)].copy()
    offsets = np.arange(int(repeats.sum())) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    out["index"] = order[np.repeat(starts[positions], repeats) + offsets]
    return out


def _typed_frame(
    typed: dict[str, TypedColumn], rows: np.ndarray | None, names: list[str] | None = None
) -> pd.DataFrame:
    """The row path's typed frame (to_typed's dtypes) for ``rows`` (all when None); index = row numbers."""
    chosen = [n for n in (names or list(typed)) if n in typed]
    index = pd.RangeIndex(len(next(iter(typed.values())).codes)) if rows is None else pd.Index(rows)
    data: dict[str, Any] = {}
    for name in chosen:
        col = typed[name]
        values = col.rows(rows)
        data[name] = pd.Series(values, index=index, dtype=col.uniques.dtype)
    return pd.DataFrame(data, index=index)


def _schema_errors(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame | None:
    try:
        schema.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        return exc.failure_cases
    return None


def _frame_rule(check: pa.Check) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({}, checks=[check], strict=False, coerce=False)


def _column_rule_cases(schema: pa.DataFrameSchema, typed: dict[str, TypedColumn]) -> list[pd.DataFrame]:
    """Each column's rules on its distinct typed values, mapped back to rows."""
    found: list[pd.DataFrame] = []
    for name, column in schema.columns.items():
        if name not in typed:
            continue
        if column.unique:
            raise Fallback(f"{name} has a column-wide uniqueness rule")
        cases = _schema_errors(pa.DataFrameSchema({name: column}), pd.DataFrame({name: typed[name].uniques}))
        if cases is not None:
            found.append(_expand(cases, typed[name].codes))
    return found


def _calendar_cases(check: pa.Check, column: str, typed: dict[str, TypedColumn]) -> pd.DataFrame | None:
    """A rule on (ORDERDATE, column) of one row: run it on the distinct pairs, map failures to rows."""
    if column not in typed or "ORDERDATE" not in typed:
        return None
    dates, other = typed["ORDERDATE"], typed[column]
    width = len(other.uniques)
    key = dates.codes.astype(np.int64) * width + other.codes
    present = np.flatnonzero(np.bincount(key, minlength=len(dates.uniques) * width))
    pair_id = np.full(len(dates.uniques) * width, -1, dtype=np.int64)
    pair_id[present] = np.arange(len(present))
    pairs = pd.DataFrame(
        {
            "ORDERDATE": dates.uniques.to_numpy()[present // width],
            column: other.uniques.to_numpy()[present % width],
        }
    ).astype({"ORDERDATE": dates.uniques.dtype, column: other.uniques.dtype})
    cases = _schema_errors(_frame_rule(check), pairs)
    if cases is None:
        return None
    return _expand(cases.drop_duplicates(subset=["index"]), pair_id[key])


def _order_ids(typed: dict[str, TypedColumn]) -> np.ndarray:
    return typed["ORDERNUMBER"].canonical_rows()


def _rows_by_order(order_ids: np.ndarray) -> np.ndarray | None:
    """A permutation that groups rows by order (None when the file is already grouped by order number)."""
    if len(order_ids) < 2 or bool(np.all(order_ids[1:] >= order_ids[:-1])):
        return None
    return np.argsort(order_ids, kind="stable")


def _per_order_cases(
    check: pa.Check,
    column: str,
    typed: dict[str, TypedColumn],
    order_ids: np.ndarray,
    perm: np.ndarray | None,
) -> pd.DataFrame | None:
    """A rule on all lines of an order: find orders whose lines differ in ``column`` (a cheap superset),
    then run the rule itself on exactly those orders' lines."""
    if column not in typed:
        return None
    values = typed[column].canonical_rows()
    ids = order_ids if perm is None else order_ids[perm]
    vals = values if perm is None else values[perm]
    differs = (ids[1:] == ids[:-1]) & (vals[1:] != vals[:-1]) & (ids[1:] >= 0)
    if not differs.any():
        return None
    suspect = np.unique(ids[1:][differs])
    rows = np.flatnonzero(np.isin(order_ids, suspect))
    return _schema_errors(_frame_rule(check), _typed_frame(typed, rows))


def _uniqueness_cases(schema: pa.DataFrameSchema, typed: dict[str, TypedColumn]) -> pd.DataFrame | None:
    """The (ORDERNUMBER, ORDERLINENUMBER) rule: find repeated pairs cheaply, then let pandera judge them."""
    unique = schema.unique
    if not unique:
        return None
    names = [unique] if isinstance(unique, str) else list(unique)
    present = [n for n in names if n in typed]
    if not present:
        return None
    key = np.zeros(len(typed[present[0]].codes), dtype=np.int64)
    span = 1
    for name in present:
        ids = typed[name].canonical_rows() + 1  # missing -> 0 (pandas treats missing values as equal)
        width = int(ids.max()) + 1
        if span * width > 1 << 62:
            span = 0
            break
        key = key * width + ids
        span *= width
    if span and span <= 1 << 27:
        repeated = np.bincount(key, minlength=span)[key] > 1
    else:
        repeated = pd.Series(key).duplicated(keep=False).to_numpy() if span else np.ones(len(key), bool)
    if not repeated.any():
        return None
    rows = np.flatnonzero(repeated)
    rule = pa.DataFrameSchema(
        {}, unique=schema.unique, report_duplicates=schema.report_duplicates, strict=False, coerce=False
    )
    return _schema_errors(rule, _typed_frame(typed, rows))


def failure_cases(typed: dict[str, TypedColumn]) -> pd.DataFrame:
    """Every pandera failure case of ``build_schema()``, as validating the whole typed frame would list it.

    Rules the columnar path knows the shape of (per-column, per-row calendar, per-order, uniqueness) run on
    distinct values or on the few suspect rows; any other frame-wide rule runs on the whole typed frame.
    """
    return _concat_cases(row_failure_cases(typed) + order_failure_cases(typed))


def is_order_rule(check: pa.Check) -> bool:
    """Whether a frame-wide rule is about all lines of an order (one CUSTOMERNAME, ... per order)."""
    name = str(check.name)
    return name.startswith("one_") and name.endswith("_per_order")


def row_failure_cases(typed: dict[str, TypedColumn], *, strict_rows: bool = False) -> list[pd.DataFrame]:
    """The failure cases of the rules that look at one row at a time: each column's rules and the calendar
    rules (and, unless ``strict_rows``, any other frame-wide rule except the per-order ones, on the whole
    frame). ``strict_rows``: refuse (Fallback) a frame-wide rule whose shape is unknown, since a caller
    judging a file in chunks cannot run it on one chunk."""
    schema = build_schema()
    found = _column_rule_cases(schema, typed)
    for check in schema.checks:
        name = str(check.name)
        if is_order_rule(check):
            continue
        cases: pd.DataFrame | None
        if name.endswith("_matches_ORDERDATE"):
            cases = _calendar_cases(check, name.removesuffix("_matches_ORDERDATE"), typed)
        elif strict_rows:
            raise Fallback(f"the rule {name} cannot be judged one chunk at a time")
        else:
            cases = _schema_errors(_frame_rule(check), _typed_frame(typed, None))
        if cases is not None:
            found.append(cases)
    return found


def order_failure_cases(typed: dict[str, TypedColumn]) -> list[pd.DataFrame]:
    """The failure cases of the rules across rows: one value per order, unique (ORDERNUMBER, ORDERLINENUMBER)."""
    schema = build_schema()
    found: list[pd.DataFrame] = []
    order_ids: np.ndarray | None = None
    perm: np.ndarray | None = None
    for check in schema.checks:
        name = str(check.name)
        cases: pd.DataFrame | None = None
        if is_order_rule(check) and "ORDERNUMBER" in typed:
            if order_ids is None:
                order_ids = _order_ids(typed)
                perm = _rows_by_order(order_ids)
            column = name.removeprefix("one_").removesuffix("_per_order")
            cases = _per_order_cases(check, column, typed, order_ids, perm)
        if cases is not None:
            found.append(cases)
    unique_cases = _uniqueness_cases(schema, typed)
    if unique_cases is not None:
        found.append(unique_cases)
    return found


def _concat_cases(found: list[pd.DataFrame]) -> pd.DataFrame:
    found = [f for f in found if len(f)]
    if not found:
        return pd.DataFrame(columns=["schema_context", "column", "check", "index"])
    return pd.concat(found, ignore_index=True)


def validate_columnar(
    file: ColumnarFile, name: str
) -> tuple[dict[str, TypedColumn], list[str], list[dict[str, Any]]]:
    """(typed columns, warnings, failures) with the row path's rules and messages."""
    warnings = check_header(pd.DataFrame(columns=list(file.columns)), name)
    if file.rows == 0:
        raise InputFileError(f"{name} has a header but no order lines.")
    typed = type_columns(file)
    cases = failure_cases(typed)
    failures: list[dict[str, Any]] = []
    if len(cases):
        rows = np.unique(cases["index"].dropna().astype(np.int64).to_numpy())
        failures = _format_failures(_Cases(cases), file.raw_frame(rows))  # type: ignore[arg-type]
    return typed, warnings, failures


# ---------------------------------------------------------------------------------------------- cleaning


def _int_values(uniques: pd.Series, dtype: str) -> np.ndarray:
    """Typed numbers as integers, per distinct value (missing or out-of-range values, which only invalid
    rows hold, become 0 so the cast is quiet)."""
    values = uniques.to_numpy(dtype="float64", na_value=np.nan)
    ok = np.isfinite(values) & (np.abs(values) < 2.0**62)
    return np.where(ok, values, 0).astype(dtype)


def _categorical(col: TypedColumn, rows: np.ndarray | None) -> pd.Categorical:
    """Text as a categorical: categories are the distinct typed values, sorted; missing -> NaN."""
    ids, categories = pd.factorize(col.uniques, sort=True, use_na_sentinel=True)
    codes = np.take(ids.astype(np.int32), col.codes if rows is None else col.codes[rows])
    if rows is not None and len(categories):
        used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
        if not used.all():
            remap = np.full(len(categories), -1, dtype=np.int32)
            remap[used] = np.arange(int(used.sum()), dtype=np.int32)
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            categories = categories[used]
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))


def typed_numbers(typed: dict[str, TypedColumn], keep: np.ndarray | None) -> pd.DataFrame:
    """QUANTITYORDERED, PRICEEACH and SALES of the kept rows (what the quality report looks at)."""
    rows = None if keep is None else np.flatnonzero(keep)
    names = ["QUANTITYORDERED", "PRICEEACH", "SALES"]
    return pd.DataFrame({n: typed[n].rows(rows) for n in names if n in typed})


def clean_columnar(typed: dict[str, TypedColumn], keep: np.ndarray | None) -> pd.DataFrame:
    """``clean.clean`` for the columnar path: the same columns and values, computed once per distinct value.

    Text stays categorical and order_date is an ordered categorical of dates (few distinct values: cheap to
    keep, to group and to load)."""
    rows = None if keep is None else np.flatnonzero(keep)
    length = len(next(iter(typed.values())).codes) if rows is None else len(rows)

    def per_row(values: np.ndarray, name: str) -> np.ndarray:
        codes = typed[name].codes
        return np.take(values, codes if rows is None else codes[rows])

    out: dict[str, Any] = {}
    for src in SOURCE_COLUMNS:
        dst = COLUMN_MAP[src]
        if dst in ("sales", "qtr_id", "month_id", "year_id", "order_date"):
            continue
        if src not in typed:
            out[dst] = pd.Categorical.from_codes(np.full(length, -1, dtype=np.int8), categories=[])
            continue
        col = typed[src]
        if dst in ("order_number", "quantity_ordered", "order_line_number"):
            out[dst] = per_row(_int_values(col.uniques, "int64"), src)
        elif dst == "msrp":
            out[dst] = pd.Series(per_row(col.uniques.to_numpy(dtype="float64"), src)).astype("Int64")
        elif dst == "price_each":
            out[dst] = per_row(col.uniques.to_numpy(dtype="float64"), src)
        else:
            out[dst] = _categorical(col, rows)
    cents = np.round(typed["SALES"].uniques.to_numpy(dtype="float64", na_value=np.nan) * 100)
    # values that are not finite or too large for cents belong to invalid rows only
    cents = np.where(np.isfinite(cents) & (np.abs(cents) < 2.0**62), cents, 0)
    out["sales_cents"] = per_row(cents.astype("int64"), "SALES")
    dates = typed["ORDERDATE"]
    date_ids, distinct = pd.factorize(dates.uniques, sort=True, use_na_sentinel=True)
    stamps = pd.DatetimeIndex(distinct)
    day_codes = per_row(date_ids.astype(np.int32), "ORDERDATE")
    out["order_date"] = pd.Categorical.from_codes(
        day_codes, categories=pd.Index([ts.date() for ts in stamps], dtype=object), ordered=True
    )
    iso = stamps.isocalendar()
    for dst, values in (
        ("year", stamps.year),
        ("quarter", stamps.quarter),
        ("month", stamps.month),
        ("day", stamps.day),
        ("iso_year", iso["year"].to_numpy()),
        ("iso_week", iso["week"].to_numpy()),
    ):
        out[dst] = np.take(np.asarray(values, dtype=np.int16), day_codes)
    return pd.DataFrame({name: out[name] for name in ORDER_LINE_COLUMNS})


__all__ = [
    "FAST_PATH_BYTES",
    "ColumnarFile",
    "Fallback",
    "clean_columnar",
    "read_columnar",
    "validate_columnar",
]
