"""RFM segmentation of customers: recency, frequency and monetary value, scored 1-5 and named.

Built on the customer breakdown of the metric layer (frequency = ``order_count``, monetary = ``revenue``; no
second definition of either). Recency is the number of days from a customer's last order in view to the last
day the data set covers within the date filters (the "as of" date; see :func:`coverage`), so a customer who
stopped ordering is not made recent by a filter.

Scores are quintiles of the customers in view, robust to ties: a customer's score is
``ceil(5 x (average rank - 0.5) / customers)`` with the best value ranked highest, so equal values always get
equal scores (every customer with one order gets the same frequency score).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from salesdash.filters import Filters
from salesdash.metrics.compare import coverage
from salesdash.metrics.queries import breakdown

# Evaluated in order; R = recency score, F = frequency score, FM = (frequency score + monetary score) / 2.
SEGMENTS: dict[str, str] = {
    "Champions": "Bought recently, often and for a lot: R >= 4 and FM >= 4.",
    "Loyal": "Buy regularly and for a good amount: R >= 3 and FM >= 3.",
    "New": "Bought recently but only once or twice: R >= 4 and F <= 2.",
    "At risk": "Used to buy often or for a lot, not lately: R <= 2 and FM >= 3.",
    "Hibernating": "Last bought long ago, rarely and for little: R <= 2 and FM < 3.",
    "Need attention": "Everyone else: middling recency with modest frequency and spend.",
}

COLUMNS = (
    "customer_name",
    "country",
    "first_order_date",
    "last_order_date",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm",
    "segment",
)


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1-5 by quintile of rank (5 = best); tied values get the same score."""
    if values.empty:
        return pd.Series([], dtype="int64", index=values.index)
    goodness = values if higher_is_better else -values
    ranks = goodness.rank(method="average").to_numpy(dtype="float64")
    scores = np.clip(np.ceil(5 * (ranks - 0.5) / len(values)), 1, 5)
    return pd.Series(scores.astype("int64"), index=values.index)


def segment(r: int, f: int, m: int) -> str:
    """The segment of one customer's scores (``segments`` does the same for many at once)."""
    return str(segments(np.array([r]), np.array([f]), np.array([m]))[0])


