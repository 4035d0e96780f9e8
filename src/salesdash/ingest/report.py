"""The quality report of one ingest: what was read, loaded and rejected, and what is odd about the data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
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


@dataclass
class Facts:
    """What the report counts about the loaded lines, in a form that adds up over chunks of a file (``merge``):
    the one-shot paths take it once from the whole frame, the chunked path once per chunk; :meth:`figures`
    reduces it to the report's :class:`Figures`."""

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
        mismatch = (sales - qty * price).abs() > MISMATCH
        capped = mismatch & (price == CAPPED_PRICE)
        facts.capped_rows = int(capped.sum())
        facts.capped_amount = float((sales - qty * price)[capped].sum())
        facts.other_rows = int((mismatch & (price != CAPPED_PRICE)).sum())
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

    def figures(self) -> Figures:
        def distinct(parts: list[np.ndarray]) -> int:
            return len(np.unique(np.concatenate(parts))) if parts else 0

        months: dict[int, list[int]] = {}
        for year, month in sorted(self.year_months):
            months.setdefault(year, []).append(month)
        loaded = self.rows_loaded > 0
        return Figures(
            rows_loaded=self.rows_loaded,
            capped_rows=self.capped_rows,
            capped_amount=self.capped_amount,
            other_mismatch_rows=self.other_rows,
            months_by_year=months,
            cancelled_orders=distinct(self.cancelled),
            countries=sorted(self.countries),
            date_start=self.first_date if loaded else None,
            date_end=self.last_date if loaded else None,
            distinct={
                "orders": distinct(self.orders),
                "customers": len(self.customers),
                "countries": len(self.countries),
                "product_lines": len(self.product_lines),
                "product_codes": len(self.product_codes),
            },
            statuses={k: self.statuses[k] for k in sorted(self.statuses)},
        )


def figures_of(typed_valid: pd.DataFrame, clean: pd.DataFrame) -> Figures:
    """:class:`Figures` of a typed, valid frame and its cleaned lines."""
    return Facts.of(typed_valid, clean).figures()


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
    return assemble_report(
        facts.figures(),
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
