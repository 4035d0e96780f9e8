"""Time series as people read them: every period of a grain in the dates in view, with its bounds.

:func:`salesdash.metrics.over_time` returns the periods that have order lines; a chart drawn from it joins the
months either side of an empty month with a straight line. :func:`sales_over_time` returns every period of the
grain from the first to the last date in view (the data set's coverage clipped to the date filter, see
:func:`salesdash.metrics.compare.coverage`), a period without order lines as zero, each with the grain's
first and last day (``period_start``, ``period_end``) and ``complete``: whether the dates in view cover the
whole period (2005 with five months of data is not complete; nor is a week or month cut by a date filter).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.compare import Period, add_months, coverage, month_end
from salesdash.metrics.queries import GRAINS, month_year_matrix, over_time, period_label
from salesdash.vocabulary import BREAKDOWN_METRICS

COLUMNS = ["period", "period_start", "period_end", "complete", *BREAKDOWN_METRICS, "average_order_value"]
MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


def period_containing(grain: str, day: date) -> date:
    """The first day of the ``grain`` period that holds ``day`` (weeks start on Monday, as ISO weeks do)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return date(day.year, day.month, 1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return date(day.year, 1, 1)
    raise InvalidParameter(f"unknown time grain {grain!r}; use one of {', '.join(GRAINS)}")


def period_end(grain: str, start: date) -> date:
    """The last day of the ``grain`` period that starts on ``start``."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    return month_end(add_months(start, MONTHS_PER[grain] - 1))


def periods(grain: str, span: Period) -> list[Period]:
    """Every ``grain`` period that meets ``span``, oldest first, each with the grain's full bounds."""
    out: list[Period] = []
    start = period_containing(grain, span.start)
    while start <= span.end:
        end = period_end(grain, start)
        out.append(Period(start, end))
        start = end + timedelta(days=1)
    return out


def _zero() -> dict[str, Any]:
    return {name: (0.0 if name == "revenue" else 0) for name in BREAKDOWN_METRICS} | {
        "average_order_value": None
    }


def sales_over_time(conn: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """Metrics for every ``grain`` period in view (zero where there are no order lines), oldest first, with
    ``period_start``, ``period_end`` and ``complete`` (see the module docstring). Empty when the filters
    select no dates the data covers."""
    span = coverage(conn, filters)
    found = over_time(conn, filters, grain)
    if span is None:
        return pd.DataFrame([], columns=COLUMNS)
    metrics = [*BREAKDOWN_METRICS, "average_order_value"]
    position = {start: i for i, start in enumerate(found["period_start"])}
    found_values = {m: found[m].tolist() for m in metrics}
    rows = []
    for p in periods(grain, span):
        i = position.get(p.start)
        values = {m: found_values[m][i] for m in metrics} if i is not None else _zero()
        if values["average_order_value"] is not None and pd.isna(values["average_order_value"]):
            values["average_order_value"] = None
        rows.append(
            {
                "period": period_label(grain, p.start),
                "period_start": p.start,
                "period_end": p.end,
                "complete": p.start >= span.start and p.end <= span.end,
            }
            | values
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def partial_note(frame: pd.DataFrame, grain: str, name: Callable[[str], str] = str) -> str | None:
    """A sentence naming the periods the dates in view cover only in part (None when every one is whole);
    ``name`` writes a period label as people read it (the view layer passes the number-format module's)."""
    if frame.empty:
        return None
    cut = [name(str(p)) for p, whole in zip(frame["period"], frame["complete"], strict=True) if not whole]
    if not cut:
        return None
    noun = "period" if len(cut) == 1 else "periods"
    return (
        f"Partial {grain} {noun}: {', '.join(cut)} (the dates in view cover only part of "
        f"{'it' if len(cut) == 1 else 'them'}, so {'it reads' if len(cut) == 1 else 'they read'} low)."
    )


def month_year_grid(conn: Connection, filters: Filters, metric: str = "revenue") -> pd.DataFrame:
    """:func:`salesdash.metrics.month_year_matrix` with every month in view: rows 1-12, one column per year
    of the dates in view; a month in view without order lines is 0, a month outside the dates in view (after
    the data ends, before it starts, outside the date filter) stays NaN: there is nothing to count there."""
    matrix = month_year_matrix(conn, filters, metric)
    span = coverage(conn, filters)
    if span is None:
        return matrix
    for p in periods("month", span):
        if p.start.year not in matrix.columns:
            matrix[p.start.year] = float("nan")
        if pd.isna(matrix.at[p.start.month, p.start.year]):
            matrix.at[p.start.month, p.start.year] = 0.0
    return matrix[sorted(matrix.columns)]
