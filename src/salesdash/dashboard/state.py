"""The dashboard's global filter state, independent of Streamlit.

The sidebar widgets are keyed by the API's own parameter names (``start``, ``end``, ``country``,
``productline``, ``status``, ``dealsize``) and bound to the URL query string, so the URL of a view and the API
call behind it use the same words. This module turns those values into API query parameters and a short
human summary, and validates them (pure functions, unit-tested).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# API parameter name -> label in the sidebar. Order = order of the query string.
FILTER_PARAMS: dict[str, str] = {
    "start": "From",
    "end": "To",
    "country": "Countries",
    "productline": "Product lines",
    "status": "Order status",
    "dealsize": "Deal sizes",
}
LIST_PARAMS = ("country", "productline", "status", "dealsize")
CANCELLED = "Cancelled"


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(sorted({str(v) for v in value if str(v)}))


@dataclass(frozen=True)
class FilterState:
    """What the user picked. Empty means "no restriction" (statuses: every status except Cancelled)."""

    start: date | None = None
    end: date | None = None
    country: tuple[str, ...] = field(default=())
    productline: tuple[str, ...] = field(default=())
    status: tuple[str, ...] = field(default=())
    dealsize: tuple[str, ...] = field(default=())

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> FilterState:
        """Build from widget values / session state (missing keys = no restriction)."""
        return cls(
            start=_as_date(values.get("start")),
            end=_as_date(values.get("end")),
            **{name: _as_tuple(values.get(name)) for name in LIST_PARAMS},
        )

    @property
    def dates_reversed(self) -> bool:
        return bool(self.start and self.end and self.start > self.end)

    def to_query(self) -> dict[str, str | list[str]]:
        """API query parameters (lists are sent as repeated parameters). A reversed date range is not sent:
        the sidebar says so instead of letting every chart fail."""
        out: dict[str, str | list[str]] = {}
        if not self.dates_reversed:
            if self.start:
                out["start"] = self.start.isoformat()
            if self.end:
                out["end"] = self.end.isoformat()
        for name in LIST_PARAMS:
            values = getattr(self, name)
            if values:
                out[name] = list(values)
        return out

    def is_default(self) -> bool:
        return not self.to_query()

    def summary(self) -> str:
        """One line saying what is in view, e.g. ``2004-01-01 to 2004-12-31 · France · all statuses but
        Cancelled``."""
        parts: list[str] = []
        if self.start or self.end:
            if self.dates_reversed:
                parts.append("all dates (From is after To)")
            else:
                start = self.start.isoformat() if self.start else "first order"
                end = self.end.isoformat() if self.end else "last order"
                parts.append(f"{start} to {end}")
        else:
            parts.append("all dates")
        parts.append(_list_summary(self.country, "all countries"))
        parts.append(_list_summary(self.productline, "all product lines"))
        parts.append(_list_summary(self.dealsize, "all deal sizes"))
        if self.status:
            parts.append(_list_summary(self.status, ""))
        else:
            parts.append(f"all statuses but {CANCELLED}")
        return " · ".join(parts)


def _list_summary(values: Iterable[str], everything: str, most: int = 3) -> str:
    items = list(values)
    if not items:
        return everything
    if len(items) <= most:
        return ", ".join(items)
    return f"{', '.join(items[:most])} +{len(items) - most} more"
