"""An independent RFM in pandas, from the order lines, for the tests to compare the store's answers with."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from salesdash.metrics.rfm import segment


def quintiles(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """ceil(5 x (average rank - 0.5) / n) clipped to 1..5, the best value ranked highest."""
    goodness = values if higher_is_better else -values
    ranks = goodness.rank(method="average")
    return ranks.map(lambda r: min(5, max(1, math.ceil(5 * (r - 0.5) / len(values))))).astype("int64")


def reference_rfm(lines: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per customer (index): recency_days, frequency, monetary_cents, r/f/m scores and segment, from order lines
    with customer_name, order_number, sales_cents and order_date (already filtered as the view is)."""
    grouped = lines.groupby("customer_name", observed=True)
    last = pd.to_datetime(grouped["order_date"].max())
    out = pd.DataFrame(
        {
            "recency_days": (pd.Timestamp(as_of) - last).dt.days,
            "frequency": grouped["order_number"].nunique(),
            "monetary_cents": grouped["sales_cents"].sum(),
        }
    )
    out["r_score"] = quintiles(out["recency_days"], higher_is_better=False)
    out["f_score"] = quintiles(out["frequency"])
    out["m_score"] = quintiles(out["monetary_cents"])
    out["segment"] = [
        segment(r, f, m) for r, f, m in zip(out["r_score"], out["f_score"], out["m_score"], strict=True)
    ]
    return out
