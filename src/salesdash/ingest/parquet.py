"""Reading a Parquet file of order lines (what ``salesdash generate --out x.parquet`` writes).

A Parquet file is turned into the very text a CSV of the same lines would hold, and then goes through the same
validation, cleaning and messages as a CSV (the row path for small files, the columnar path for large ones):

- text columns stay as they are; whole numbers and decimals become their shortest text (``10107``, ``95.7``);
- date and timestamp columns become ORDERDATE's text format (``MM/DD/YYYY HH:MM``);
- a missing value (null) becomes an empty cell;
- columns of any other type (lists, structs, binary, ...) are refused with one message naming them.

Line numbers in messages count as in the equivalent CSV: the header is line 1, the first row line 2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesdash.errors import InputFileError
from salesdash.ingest.read import RawFile
from salesdash.ingest.schema import DATE_FORMAT

MAGIC = b"PAR1"
ENCODING = "parquet"  # what the quality report shows as the file's encoding
_HASH_CHUNK = 1 << 22


def is_parquet(path: Path) -> bool:
    """Whether ``path`` is a Parquet file (by its magic bytes, whatever its name)."""
    try:
        with path.open("rb") as fh:
            return fh.read(4) == MAGIC
    except OSError:
        return False


def parquet_rows(path: Path) -> int:
    """The row count in the file's footer (0 when the footer cannot be read: the reader will say why)."""
    try:
        return int(pq.read_metadata(path).num_rows)
    except (pa.ArrowException, OSError):
        return 0


def parquet_columns(path: Path) -> list[str] | None:
    """The column names from the file's schema (its footer only), or None when the footer cannot be read
    (the read that follows then says what is wrong)."""
    try:
        return [str(name) for name in pq.read_schema(path).names]
    except (OSError, pa.ArrowException):
        return None


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _as_text(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.cast(pa.string())
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        text = pc.cast(column, pa.string())
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        text = pc.strftime(column.cast(pa.timestamp("s")), format=DATE_FORMAT)
    elif pa.types.is_null(kind):
        text = pa.chunked_array([pa.array([""] * len(column), pa.string())])
    else:
        raise InputFileError(
            f"Parquet column {name} has type {kind}: expected text, numbers or dates.",
            details=[{"problem": "column_type", "column": name, "type": str(kind)}],
        )
    return pc.fill_null(text, "")


def read_text_table(path: Path) -> tuple[pa.Table, str, int]:
    """The Parquet file as a table of text columns (names stripped), its sha256 and its size in bytes."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"File not found: {path}" if not path.exists() else f"Not a file: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(
            f"{path.name} is not a readable Parquet file ({exc}). Write it again or export it as CSV."
        ) from None
    names = [str(c).strip() for c in table.column_names]
    columns = [_as_text(name, table.column(i)) for i, name in enumerate(names)]
    return pa.table(columns, names=names), _digest(path), path.stat().st_size


def read_parquet(path: Path) -> RawFile:
    """The Parquet file as the row path's all-text frame (what ``read.read_csv`` gives for a CSV)."""
    table, digest, size = read_text_table(path)
    if table.num_rows == 0 and table.num_columns == 0:
        raise InputFileError(f"{path.name} is empty: expected columns and order lines.")
    frame = pd.DataFrame(
        {
            i: pd.Series(np.asarray(table.column(i).to_pylist(), dtype=object), dtype="str")
            for i in range(table.num_columns)
        }
    )
    frame.columns = table.column_names
    return RawFile(frame=frame, encoding=ENCODING, sha256=digest, size_bytes=size)


__all__ = ["ENCODING", "is_parquet", "parquet_rows", "read_parquet", "read_text_table"]
