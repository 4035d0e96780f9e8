"""Processed outputs of the ETL, for analysts: the cleaned order lines as CSV and Parquet, and the quality
report as text and JSON.

They are read back from the store in one read snapshot, so they hold exactly what the API, the dashboard and the
exports serve (same data version, same quality report as the Data quality page). Lines are streamed in chunks:
memory does not grow with the store. Every order line is written, Cancelled ones included with their status;
money is in currency units (``sales``, two decimals) where the store keeps integer cents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select

from salesdash.errors import InputFileError, NoData
from salesdash.export_safety import FORMULA_PREFIXES
from salesdash.ingest.report import format_report
from salesdash.metrics import METRICS, Filters, kpis
from salesdash.store import snapshot
from salesdash.store.engine import has_schema
from salesdash.store.load import current_version_in
from salesdash.store.schema import ORDER_LINE_COLUMNS, order_lines

PROCESSED_CSV = "sales_data_processed.csv"
PROCESSED_PARQUET = "sales_data_processed.parquet"
SUMMARY_TEXT = "summary_stats.txt"
QUALITY_JSON = "quality_report.json"
CHUNK_ROWS = 100_000
NO_DATA = "There is no data to write yet: run `salesdash ingest` first."

# The processed columns: the store's columns in its order, with integer cents turned into currency units.
COLUMNS: tuple[str, ...] = tuple("sales" if c == "sales_cents" else c for c in ORDER_LINE_COLUMNS)
# Typed columns (every other column is text).
TYPES: dict[str, pa.DataType] = {
    "order_number": pa.int64(),
    "order_line_number": pa.int32(),
    "quantity_ordered": pa.int32(),
    "price_each": pa.float64(),
    "sales": pa.float64(),
    "order_date": pa.date32(),
    "msrp": pa.int32(),
    "year": pa.int16(),
    "quarter": pa.int16(),
    "month": pa.int16(),
    "day": pa.int16(),
    "iso_year": pa.int16(),
    "iso_week": pa.int16(),
}
# What summary_stats.txt states first: the headline figures, as the API names them.
HEADLINE = (
    "revenue",
    "order_count",
    "average_order_value",
    "customer_count",
    "country_count",
    "product_line_count",
)


@dataclass(frozen=True)
class ProcessedOutputs:
    """The files written and what they hold."""

    directory: Path
    data_version: str
    line_count: int
    files: dict[str, Path]


def _arrow_schema() -> pa.Schema:
    return pa.schema([pa.field(c, TYPES.get(c, pa.string())) for c in COLUMNS])


def _frame(rows: Sequence[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ORDER_LINE_COLUMNS))
    frame.insert(frame.columns.get_loc("sales_cents"), "sales", frame.pop("sales_cents") / 100)
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    return frame


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading single quote (as every export)."""
    safe = frame.copy()
    for column in safe.columns:
        if TYPES.get(column) is None:  # text column
            text = safe[column]
            risky = text.notna() & text.astype("string").str.startswith(FORMULA_PREFIXES).fillna(False)
            if risky.any():
                safe[column] = text.where(~risky, "'" + text.astype("string"))
    return safe


def write_processed(
    engine: Engine,
    directory: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[str, int, int], None] | None = None,
) -> ProcessedOutputs:
    """Write the processed CSV and Parquet and the quality report (text and JSON) of the current data into
    ``directory`` (created if needed). Raises NoData when the store holds no data."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"Cannot create the output folder {directory}: {exc.strerror}.") from None
    files = {
        "csv": directory / PROCESSED_CSV,
        "parquet": directory / PROCESSED_PARQUET,
        "summary": directory / SUMMARY_TEXT,
        "quality": directory / QUALITY_JSON,
    }
    if not has_schema(engine):
        raise NoData(NO_DATA)
    with snapshot(engine) as conn:
        version = current_version_in(conn)
        if version is None:
            raise NoData(NO_DATA)
        total = int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())
        ordered = select(order_lines).order_by(order_lines.c.order_number, order_lines.c.order_line_number)
        result = conn.execute(ordered)
        schema = _arrow_schema()
        written = 0
        with (
            files["csv"].open("w", encoding="utf-8", newline="") as csv_file,
            pq.ParquetWriter(files["parquet"], schema, compression="zstd") as parquet,
        ):
            while rows := result.fetchmany(chunk_rows):
                frame = _frame(rows)
                parquet.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
                _spreadsheet_safe(frame).to_csv(
                    csv_file, header=written == 0, index=False, float_format="%.2f"
                )
                written += len(frame)
                if progress:
                    progress("write", written, total)
            if written == 0:
                csv_file.write(",".join(COLUMNS) + "\n")
        figures = kpis(conn, Filters())
    report = version.report
    summary = [
        f"salesdash processed data: data version {version.version}, loaded {version.loaded_at:%Y-%m-%d %H:%M}",
        "",
        "Headline figures (every order line except Cancelled):",
        *(f"  {METRICS[name].label:<22} {figures[name]:,}" for name in HEADLINE),
        "",
        "Quality report:",
        format_report(report),
    ]
    files["summary"].write_text("\n".join(summary) + "\n", encoding="utf-8")
    files["quality"].write_text(
        json.dumps(
            {
                "data_version": version.version,
                "loaded_at": version.loaded_at.isoformat(),
                "headline": {name: figures[name] for name in HEADLINE},
                "report": report,
            },
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    return ProcessedOutputs(
        directory=directory, data_version=version.version, line_count=written, files=files
    )


def read_processed_csv(path: Path) -> pd.DataFrame:
    """The processed CSV as a typed DataFrame, like the Parquet file: numbers as numbers, ``order_date`` as a
    date, text as text (so territory ``NA``, North America, stays ``NA`` and postal codes keep their zeros),
    empty cells as missing."""
    numbers = {c: t.to_pandas_dtype() for c, t in TYPES.items() if c != "order_date"}
    nullable = {c: "Int32" for c in ("msrp",)}
    text = {c: "string" for c in COLUMNS if c not in TYPES}
    frame = pd.read_csv(
        path,
        dtype={**numbers, **nullable, **text},
        keep_default_na=False,
        na_values={c: [""] for c in (*text, *nullable)},
        encoding="utf-8",
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="%Y-%m-%d").dt.date
    return frame
