"""The quality report of one ingest: what was read, loaded and rejected, and what is odd about the data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesdash.geo import iso3
from salesdash.ingest.schema import SOURCE_COLUMNS
from salesdash.vocabulary import CANCELLED


@dataclass
class Facts:
    """What the report says about the loaded lines, in a form that adds up over chunks of a file
    (``merge``): the one-shot paths compute it once from the whole frame, the chunked path once per chunk."""

    rows_loaded: int = 0
    capped_rows: int = 0
    capped_amount: float = 0.0
    other_rows: int = 0
    year_months: set[tuple[int, int]] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    countries: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    product_lines: set[str] = field(default_factory=set)
    product_codes: set[str] = field(default_factory=set)
    first_date: Any = None
    last_date: Any = None
    orders: list[np.ndarray] = field(default_factory=list)  # distinct order numbers, per part
    cancelled: list[np.ndarray] = field(default_factory=list)  # distinct cancelled order numbers, per part

    @classmethod
    def of(cls, typed_valid: pd.DataFrame, clean: pd.DataFrame) -> Facts:
        facts = cls(rows_loaded=len(clean))
        if not len(clean):
            return facts
        qty = typed_valid["QUANTITYORDERED"]
        price = typed_valid["PRICEEACH"]
        sales = typed_valid["SALES"]
        mismatch = (sales - qty * price).abs() > 0.005
        capped = mismatch & (price == 100)
        facts.capped_rows = int(capped.sum())
        facts.capped_amount = float((sales - qty * price)[capped].sum())
        facts.other_rows = int((mismatch & (price != 100)).sum())
        pairs = pd.DataFrame(
            {"y": clean["year"].to_numpy(), "m": clean["month"].to_numpy()}
        ).drop_duplicates()
        facts.year_months = {(int(y), int(m)) for y, m in pairs.itertuples(index=False)}
        facts.statuses = Counter({str(k): int(v) for k, v in clean["status"].value_counts().items()})
        for name, target in (
            ("country", facts.countries),
            ("customer_name", facts.customers),
            ("product_line", facts.product_lines),
            ("product_code", facts.product_codes),
        ):
            target.update(str(v) for v in clean[name].dropna().unique())
        facts.first_date = clean["order_date"].min()
        facts.last_date = clean["order_date"].max()
        numbers = clean["order_number"].to_numpy(np.int64)
        facts.orders = [np.unique(numbers)]
        facts.cancelled = [np.unique(numbers[(clean["status"] == CANCELLED).to_numpy()])]
        return facts

    def merge(self, other: Facts) -> None:
        self.rows_loaded += other.rows_loaded
        self.capped_rows += other.capped_rows
        self.capped_amount += other.capped_amount
        self.other_rows += other.other_rows
        self.year_months |= other.year_months
        self.statuses.update(other.statuses)
        self.countries |= other.countries
        self.customers |= other.customers
        self.product_lines |= other.product_lines
        self.product_codes |= other.product_codes
        if other.first_date is not None and (self.first_date is None or other.first_date < self.first_date):
            self.first_date = other.first_date
        if other.last_date is not None and (self.last_date is None or other.last_date > self.last_date):
            self.last_date = other.last_date
        self.orders.extend(other.orders)  # made distinct once, at the end
        self.cancelled.extend(other.cancelled)

    def distinct_orders(self) -> int:
        return len(np.unique(np.concatenate(self.orders))) if self.orders else 0

    def cancelled_orders(self) -> int:
        return len(np.unique(np.concatenate(self.cancelled))) if self.cancelled else 0


def build_report(
    *,
    name: str,
    encoding: str,
    sha256: str,
    size_bytes: int,
    raw: pd.DataFrame | None,
    typed_valid: pd.DataFrame | None,
    clean: pd.DataFrame | None,
    warnings: list[str],
    failures: list[dict[str, Any]],
    rejected_lines: int,
    rows_read: int | None = None,
    empty_cells: dict[str, int] | None = None,
    facts: Facts | None = None,
) -> dict[str, Any]:
    """The report; the columnar path passes ``rows_read`` and ``empty_cells`` instead of the raw frame, the
    chunked path also ``facts`` (merged over its chunks) instead of the frames."""
    if raw is not None:
        rows_read = len(raw)
        empty_cells = {
            col: int((raw[col].str.strip() == "").sum()) if col in raw else rows_read
            for col in SOURCE_COLUMNS
        }
    assert rows_read is not None and empty_cells is not None
    if facts is None:
        assert typed_valid is not None and clean is not None
        facts = Facts.of(typed_valid, clean)
    anomalies: list[dict[str, Any]] = []
    if facts.rows_loaded:
        if facts.capped_rows:
            anomalies.append(
                {
                    "code": "price_each_capped",
                    "rows": facts.capped_rows,
                    "amount": round(facts.capped_amount, 2),
                    "message": (
                        f"PRICEEACH is capped at 100.00: on {facts.capped_rows:,} rows SALES exceeds "
                        "QUANTITYORDERED x PRICEEACH. Revenue uses SALES."
                    ),
                }
            )
        if facts.other_rows:
            anomalies.append(
                {
                    "code": "sales_not_qty_times_price",
                    "rows": facts.other_rows,
                    "message": f"On {facts.other_rows:,} rows SALES differs from QUANTITYORDERED x PRICEEACH.",
                }
            )
        for year in sorted({y for y, _ in facts.year_months}):
            present = sorted(m for y, m in facts.year_months if y == year)
            count = len(present)
            if count < 12:
                anomalies.append(
                    {
                        "code": "partial_year",
                        "year": int(year),
                        "months": present,
                        "message": f"{year} has data for {count} month(s) only ({present[0]}-{present[-1]}); "
                        "compare it like-for-like.",
                    }
                )
        cancelled = facts.cancelled_orders()
        if cancelled:
            anomalies.append(
                {
                    "code": "cancelled_orders",
                    "orders": int(cancelled),
                    "message": f"{cancelled} cancelled order(s) are excluded from revenue by default.",
                }
            )
    countries = sorted(facts.countries)
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
    loaded = facts.rows_loaded
    return {
        "source": name,
        "encoding": encoding,
        "sha256": sha256,
        "size_bytes": size_bytes,
        "rows_read": rows_read,
        "rows_loaded": loaded,
        "rows_rejected": rejected_lines,
        "rejected_reasons": dict(reasons.most_common(20)),
        "warnings": warnings,
        "date_range": {
            "start": facts.first_date.isoformat() if loaded else None,
            "end": facts.last_date.isoformat() if loaded else None,
        },
        "empty_cells": empty_cells,
        "distinct": {
            "orders": facts.distinct_orders(),
            "customers": len(facts.customers),
            "countries": len(countries),
            "product_lines": len(facts.product_lines),
            "product_codes": len(facts.product_codes),
        },
        "statuses": {k: facts.statuses[k] for k in sorted(facts.statuses)},
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
