"""The one filter model, used by the API, the dashboard and the exports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, and_

from salesdash.errors import InvalidParameter

CANCELLED = "Cancelled"
# API parameter name -> Filters attribute
PARAMETERS: dict[str, str] = {
    "start": "start",
    "end": "end",
    "country": "countries",
    "productline": "product_lines",
    "status": "statuses",
    "dealsize": "deal_sizes",
    "customer": "customer",
}


@dataclass(frozen=True)
class Filters:
    """Which order lines a metric looks at. Empty means "no restriction", except ``statuses``:
    empty statuses means every status except Cancelled (revenue excludes cancelled orders by default);
    name statuses explicitly (Cancelled included) to change that."""

    start: date | None = None
    end: date | None = None
    countries: tuple[str, ...] = field(default=())
    product_lines: tuple[str, ...] = field(default=())
    statuses: tuple[str, ...] = field(default=())
    deal_sizes: tuple[str, ...] = field(default=())
    customer: str | None = None

    def __post_init__(self) -> None:
        for name in ("countries", "product_lines", "statuses", "deal_sizes"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))
        if self.start and self.end and self.start > self.end:
            raise InvalidParameter(
                f"start ({self.start.isoformat()}) is after end ({self.end.isoformat()}).",
                details=[{"parameter": "start", "message": "must not be after end"}],
            )

    def with_dates(self, start: date | None, end: date | None) -> Filters:
        return replace(self, start=start, end=end)

    def where(self, table: Table) -> ColumnElement[bool]:
        """The WHERE clause for ``table`` (values are bound parameters, never SQL text)."""
        c = table.c
        clauses: list[ColumnElement[bool]] = []
        if self.start:
            clauses.append(c.order_date >= self.start)
        if self.end:
            clauses.append(c.order_date <= self.end)
        if self.countries:
            clauses.append(c.country.in_(self.countries))
        if self.product_lines:
            clauses.append(c.product_line.in_(self.product_lines))
        if self.statuses:
            clauses.append(c.status.in_(self.statuses))
        else:
            clauses.append(c.status != CANCELLED)
        if self.deal_sizes:
            clauses.append(c.deal_size.in_(self.deal_sizes))
        if self.customer:
            clauses.append(c.customer_name == self.customer)
        return and_(*clauses)

    def to_params(self) -> dict[str, Any]:
        """Normalised filters under their API parameter names (what `meta.filters` shows)."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "country": list(self.countries),
            "productline": list(self.product_lines),
            "status": list(self.statuses) if self.statuses else [f"all except {CANCELLED}"],
            "dealsize": list(self.deal_sizes),
            "customer": self.customer,
        }

    def to_query(self) -> dict[str, str]:
        """The filters as a query string mapping (comma-joined lists), for links and API calls."""
        out: dict[str, str] = {}
        if self.start:
            out["start"] = self.start.isoformat()
        if self.end:
            out["end"] = self.end.isoformat()
        for param, attr in (
            ("country", "countries"),
            ("productline", "product_lines"),
            ("status", "statuses"),
            ("dealsize", "deal_sizes"),
        ):
            values = getattr(self, attr)
            if values:
                out[param] = ",".join(values)
        if self.customer:
            out["customer"] = self.customer
        return out

    def cache_key(self) -> str:
        blob = json.dumps(self.to_params(), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _split(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(out)


def _parse_date(param: str, values: list[str]) -> date | None:
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameter(
            f"{param} may be given once.", details=[{"parameter": param, "message": "given more than once"}]
        )
    text = values[0].strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidParameter(
            f"{param}={text!r} is not a date; use YYYY-MM-DD.",
            details=[{"parameter": param, "message": "not an ISO date (YYYY-MM-DD)", "value": text}],
        ) from None


def parse_filters(params: Mapping[str, list[str]]) -> Filters:
    """Build Filters from query parameters (each a list of values; lists may also be comma-separated).

    Checks form only (dates, one customer); the API also checks values against the data.
    """
    customers = [v.strip() for v in params.get("customer", []) if v.strip()]
    if len(customers) > 1:
        raise InvalidParameter(
            "customer may be given once.",
            details=[{"parameter": "customer", "message": "given more than once"}],
        )
    return Filters(
        start=_parse_date("start", list(params.get("start", []))),
        end=_parse_date("end", list(params.get("end", []))),
        countries=_split(params.get("country", [])),
        product_lines=_split(params.get("productline", [])),
        statuses=_split(params.get("status", [])),
        deal_sizes=_split(params.get("dealsize", [])),
        customer=customers[0] if customers else None,
    )
