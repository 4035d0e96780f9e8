"""ONE definition of every metric. The API, the dashboard and the exports all use these.

Each stored metric is an SQL aggregate over order lines (portable SQLAlchemy Core, no engine-specific SQL);
derived metrics are computed from stored ones in Python, once, in :func:`finish`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, func


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str  # "currency" | "count" | "ratio"
    description: str
    sql: Callable[[Table], ColumnElement[Any]] | None = None


def _revenue_cents(t: Table) -> ColumnElement[Any]:
    return func.coalesce(func.sum(t.c.sales_cents), 0)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "revenue",
            "Revenue",
            "currency",
            "Sum of SALES over the order lines in view; Cancelled orders are excluded unless the status "
            "filter names them.",
            _revenue_cents,
        ),
        Metric(
            "order_count",
            "Orders",
            "count",
            "Number of distinct ORDERNUMBERs among the order lines in view.",
            lambda t: func.count(func.distinct(t.c.order_number)),
        ),
        Metric(
            "line_count",
            "Order lines",
            "count",
            "Number of order lines (rows) in view.",
            lambda t: func.count(),
        ),
        Metric(
            "units",
            "Units",
            "count",
            "Sum of QUANTITYORDERED over the order lines in view.",
            lambda t: func.coalesce(func.sum(t.c.quantity_ordered), 0),
        ),
        Metric(
            "customer_count",
            "Customers",
            "count",
            "Number of distinct CUSTOMERNAMEs among the order lines in view.",
            lambda t: func.count(func.distinct(t.c.customer_name)),
        ),
        Metric(
            "country_count",
            "Countries",
            "count",
            "Number of distinct COUNTRY values among the order lines in view.",
            lambda t: func.count(func.distinct(t.c.country)),
        ),
        Metric(
            "product_line_count",
            "Product lines",
            "count",
            "Number of distinct PRODUCTLINE values among the order lines in view.",
            lambda t: func.count(func.distinct(t.c.product_line)),
        ),
        Metric(
            "average_order_value",
            "Average order value",
            "currency",
            "revenue / order_count (null when there are no orders).",
        ),
        Metric(
            "average_unit_price",
            "Average unit price",
            "currency",
            "revenue / units (null when there are no units).",
        ),
        Metric(
            "revenue_share",
            "Share of revenue",
            "ratio",
            "A group's revenue / the revenue of all groups in view (0-1).",
        ),
    )
}

STORED = tuple(name for name, m in METRICS.items() if m.sql is not None)
BREAKDOWN_METRICS = ("revenue", "order_count", "line_count", "units", "customer_count")


def cents_to_money(cents: Any) -> float:
    return round(int(cents) / 100, 2)


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None


def finish(row: Mapping[Any, Any]) -> dict[str, Any]:
    """Turn raw aggregate values (revenue in cents) into the published metrics, adding derived ones."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "revenue":
            out[key] = cents_to_money(value or 0)
        elif key in STORED:
            out[key] = int(value or 0)
        else:
            out[key] = value
    if "revenue" in out and "order_count" in out:
        out["average_order_value"] = _ratio(out["revenue"], out["order_count"])
    if "revenue" in out and "units" in out:
        out["average_unit_price"] = _ratio(out["revenue"], out["units"])
    return out


def definitions(names: tuple[str, ...] | list[str] | None = None) -> dict[str, str]:
    """{metric name: one-line definition}, for `meta.definitions`, exports and docs."""
    chosen = names or list(METRICS)
    return {n: METRICS[n].description for n in chosen if n in METRICS}