def segments(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The segment of each customer's (R, F, M) scores: the rules of ``SEGMENTS``, evaluated in order."""
    fm = (f + m) / 2
    rules = [
        (r >= 4) & (fm >= 4),
        (r >= 3) & (fm >= 3),
        (r >= 4) & (f <= 2),
        (r <= 2) & (fm >= 3),
        r <= 2,
    ]
    names = list(SEGMENTS)
    return np.select(rules, names[: len(rules)], default=names[len(rules)])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _dates(values: pd.Series) -> pd.Series:
    """datetime.date per value (the engines give dates, or ISO text: one kind per column, so a column of
    dates is kept as it is, without a Python call per customer)."""
    if values.empty or isinstance(values.iloc[0], date):
        return values
    return values.map(_as_date)


def score_customers(customers: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """RFM per customer from a customer breakdown (customer_name, country, first/last_order_date,
    order_count, revenue), as of ``as_of``. Sorted by segment order, then monetary value (highest first)."""
    if customers.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    last = _dates(customers["last_order_date"])
    out = pd.DataFrame(
        {
            "customer_name": customers["customer_name"],
            "country": customers["country"],
            "first_order_date": _dates(customers["first_order_date"]),
            "last_order_date": last,
            "frequency": customers["order_count"].astype("int64"),
            "monetary": customers["revenue"].astype(float),
        }
    )
    days = (pd.Timestamp(as_of) - pd.to_datetime(last)).dt.days
    out["recency_days"] = days.astype("int64").to_numpy()
    out["r_score"] = quintile_scores(out["recency_days"], higher_is_better=False)
    out["f_score"] = quintile_scores(out["frequency"])
    out["m_score"] = quintile_scores(out["monetary"])
    out["rfm"] = (out["r_score"] * 100 + out["f_score"] * 10 + out["m_score"]).astype(str)
    out["segment"] = segments(out["r_score"].to_numpy(), out["f_score"].to_numpy(), out["m_score"].to_numpy())
    out["_order"] = pd.Categorical(out["segment"], categories=list(SEGMENTS)).codes
    out = out.sort_values(["_order", "monetary", "customer_name"], ascending=[True, False, True])
    return out.drop(columns="_order").loc[:, list(COLUMNS)].reset_index(drop=True)


# the customer list's sort keys: a column, or "segment" (segment order, then revenue, highest first)
SORT_COLUMNS = (
    "segment",
    "monetary",
    "frequency",
    "recency_days",
    "customer_name",
    "country",
    "first_order_date",
    "last_order_date",
    "rfm",
)


def customer_page(
    scored: pd.DataFrame,
    *,
    segment: str | None = None,
    sort: str = "segment",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """One page of the scored customers (of one segment when given) in the requested order, and how many
    there are in all. Ties are broken by customer name, so pages never overlap or skip a customer."""
    if sort not in SORT_COLUMNS:
        raise ValueError(f"cannot sort customers by {sort!r}; use one of {', '.join(SORT_COLUMNS)}")
    rows = scored if segment is None else scored[scored["segment"] == segment]
    if sort == "segment":
        ordered = rows.iloc[::-1] if descending else rows  # score_customers' order
    else:
        ordered = rows.sort_values([sort, "customer_name"], ascending=[not descending, True], kind="stable")
    return ordered.iloc[offset : offset + limit].reset_index(drop=True), len(rows)


def summarise(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per segment (in segment order, empty segments included): customer_count, revenue (the sum of
    its customers' revenue, exact to the cent), revenue_share, average recency, frequency and monetary."""
    rows = []
    cents = (scored["monetary"] * 100).round().astype("int64") if len(scored) else pd.Series(dtype="int64")
    total = int(cents.sum()) if len(scored) else 0
    for name, description in SEGMENTS.items():
        mask = scored["segment"] == name
        group = scored[mask]
        revenue_cents = int(cents[mask].sum()) if len(group) else 0
        rows.append(
            {
                "segment": name,
                "description": description,
                "customer_count": len(group),
                "revenue": round(revenue_cents / 100, 2),
                "revenue_share": round(revenue_cents / total, 6) if total else None,
                "average_recency_days": round(float(group["recency_days"].mean()), 1) if len(group) else None,
                "average_frequency": round(float(group["frequency"].mean()), 2) if len(group) else None,
                "average_monetary": round(float(group["monetary"].mean()), 2) if len(group) else None,
            }
        )
    return pd.DataFrame(rows)


def rfm(conn: Connection, filters: Filters) -> tuple[pd.DataFrame, date | None]:
    """RFM per customer in view and the "as of" date recency is counted to (None when there is no data)."""
    covered = coverage(conn, filters)
    customers = breakdown(conn, filters, "customer")
    if covered is None or customers.empty:
        return pd.DataFrame(columns=list(COLUMNS)), covered.end if covered else None
    return score_customers(customers, covered.end), covered.end


DEFINITIONS: dict[str, str] = {
    "recency_days": "Days from the customer's last order in view to the last day the data covers in the date range.",
    "frequency": "order_count of the customer: distinct ORDERNUMBERs in view.",
    "monetary": "revenue of the customer: sum of SALES in view (Cancelled excluded unless named).",
    "r_score": "Recency quintile 1-5 (5 = most recent); tied values share a score.",
    "f_score": "Frequency quintile 1-5 (5 = most orders); tied values share a score.",
    "m_score": "Monetary quintile 1-5 (5 = most revenue); tied values share a score.",
    "segment": "Named from the scores: " + " ".join(f"{k}: {v}" for k, v in SEGMENTS.items()),
}
