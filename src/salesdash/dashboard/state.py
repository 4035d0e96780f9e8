"""The dashboard's global filter state, independent of Streamlit, made from the filter registry.

The sidebar widgets are keyed by the declared filters' API names (:data:`salesdash.filters.FILTERS`) and bound
to the URL query string, so the URL of a view and the API call behind it use the same words. This module turns
those widget values into the one :class:`~salesdash.filters.Filters` value (pure functions, unit-tested): its
query parameters for the API and a short human summary.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from salesdash.charts.theme import THEMES
from salesdash.dashboard.client import build_query
from salesdash.filters import BY_PARAM, FILTERS, AnyOf, DateBound, Filters

THEME_PARAM = "theme"  # the sidebar's Light/Dark switch, kept in the URL next to the filters


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

    def encode(self) -> str:
        """The dashboard's query string of these filters (what a saved view stores, what its link carries)."""
        return build_query(self.to_query())

    @staticmethod
    def widget_values(query: str) -> dict[str, Any]:
        """The sidebar widgets' values for a query string (the inverse of :meth:`encode`): every sidebar filter,
        unnamed ones at "no restriction" (dates as dates, lists as lists)."""
        params = parse_qs(query.removeprefix("?"))
        out: dict[str, Any] = {}
        for f in FILTERS:
            if not f.sidebar:
                continue
            value = f.lenient(
                params.get(f.param, [None])[0] if isinstance(f, DateBound) else params.get(f.param)
            )
            out[f.param] = list(value) if isinstance(f, AnyOf) else value
        return out

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


def _close(value: str, choices: list[str]) -> str:
    exact = [c for c in choices if c.casefold() == value.strip().casefold()]
    found = exact or difflib.get_close_matches(value, choices, n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(found)}?" if found else ""


def link_problems(params: Mapping[str, list[str]], options: Mapping[str, Any]) -> list[str]:
    """Pure: what a link's query string asks for that the dashboard cannot show, one sentence per value
    (``country=Atlantis is not among the countries in the data``), so that a mistyped link never silently shows
    the company totals. ``params`` maps each query parameter to its values; ``options`` is ``/api/filters``.
    The sidebar's widgets take exact values, so a value is understood only as the data spells it. A filter
    without a sidebar widget (the customer a table click sets) is checked by the API instead."""
    problems: list[str] = []
    date_range = options.get("date_range") or {}
    first, last = (BY_PARAM["start"].lenient(date_range.get(k)) for k in ("start", "end"))
    for name, values in params.items():
        declared = BY_PARAM.get(name)
        if name.startswith("embed"):  # Streamlit's own display options
            continue
        if name == THEME_PARAM:
            problems.extend(
                f"{name}={value} is not a theme (use {' or '.join(THEMES)})"
                for value in values
                if str(value).casefold() not in THEMES  # the switch writes its label: ?theme=Dark
            )
            continue
        if declared is None:
            names = ", ".join(f.param for f in FILTERS)
            problems.append(f"{name} is not a filter of the dashboard (its filters are {names})")
            continue
        if not declared.sidebar:  # not listed by GET /api/filters (the customers): the API checks the value
            continue
        for raw in values:
            value = str(raw)
            if isinstance(declared, DateBound):
                day = declared.lenient(value) if len(value.strip()) == 10 else None
                if value.strip() and day is None:
                    problems.append(f"{name}={value} is not a date (use YYYY-MM-DD, e.g. 2004-01-31)")
                elif day and ((first and day < first) or (last and day > last)):
                    problems.append(
                        f"{name}={value} is outside the data ({first.isoformat() if first else '?'} to "
                        f"{last.isoformat() if last else '?'})"
                    )
                continue
            choices = [str(c) for c in options.get(declared.options_key or "", [])]
            choices += [declared.name_of(c) for c in choices if declared.name_of(c) != c]  # "North America"
            if value not in choices:
                problems.append(
                    f"{name}={value} is not among the {declared.label.lower()} in the data{_close(value, choices)}"
                )
    return problems
