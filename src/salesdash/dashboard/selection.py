"""Cross-filtering, pure: what a click on a chart or a table row, or a brush over a time series, means for the
global filters, and the "Filtered by" chips that undo it. No Streamlit here (unit-tested with real Plotly and
Streamlit selection payloads); ``components/crossfilter.py`` draws the charts and applies the changes.

A chart draws API records; its dimension is a column of those records (``country``, ``product_line``,
``deal_size``, ``status``, ``customer_name``: the column the chart function is given). The filter that restricts
that column is found in the filter registry (:attr:`salesdash.filters.Filter.column`), never in a list of names
here, so a filter added to ``FILTERS`` is cross-filterable from every chart of its column. A time series picks
the date range (the ``DateBound`` filters) from the bounds of the selected periods.

A change is ``{filter param: value}`` in the form the dashboard keeps in session state (what the sidebar
widget holds: a list for a filter of several values, one value otherwise).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from salesdash.filters import BY_PARAM, FILTERS, AnyOf, DateBound, Filter, Filters
from salesdash.markup import plotly_text

Change = dict[str, Any]
Records = Sequence[Mapping[str, Any]]

START = next(f for f in FILTERS if isinstance(f, DateBound) and not f.last)
END = next(f for f in FILTERS if isinstance(f, DateBound) and f.last)
# the fields of a Plotly point (as Streamlit reports it) that can name a category: a pie's label, a map's
# location, a bar's x (vertical bars) or y (horizontal bars)
POINT_FIELDS = ("label", "location", "y", "x")


def filter_of(column: str) -> Filter | None:
    """The declared filter that restricts the records' ``column`` (None: the column is not filterable)."""
    return next((f for f in FILTERS if f.column == column and not isinstance(f, DateBound)), None)


def session_value(f: Filter, values: Iterable[Any]) -> Any:
    """What the dashboard keeps for ``f`` when it is set to ``values`` (a list, or the first value)."""
    chosen = list(dict.fromkeys(str(v) for v in values))
    return chosen if f.many else (chosen[0] if chosen else None)


def cleared(f: Filter) -> Any:
    """The session value of ``f`` that restricts nothing."""
    return [] if f.many else None


def category_change(points: Sequence[Mapping[str, Any]], records: Records, column: str) -> Change | None:
    """The filter change of clicked points on a chart of ``records`` by ``column``: the points' categories
    (matched as drawn: Plotly labels are escaped with :func:`~salesdash.markup.plotly_text`; a map names its
    ISO-3 code), or None when nothing matched or the column has no filter."""
    declared = filter_of(column)
    if declared is None:
        return None
    known: dict[str, str] = {}
    for record in records:
        value = record.get(column)
        if value is None:
            continue
        known[plotly_text(value)] = str(value)
        if record.get("iso3"):
            known[str(record["iso3"])] = str(value)
    values = [
        known[str(point[name])]
        for point in points
        for name in POINT_FIELDS
        if point.get(name) is not None and str(point[name]) in known
    ]
    return {declared.param: session_value(declared, values)} if values else None


def highlighted(labels: Sequence[Any], chosen: Iterable[str]) -> list[int] | None:
    """The positions of a trace's drawn ``labels`` that are among the ``chosen`` values (Plotly's
    ``selectedpoints``: the rest is drawn faded); None when nothing is chosen or every label is (a chart of only
    the filtered values needs no highlight)."""
    drawn = {plotly_text(v) for v in chosen}
    found = [i for i, label in enumerate(labels) if str(label) in drawn]
    return found if drawn and len(found) < len(labels) else None


def row_change(rows: Sequence[int], records: Records, column: str) -> Change | None:
    """The filter change of selected table rows (positions in ``records``) on their ``column``."""
    declared = filter_of(column)
    values = [records[i].get(column) for i in rows if 0 <= i < len(records)]
    values = [v for v in values if v is not None]
    if declared is None or not values:
        return None
    return {declared.param: session_value(declared, values)}


