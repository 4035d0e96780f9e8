"""Period-over-period trends: each month (or quarter) with its change vs the period before and vs the same
period a year earlier. The periods are :func:`salesdash.metrics.series.sales_over_time`'s: every month or
quarter in view, one without order lines as 0, with its bounds and ``complete``. Changes use
:func:`salesdash.metrics.compare.change`, the one definition of growth.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.compare import add_months, change
from salesdash.metrics.series import sales_over_time

TREND_GRAINS = {"month": 1, "quarter": 3}


def trend(conn: Connection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """:func:`sales_over_time` per month or quarter (every period in view), plus for revenue:

    - ``revenue_change`` / ``revenue_change_pct``: vs the period just before (None when that period is not in
      view; the percentage is None when that period's revenue is 0);
    - ``revenue_yoy_change`` / ``revenue_yoy_change_pct``: vs the same period one year earlier (likewise);
    - ``complete``: whether the dates in view cover the whole period (the last quarter of the sample, Apr-May
      2005, is not complete, so comparing it with a whole quarter is not like-for-like).
    """
    if grain not in TREND_GRAINS:
        raise InvalidParameter(f"trends are by month or quarter, not {grain!r}")
    step = TREND_GRAINS[grain]
    frame = sales_over_time(conn, filters, grain)
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
    return frame
