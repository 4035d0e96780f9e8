"""Period comparisons, aligned like-for-like.

Growth is always (current - previous) / previous for two periods of the same shape: the previous period of the
same length, or the same period one year earlier. When the latest year is partial (the sample ends in May 2005),
year over year compares the same months (Jan-May 2005 with Jan-May 2004), never a part-year with a whole year.
Periods are aligned on the calendar span the data set covers, never on the dates a filter happens to select,
and a comparison with a period the data does not cover (or that overlaps the current one) is not made.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from salesdash.filters import Filters
from salesdash.metrics.queries import data_date_range, kpis

COMPARED = ("revenue", "order_count", "average_order_value", "customer_count", "units", "line_count")


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _whole_months(start: date, end: date) -> bool:
    return start.day == 1 and end == month_end(end)


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def label(self) -> str:
        s, e = self.start, self.end
        if _whole_months(s, e):
            if s.month == 1 and e.month == 12 and s.year == e.year:
                return str(s.year)
            if s.year == e.year and s.month == e.month:
                return f"{s:%b} {s.year}"
            if s.year == e.year:
                return f"{s:%b}-{e:%b} {s.year}"
            return f"{s:%b} {s.year}-{e:%b} {e.year}"
        return f"{s.isoformat()}..{e.isoformat()}"

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label()}


def previous_period(p: Period) -> Period:
    """The period of the same length just before ``p`` (whole months shift by months)."""
    if _whole_months(p.start, p.end):
        n = p.months()
        start = add_months(p.start, -n)
        return Period(start, month_end(add_months(start, n - 1)))
    end = p.start - timedelta(days=1)
    return Period(end - timedelta(days=p.days - 1), end)


def year_earlier(p: Period) -> Period:
    """The same period one year earlier (29 February maps to 28 February)."""
    start = add_months(p.start, -12)
    end = month_end(add_months(p.end, -12)) if p.end == month_end(p.end) else add_months(p.end, -12)
    return Period(start, end)


def last_complete_month(last: date) -> Period:
    """The latest month the data covers to its end: the month of ``last`` if ``last`` is its final day,
    else the month before."""
    if last == month_end(last):
        return Period(date(last.year, last.month, 1), last)
    prior = add_months(date(last.year, last.month, 1), -1)
    return Period(prior, month_end(prior))


def year_to_date(last: date, start: date | None = None) -> Period:
    """1 January of ``last``'s year (or ``start`` when later) to ``last``: the like-for-like YoY window."""
    begin = date(last.year, 1, 1)
    if start and start > begin:
        begin = start
    return Period(begin, month_end(last) if last == month_end(last) else last)


def change(current: Any, previous: Any) -> dict[str, Any]:
    if current is None or previous is None:
        return {"current": current, "previous": previous, "change": None, "change_pct": None}
    diff = round(current - previous, 2)
    pct = round((current - previous) / previous, 6) if previous else None
    return {"current": current, "previous": previous, "change": diff, "change_pct": pct}


def data_coverage(conn: Connection) -> Period | None:
    """The calendar span of the whole data set: the first day of its first month to its last order date."""
    first, last = data_date_range(conn)
    if first is None or last is None:
        return None
    return Period(date(first.year, first.month, 1), last)


def coverage(conn: Connection, filters: Filters, data: Period | None = None) -> Period | None:
    """The dates the data set covers inside the filters' date range, or None when they do not meet.

    Coverage is a property of the data set (see :func:`data_coverage`), not of the order lines a filter
    happens to select: a customer who stopped ordering in March still has April and May in view, with no
    revenue. Comparisons and forecasts are aligned on it so that a filter never shortens a period.
    """
    data = data or data_coverage(conn)
    if data is None:
        return None
    start = max(filters.start, data.start) if filters.start else data.start
    end = min(filters.end, data.end) if filters.end else data.end
    return Period(start, end) if start <= end else None


Figures = dict[Filters, dict[str, Any]]


def _kpis(conn: Connection, filters: Filters, memo: Figures | None) -> dict[str, Any]:
    """``kpis``, once per filter set within one answer (``memo``): the comparisons view asks for the same
    periods in several of its parts (a round trip each on a remote engine such as Spark)."""
    if memo is None:
        return kpis(conn, filters)
    if filters not in memo:
        memo[filters] = kpis(conn, filters)
    return memo[filters]


def _compare(
    conn: Connection, filters: Filters, current: Period, other: Period, memo: Figures | None = None
) -> dict[str, Any]:
    cur = _kpis(conn, filters.with_dates(current.start, current.end), memo)
    prev = _kpis(conn, filters.with_dates(other.start, other.end), memo)
    return {
        "current_period": current.to_dict(),
        "comparison_period": other.to_dict(),
        "label": f"{current.label()} vs {other.label()}",
        "metrics": {m: change(cur[m], prev[m]) for m in (*COMPARED, *(k for k in cur if k not in COMPARED))},
    }