def period_end(start: date, grain: str) -> date:
    """The last day of the ``grain`` period (day, week, month, quarter, year) that begins on ``start``."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    last_month = start.month + months - 1
    year, month = start.year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def period_bounds(record: Mapping[str, Any], grain: str) -> tuple[date, date]:
    """First and last day of a period record (``period_start``, and ``period_end`` when the API gives it)."""
    first = date.fromisoformat(str(record["period_start"])[:10])
    last = record.get("period_end")
    return first, date.fromisoformat(str(last)[:10]) if last else period_end(first, grain)


def dates_change(first: date, last: date, within: tuple[date | None, date | None] = (None, None)) -> Change:
    """Set the date range to ``first``..``last``, kept inside the data's dates ``within`` (the sidebar's date
    inputs accept nothing outside them)."""
    low, high = within
    first = max(first, low) if low else first
    last = min(last, high) if high else last
    return {START.param: first, END.param: last}


def period_change(
    points: Sequence[Mapping[str, Any]],
    records: Records,
    grain: str,
    within: tuple[date | None, date | None] = (None, None),
) -> Change | None:
    """The date range of the periods selected (clicked or brushed) on a time series whose traces draw one
    point per record, in order: from the first selected period's first day to the last one's last day."""
    indices = {p.get("point_index") for p in points}
    chosen = [records[i] for i in indices if isinstance(i, int) and 0 <= i < len(records)]
    if not chosen:
        return None
    bounds = [period_bounds(r, grain) for r in chosen]
    return dates_change(min(b[0] for b in bounds), max(b[1] for b in bounds), within)


def quarter_change(
    points: Sequence[Mapping[str, Any]],
    trace_names: Sequence[str],
    within: tuple[date | None, date | None] = (None, None),
) -> Change | None:
    """The date range of a clicked bar of a quarters-by-year chart: one trace per year (named by it), x "Q1"
    to "Q4"."""
    for point in points:
        curve, x = point.get("curve_number"), str(point.get("x", ""))
        if isinstance(curve, int) and 0 <= curve < len(trace_names) and x[:1] == "Q" and x[1:].isdigit():
            first = date(int(trace_names[curve]), 3 * int(x[1:]) - 2, 1)
            return dates_change(first, period_end(first, "quarter"), within)
    return None


CALENDAR_PERIODS = ("Whole year", "Q1", "Q2", "Q3", "Q4", *calendar.month_name[1:])


def calendar_period(year: int, name: str) -> tuple[date, date]:
    """First and last day of ``name`` (one of :data:`CALENDAR_PERIODS`) in ``year``: the heatmap's control."""
    if name in calendar.month_name[1:]:
        first = date(year, list(calendar.month_name).index(name), 1)
        return first, period_end(first, "month")
    if name in ("Q1", "Q2", "Q3", "Q4"):
        first = date(year, 3 * int(name[1]) - 2, 1)
        return first, period_end(first, "quarter")
    return date(year, 1, 1), date(year, 12, 31)


@dataclass(frozen=True)
class Chip:
    """One restricting filter in words ("Countries: France") and the filter params a click clears."""

    text: str
    clears: tuple[str, ...]


def chips(filters: Filters) -> list[Chip]:
    """One chip per restricting filter, in the registry's words; the two date bounds are one chip."""
    out: list[Chip] = []
    if filters.start or filters.end:
        out.append(Chip(f"Order dates: {filters.date_range_text()}", (START.param, END.param)))
    for declared in filters.restricting():
        if isinstance(declared, DateBound):
            continue
        value = getattr(filters, declared.attr)
        words = declared.describe(value, most=3) if isinstance(declared, AnyOf) else declared.describe(value)
        out.append(Chip(f"{declared.label}: {words}", (declared.param,)))
    return out


def without(params: Iterable[str]) -> Change:
    """The change that clears ``params`` (a chip's filters)."""
    return {p: cleared(BY_PARAM[p]) for p in params if p in BY_PARAM}


__all__ = [
    "CALENDAR_PERIODS",
    "END",
    "START",
    "Chip",
    "calendar_period",
    "category_change",
    "chips",
    "cleared",
    "dates_change",
    "filter_of",
    "highlighted",
    "period_bounds",
    "period_change",
    "period_end",
    "quarter_change",
    "row_change",
    "session_value",
    "without",
]
