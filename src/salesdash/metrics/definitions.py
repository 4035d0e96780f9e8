"""ONE definition of every metric. The API, the dashboard and the exports all use these.

Each metric's name, label, unit and definition is a :class:`salesdash.vocabulary.Metric`; each stored metric's
SQL aggregate over order lines (portable SQLAlchemy Core, no engine-specific SQL) is in :data:`SQL`; derived
metrics are computed from stored ones in Python, once, in :func:`finish`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table, func

from salesdash.vocabulary import BREAKDOWN_METRICS, METRICS, Metric


def _revenue_cents(t: Table) -> ColumnElement[Any]:
    return func.coalesce(func.sum(t.c.sales_cents), 0)


# The SQL aggregate of every stored metric (their labels, units and definitions: salesdash.vocabulary.METRICS).
SQL: dict[str, Callable[[Table], ColumnElement[Any]]] = {
    "revenue": _revenue_cents,
    "order_count": lambda t: func.count(func.distinct(t.c.order_number)),
    "line_count": lambda t: func.count(),
    "units": lambda t: func.coalesce(func.sum(t.c.quantity_ordered), 0),
    "customer_count": lambda t: func.count(func.distinct(t.c.customer_name)),
    "country_count": lambda t: func.count(func.distinct(t.c.country)),
    "product_line_count": lambda t: func.count(func.distinct(t.c.product_line)),
}
STORED = tuple(SQL)


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


def finish_columns(names: list[str], rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """``finish`` over every row at once, column by column (the same values: the same functions per column,
    no dict per row), for breakdowns and time series; the caller builds its frame once from the columns
    (setting frame columns one by one costs more than the values)."""
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    out: dict[str, list[Any]] = {}
    for key, column in zip(names, values, strict=True):
        if key == "revenue":
            out[key] = [cents_to_money(v or 0) for v in column]
        elif key in STORED:
            out[key] = [int(v or 0) for v in column]
        else:
            out[key] = list(column)
    if "revenue" in out and "order_count" in out:
        out["average_order_value"] = [
            _ratio(r, o) for r, o in zip(out["revenue"], out["order_count"], strict=True)
        ]
    if "revenue" in out and "units" in out:
        out["average_unit_price"] = [_ratio(r, u) for r, u in zip(out["revenue"], out["units"], strict=True)]
    return out


def definitions(names: tuple[str, ...] | list[str] | None = None) -> dict[str, str]:
    """{metric name: one-line definition}, for `meta.definitions`, exports and docs."""
    chosen = names or list(METRICS)
    return {n: METRICS[n].description for n in chosen if n in METRICS}


__all__ = [
    "BREAKDOWN_METRICS",
    "METRICS",
    "SQL",
    "STORED",
    "Metric",
    "cents_to_money",
    "definitions",
    "finish",
    "finish_columns",
]
