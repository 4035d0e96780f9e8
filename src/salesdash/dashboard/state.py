"""The dashboard's global filter state, independent of Streamlit, made from the filter registry.

The sidebar widgets are keyed by the declared filters' API names (:data:`salesdash.filters.FILTERS`) and bound
to the URL query string, so the URL of a view and the API call behind it use the same words. This module turns
those widget values into the one :class:`~salesdash.filters.Filters` value (pure functions, unit-tested): its
query parameters for the API and a short human summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from salesdash.filters import FILTERS, AnyOf, DateBound, Filters


@dataclass(frozen=True)
class FilterState:
    """What the user picked, as :class:`Filters`. A reversed date range is kept out of ``filters`` (the sidebar
    says so instead of letting every chart fail) and flagged in ``dates_reversed``."""

    filters: Filters = field(default_factory=Filters)
    dates_reversed: bool = False

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> FilterState:
        """Build from widget values / session state keyed by filter name (missing or unreadable = no
        restriction)."""
        picked = {f.attr: f.lenient(values.get(f.param)) for f in FILTERS}
        start, end = picked.get("start"), picked.get("end")
        reversed_dates = bool(start and end and start > end)
        if reversed_dates:
            picked.update({f.attr: None for f in FILTERS if isinstance(f, DateBound)})
        return cls(Filters(**picked), reversed_dates)

    def to_query(self) -> dict[str, str | list[str]]:
        """API query parameters (lists are sent as repeated parameters)."""
        return self.filters.to_query()

    def is_default(self) -> bool:
        return not self.to_query()

    def summary(self) -> str:
        """One line saying what is in view, e.g. ``2004-01-01 to 2004-12-31 · France · all except
        Cancelled``."""
        f = self.filters
        if self.dates_reversed:
            dates = "all dates (From is after To)"
        elif f.start or f.end:
            start = next(d for d in FILTERS if d.attr == "start")
            end = next(d for d in FILTERS if d.attr == "end")
            dates = f"{start.describe(f.start)} to {end.describe(f.end)}"
        else:
            dates = "all dates"
        parts = [dates]
        for declared in FILTERS:
            if isinstance(declared, DateBound):
                continue
            value = getattr(f, declared.attr)
            if isinstance(declared, AnyOf):
                parts.append(declared.describe(value, most=3))
            elif value:
                parts.append(declared.describe(value))
        return " · ".join(parts)
