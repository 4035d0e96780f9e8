"""The quality report of one ingest: what was read, loaded and rejected, and what is odd about the data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from salesdash.geo import iso3
from salesdash.ingest.schema import SOURCE_COLUMNS
from salesdash.vocabulary import CANCELLED

MISMATCH = 0.005  # SALES and QUANTITYORDERED x PRICEEACH differ by more than half a cent
CAPPED_PRICE = 100


@dataclass(frozen=True)
class Figures:
    """What a report says about the loaded lines, however they were counted (pandas here, Spark in
    ``ingest/spark.py``): the report's wording is made from these once, in :func:`assemble_report`."""

    rows_loaded: int
    capped_rows: int  # SALES > QUANTITYORDERED x PRICEEACH where PRICEEACH is 100 (capped)
    capped_amount: float
    other_mismatch_rows: int
    months_by_year: dict[int, list[int]]
    cancelled_orders: int
    countries: list[str]
    date_start: date | None
    date_end: date | None
    distinct: dict[str, int]  # orders, customers, product_lines, product_codes
    statuses: dict[str, int]


def figures_of(typed_valid: pd.DataFrame, clean: pd.DataFrame) -> Figures:
    """:class:`Figures` of a typed, valid frame and its cleaned lines."""
    capped_rows = other = 0
    capped_amount = 0.0
    months: dict[int, list[int]] = {}
    cancelled = 0
    if len(clean):
        qty = typed_valid["QUANTITYORDERED"]
        price = typed_valid["PRICEEACH"]
        sales = typed_valid["SALES"]
        mismatch = (sales - qty * price).abs() > MISMATCH
        capped = mismatch & (price == CAPPED_PRICE)
        capped_rows = int(capped.sum())
        capped_amount = float((sales - qty * price)[capped].sum())
        other = int((mismatch & (price != CAPPED_PRICE)).sum())
        for year, group in clean.groupby("year")["month"]:
            months[int(year)] = sorted(int(m) for m in group.unique())
        cancelled = int(clean.loc[clean["status"] == CANCELLED, "order_number"].nunique())
    return Figures(
        rows_loaded=len(clean),
        capped_rows=capped_rows,
        capped_amount=capped_amount,
        other_mismatch_rows=other,
        months_by_year=months,
        cancelled_orders=cancelled,
        countries=sorted(str(c) for c in clean["country"].unique()) if len(clean) else [],
        date_start=clean["order_date"].min() if len(clean) else None,
        date_end=clean["order_date"].max() if len(clean) else None,
        distinct={
            "orders": int(clean["order_number"].nunique()),
            "customers": int(clean["customer_name"].nunique()),
            "countries": int(clean["country"].nunique()),
            "product_lines": int(clean["product_line"].nunique()),
            "product_codes": int(clean["product_code"].nunique()),
        },
        statuses={str(k): int(v) for k, v in clean["status"].value_counts().sort_index().items()},
    )


