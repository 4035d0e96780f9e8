"""The quality report of one ingest: what was read, loaded and rejected, and what is odd about the data."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from salesdash.geo import iso3
from salesdash.ingest.schema import SOURCE_COLUMNS
from salesdash.vocabulary import CANCELLED


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
    anomalies: list[dict[str, Any]] = []
    if len(clean):
        qty = typed_valid["QUANTITYORDERED"]
        price = typed_valid["PRICEEACH"]
        sales = typed_valid["SALES"]
        mismatch = (sales - qty * price).abs() > 0.005
        capped = mismatch & (price == 100)
        if int(capped.sum()):
            anomalies.append(
                {
                    "code": "price_each_capped",
                    "rows": int(capped.sum()),
                    "amount": round(float((sales - qty * price)[capped].sum()), 2),
                    "message": (
                        f"PRICEEACH is capped at 100.00: on {int(capped.sum()):,} rows SALES exceeds "
                        "QUANTITYORDERED x PRICEEACH. Revenue uses SALES."
                    ),
                }
            )
        other = mismatch & (price != 100)
        if int(other.sum()):
            anomalies.append(
                {
                    "code": "sales_not_qty_times_price",
                    "rows": int(other.sum()),
                    "message": f"On {int(other.sum()):,} rows SALES differs from QUANTITYORDERED x PRICEEACH.",
                }
            )
        months = clean.groupby("year")["month"].nunique()
        for year, count in months.items():
            if count < 12:
                present = sorted(int(m) for m in clean.loc[clean["year"] == year, "month"].unique())
                anomalies.append(
                    {
                        "code": "partial_year",
                        "year": int(year),
                        "months": present,
                        "message": f"{year} has data for {count} month(s) only ({present[0]}-{present[-1]}); "
                        "compare it like-for-like.",
                    }
                )
        cancelled = clean.loc[clean["status"] == CANCELLED, "order_number"].nunique()
        if cancelled:
            anomalies.append(
                {
                    "code": "cancelled_orders",
                    "orders": int(cancelled),
                    "message": f"{cancelled} cancelled order(s) are excluded from revenue by default.",
                }
            )
    countries = sorted(clean["country"].unique()) if len(clean) else []
    country_codes = {c: iso3(c) for c in countries}
    unmapped = [c for c, code in country_codes.items() if code is None]
    if unmapped:
        anomalies.append(
            {
                "code": "unmapped_countries",
                "countries": unmapped,
                "message": f"No ISO country code for: {', '.join(unmapped)} (not shown on the map).",
            }
        )
    reasons = Counter(f"{f['column']}: {f['problem']}" for f in failures)
    return {
        "source": name,
        "encoding": encoding,
        "sha256": sha256,
        "size_bytes": size_bytes,
        "rows_read": rows_read,
        "rows_loaded": len(clean),
        "rows_rejected": rejected_lines,
        "rejected_reasons": dict(reasons.most_common(20)),
        "warnings": warnings,
        "date_range": {
            "start": clean["order_date"].min().isoformat() if len(clean) else None,
            "end": clean["order_date"].max().isoformat() if len(clean) else None,
        },
        "empty_cells": empty_cells,
        "distinct": {
            "orders": int(clean["order_number"].nunique()),
            "customers": int(clean["customer_name"].nunique()),
            "countries": len(countries),
            "product_lines": int(clean["product_line"].nunique()),
            "product_codes": int(clean["product_code"].nunique()),
        },
        "statuses": {str(k): int(v) for k, v in clean["status"].value_counts().sort_index().items()},
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