def _unavailable(current: Period, other: Period, covered: Period) -> str | None:
    """Why ``current`` cannot be compared with ``other`` like-for-like (None when it can)."""
    if other.end >= current.start:
        return (
            f"{current.label()} is longer than the gap to {other.label()}: "
            "the two periods overlap, so they are not compared"
        )
    if other.start < covered.start:
        return f"the data starts in {covered.start:%b %Y}; {other.label()} is not fully covered"
    return None


def growth(conn: Connection, filters: Filters, memo: Figures | None = None) -> dict[str, Any]:
    """Headline growth: month over month of the last complete month, and year over year like-for-like
    (1 January, or the start filter, to the last date covered, vs the same dates a year earlier).

    Periods are aligned on the data set's coverage (see :func:`coverage`), so a filter that selects lines
    ending earlier compares the same calendar periods as no filter. A comparison whose period lies before
    the data starts (or inside a start filter) is None.
    """
    data = data_coverage(conn)
    covered = coverage(conn, filters, data) if data else None
    if data is None or covered is None:
        return {"month_over_month": None, "year_over_year": None}
    month = last_complete_month(covered.end)
    mom = None
    if month.start >= covered.start and previous_period(month).start >= data.start:
        mom = _compare(conn, filters, month, previous_period(month), memo)
    ytd = year_to_date(covered.end, covered.start)
    yoy = None
    if year_earlier(ytd).start >= data.start:
        yoy = _compare(conn, filters, ytd, year_earlier(ytd), memo)
    return {"month_over_month": mom, "year_over_year": yoy}


HEADLINE_RULE = (
    "The headline period is the latest year to date in view: 1 January of the last year in view (or the start "
    "of the date filter, when later) to the last date in view. It is compared with the same dates one year "
    "earlier when the data covers them; everything in view is shown beside it without a change."
)


def headline_periods(conn: Connection, filters: Filters) -> tuple[Period, Period, Period, str | None] | None:
    """The periods of ``HEADLINE_RULE``: (the headline period, the same dates a year earlier, everything in view,
    why the two are not compared or None). None when the filters select no dates the data covers. The one
    definition the KPI cards, the exports and the customer analytics use."""
    data = data_coverage(conn)
    covered = coverage(conn, filters, data) if data else None
    if data is None or covered is None:
        return None
    current = year_to_date(covered.end, covered.start)
    other = year_earlier(current)
    return current, other, covered, _unavailable(current, other, data)


def headline(conn: Connection, filters: Filters, memo: Figures | None = None) -> dict[str, Any] | None:
    """The headline figures: every KPI for the headline period (see ``HEADLINE_RULE``) beside its value for
    the same dates a year earlier, both periods named and bounded.

    ``comparison_period`` is None (and ``note`` says why) when the data does not cover the year earlier;
    ``metrics`` then still holds the current values. ``in_view_period`` is the whole period the filters select
    (what the un-compared totals cover). None when the filters select no dates the data covers.
    """
    periods = headline_periods(conn, filters)
    if periods is None:
        return None
    current, other, covered, reason = periods
    cur = _kpis(conn, filters.with_dates(current.start, current.end), memo)
    prev = None if reason else _kpis(conn, filters.with_dates(other.start, other.end), memo)
    names = (*COMPARED, *(k for k in cur if k not in COMPARED))
    return {
        "rule": HEADLINE_RULE,
        "current_period": current.to_dict(),
        "comparison_period": None if reason else other.to_dict(),
        "label": current.label() if reason else f"{current.label()} vs {other.label()}",
        "note": f"No change shown: {reason}." if reason else None,
        "in_view_period": covered.to_dict(),
        "metrics": {m: change(cur[m], prev[m] if prev else None) for m in names},
    }


def comparisons(conn: Connection, filters: Filters, memo: Figures | None = None) -> dict[str, Any]:
    """The filtered date range (clipped to the data set's coverage) vs the previous period of the same length
    and vs the same period a year earlier, for every KPI.

    ``previous_period`` / ``year_earlier`` are None when no like-for-like comparison exists (the other period
    lies before the data starts, or overlaps the current one); ``notes`` then says why.
    """
    data = data_coverage(conn)
    covered = coverage(conn, filters, data) if data else None
    if data is None or covered is None:
        empty = "no data in the selected date range"
        return {
            "current_period": None,
            "previous_period": None,
            "year_earlier": None,
            "notes": {"previous_period": empty, "year_earlier": empty},
        }
    out: dict[str, Any] = {"current_period": covered.to_dict(), "notes": {}}
    for key, other in (
        ("previous_period", previous_period(covered)),
        ("year_earlier", year_earlier(covered)),
    ):
        reason = _unavailable(covered, other, data)
        out[key] = None if reason else _compare(conn, filters, covered, other, memo)
        if reason:
            out["notes"][key] = reason
    return out


def comparison_view(conn: Connection, filters: Filters) -> dict[str, Any]:
    """The comparisons view's answer: :func:`comparisons` with its ``headline`` and ``growth``, each period's
    figures computed once (the year to date and the year before are in both the headline and the growth)."""
    memo: Figures = {}
    return comparisons(conn, filters, memo) | {
        "headline": headline(conn, filters, memo),
        "growth": growth(conn, filters, memo),
    }