def build_report(
    *,
    name: str,
    encoding: str,
    sha256: str,
    size_bytes: int,
    raw: pd.DataFrame | None,
    typed_valid: pd.DataFrame,
    clean: pd.DataFrame,
    warnings: list[str],
    failures: list[dict[str, Any]],
    rejected_lines: int,
    rows_read: int | None = None,
    empty_cells: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The report; the columnar path passes ``rows_read`` and ``empty_cells`` instead of the raw frame."""
    if raw is not None:
        rows_read = len(raw)
        empty_cells = {
            col: int((raw[col].str.strip() == "").sum()) if col in raw else rows_read
            for col in SOURCE_COLUMNS
        }
    assert rows_read is not None and empty_cells is not None
    return assemble_report(
        figures_of(typed_valid, clean),
        name=name,
        encoding=encoding,
        sha256=sha256,
        size_bytes=size_bytes,
        rows_read=rows_read,
        empty_cells=empty_cells,
        warnings=warnings,
        failures=failures,
        rejected_lines=rejected_lines,
    )


def assemble_report(
    figures: Figures,
    *,
    name: str,
    encoding: str,
    sha256: str,
    size_bytes: int,
    rows_read: int,
    empty_cells: dict[str, int],
    warnings: list[str],
    failures: list[dict[str, Any]],
    rejected_lines: int,
    rejected_reasons: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The report from its figures (``rejected_reasons`` counted elsewhere when ``failures`` are the first
    ones only)."""
    anomalies: list[dict[str, Any]] = []
    if figures.rows_loaded:
        if figures.capped_rows:
            anomalies.append(
                {
                    "code": "price_each_capped",
                    "rows": figures.capped_rows,
                    "amount": round(figures.capped_amount, 2),
                    "message": (
                        f"PRICEEACH is capped at 100.00: on {figures.capped_rows:,} rows SALES exceeds "
                        "QUANTITYORDERED x PRICEEACH. Revenue uses SALES."
                    ),
                }
            )
        if figures.other_mismatch_rows:
            anomalies.append(
                {
                    "code": "sales_not_qty_times_price",
                    "rows": figures.other_mismatch_rows,
                    "message": f"On {figures.other_mismatch_rows:,} rows SALES differs from QUANTITYORDERED x PRICEEACH.",
                }
            )
        for year, present in sorted(figures.months_by_year.items()):
            if len(present) < 12:
                anomalies.append(
                    {
                        "code": "partial_year",
                        "year": int(year),
                        "months": present,
                        "message": f"{year} has data for {len(present)} month(s) only ({present[0]}-{present[-1]}); "
                        "compare it like-for-like.",
                    }
                )
        if figures.cancelled_orders:
            anomalies.append(
                {
                    "code": "cancelled_orders",
                    "orders": figures.cancelled_orders,
                    "message": f"{figures.cancelled_orders} cancelled order(s) are excluded from revenue by default.",
                }
            )
    country_codes = {c: iso3(c) for c in figures.countries}
    unmapped = [c for c, code in country_codes.items() if code is None]
    if unmapped:
        anomalies.append(
            {
                "code": "unmapped_countries",
                "countries": unmapped,
                "message": f"No ISO country code for: {', '.join(unmapped)} (not shown on the map).",
            }
        )
    reasons = rejected_reasons
    if reasons is None:
        reasons = dict(Counter(f"{f['column']}: {f['problem']}" for f in failures).most_common(20))
    return {
        "source": name,
        "encoding": encoding,
        "sha256": sha256,
        "size_bytes": size_bytes,
        "rows_read": rows_read,
        "rows_loaded": figures.rows_loaded,
        "rows_rejected": rejected_lines,
        "rejected_reasons": reasons,
        "warnings": warnings,
        "date_range": {
            "start": figures.date_start.isoformat() if figures.date_start is not None else None,
            "end": figures.date_end.isoformat() if figures.date_end is not None else None,
        },
        "empty_cells": empty_cells,
        "distinct": {
            "orders": figures.distinct["orders"],
            "customers": figures.distinct["customers"],
            "countries": len(figures.countries),
            "product_lines": figures.distinct["product_lines"],
            "product_codes": figures.distinct["product_codes"],
        },
        "statuses": figures.statuses,
        "country_codes": country_codes,
        "anomalies": anomalies,
    }


def format_report(report: dict[str, Any]) -> str:
    """Human-readable summary for the CLI."""
    lines = [
        f"source:        {report['source']}",
        f"encoding:      {report['encoding']}",
        f"rows read:     {report['rows_read']:,}",
        f"rows loaded:   {report['rows_loaded']:,}",
        f"rows rejected: {report['rows_rejected']:,}",
        f"date range:    {report['date_range']['start']} .. {report['date_range']['end']}",
        "distinct:      " + ", ".join(f"{k} {v:,}" for k, v in report["distinct"].items()),
    ]
    for warning in report["warnings"]:
        lines.append(f"warning:       {warning}")
    for anomaly in report["anomalies"]:
        lines.append(f"note:          {anomaly['message']}")
    return "\n".join(lines)
