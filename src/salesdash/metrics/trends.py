"""Period-over-period trends: each month (or quarter) with its change vs the period before and vs the same
period a year earlier. Changes use :func:`salesdash.metrics.compare.change`, the one definition of growth.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.compare import add_months, change, data_coverage, month_end
from salesdash.metrics.queries import over_time

TREND_GRAINS = {"month": 1, "quarter": 3}


def trend(conn: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """:func:`over_time` per month or quarter, plus for revenue:

    - ``revenue_change`` / ``revenue_change_pct``: vs the period just before (None when that period has no
      order lines in view);
    - ``revenue_yoy_change`` / ``revenue_yoy_change_pct``: vs the same period one year earlier (likewise);
    - ``complete``: whether the data set covers the whole period (the last quarter of the sample, Apr-May
      2005, is not complete, so comparing it with a whole quarter is not like-for-like).
    """
    if grain not in TREND_GRAINS:
        raise InvalidParameter(f"trends are by month or quarter, not {grain!r}")
    step = TREND_GRAINS[grain]
    frame = over_time(conn, filters, grain)
    covered = data_coverage(conn)
    revenue: dict[date, Any] = dict(zip(frame["period_start"], frame["revenue"], strict=True))

    def versus(months_back: int) -> list[dict[str, Any]]:
        return [
            change(revenue[start], revenue.get(add_months(start, -months_back)))
            for start in frame["period_start"]
        ]

    previous = versus(step)
    year_ago = versus(12)
    frame["revenue_change"] = [c["change"] for c in previous]
    frame["revenue_change_pct"] = [c["change_pct"] for c in previous]
    frame["revenue_yoy_change"] = [c["change"] for c in year_ago]
    frame["revenue_yoy_change_pct"] = [c["change_pct"] for c in year_ago]
    frame["complete"] = [
        covered is not None
        and start >= covered.start
        and month_end(add_months(start, step - 1)) <= covered.end
        for start in frame["period_start"]
    ]
    return frame
