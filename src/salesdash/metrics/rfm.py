"""RFM segmentation of customers: recency, frequency and monetary value, scored 1-5 and named.

Built on the customer breakdown of the metric layer (frequency = ``order_count``, monetary = ``revenue``; no
second definition of either). Recency is the number of days from a customer's last order in view to the last
day the data set covers within the date filters (the "as of" date; see :func:`coverage`), so a customer who
stopped ordering is not made recent by a filter.

Scores are quintiles of the customers in view, robust to ties: a customer's score is
``ceil(5 x (average rank - 0.5) / customers)`` with the best value ranked highest, so equal values always get
equal scores (every customer with one order gets the same frequency score).

Everything is computed by the store in one statement per answer (window functions over the customer
breakdown): the scores, the segments, the page of customers asked for and the segment summary. Nothing per
customer comes to Python but the rows of the page, so the cost does not grow with the customers in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Connection,
    Integer,
    case,
    cast,
    func,
    null,
    select,
    union_all,
)

from salesdash.filters import Filters
from salesdash.metrics.compare import coverage
from salesdash.metrics.definitions import cents_to_money
from salesdash.metrics.queries import breakdown_plan, grouped_statement, statement_cache

Rule = Callable[[Any, Any, Any], Any]

# The segments, evaluated in order: (name, description, rule over the R, F and M scores; None = everyone
# else). FM = (F + M) / 2, so "FM >= 4" is F + M >= 8. A rule is written with operators that mean the same on
# Python integers (``segment``) and on SQL columns (the store's CASE), so it is declared once.
SEGMENT_RULES: tuple[tuple[str, str, Rule | None], ...] = (
    (
        "Champions",
        "Bought recently, often and for a lot: R >= 4 and FM >= 4.",
        lambda r, f, m: (r >= 4) & (f + m >= 8),
    ),
    (
        "Loyal",
        "Buy regularly and for a good amount: R >= 3 and FM >= 3.",
        lambda r, f, m: (r >= 3) & (f + m >= 6),
    ),
    (
        "New",
        "Bought recently but only once or twice: R >= 4 and F <= 2.",
        lambda r, f, m: (r >= 4) & (f <= 2),
    ),
    (
        "At risk",
        "Used to buy often or for a lot, not lately: R <= 2 and FM >= 3.",
        lambda r, f, m: (r <= 2) & (f + m >= 6),
    ),
    (
        "Hibernating",
        "Last bought long ago, rarely and for little: R <= 2 and FM < 3.",
        lambda r, f, m: r <= 2,
    ),
    ("Need attention", "Everyone else: middling recency with modest frequency and spend.", None),
)
SEGMENTS: dict[str, str] = {name: description for name, description, _ in SEGMENT_RULES}

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


def segment(r: int, f: int, m: int) -> str:
    """The segment of one customer's scores: the first rule of ``SEGMENT_RULES`` that holds."""
    for name, _, rule in SEGMENT_RULES:
        if rule is None or rule(r, f, m):
            return name
    raise AssertionError("the last rule holds for everyone")


def _quintile(
    rank: ColumnElement[Any], upto: ColumnElement[Any], n: ColumnElement[Any]
) -> ColumnElement[Any]:
    """The score 1-5 of a value ranked ``rank`` from the worst (RANK: 1 + the customers with a worse value)
    and reached by ``upto`` customers (those with a worse or the same value) among ``n``:
    ceil(5 x (average rank - 0.5) / n) clipped to 1..5. The value is shared by upto - rank + 1 customers, so
    2 x (average rank - 0.5) = rank + upto - 1. In integers (no division, the same on every engine): the score
    is 1 plus the k in 1..4 with 5 x (rank + upto - 1) > 2 x k x n."""
    scaled = 5 * (rank + upto - 1)
    steps = [case((scaled > 2 * k * n, 1), else_=0) for k in range(1, 5)]
    return 1 + steps[0] + steps[1] + steps[2] + steps[3]


# what each score ranks (ascending = from worst to best): the latest last order is the most recent
_SCORED = {"r": "last_order_date", "f": "order_count", "m": "revenue"}


@statement_cache
def _segmented(plan: Any, filters: Filters) -> Any:
    """Every customer in view with its scores and segment number (the index in SEGMENT_RULES), as a subquery."""
    c = grouped_statement(plan, filters, "customer", ("order_count", "revenue")).subquery("customers")
    windows: list[ColumnElement[Any]] = [func.count().over().label("n")]
    for score, column in _SCORED.items():
        # one ordering per score: RANK and the running count (its default frame takes in the ties) share it
        windows.append(func.rank().over(order_by=c.c[column]).label(f"{score}_rank"))
        windows.append(func.count().over(order_by=c.c[column]).label(f"{score}_upto"))
    ranked = select(*c.c, *windows).subquery("ranked")
    scores = [
        _quintile(ranked.c[f"{s}_rank"], ranked.c[f"{s}_upto"], ranked.c.n).label(f"{s}_score")
        for s in _SCORED
    ]
    scored = select(*(ranked.c[col.key] for col in c.c), *scores).subquery("scored")
    r, f, m = scored.c.r_score, scored.c.f_score, scored.c.m_score
    rules = [(rule(r, f, m), i) for i, (_, _, rule) in enumerate(SEGMENT_RULES) if rule is not None]
    number = case(*rules, else_=len(SEGMENT_RULES) - 1).label("segment_number")
    return select(*scored.c, number).subquery("segmented")


def _sort_keys(s: Any, sort: str, descending: bool) -> list[ColumnElement[Any]]:
    if sort == "segment":  # segment order, revenue highest first, then the name; descending: all reversed
        keys = [s.c.segment_number.asc(), s.c.revenue.desc(), s.c.customer_name.asc()]
        if descending:
            keys = [s.c.segment_number.desc(), s.c.revenue.asc(), s.c.customer_name.desc()]
        return keys
    flip = sort == "recency_days"  # more days = an earlier last order
    column = {
        "monetary": s.c.revenue,
        "frequency": s.c.order_count,
        "recency_days": s.c.last_order_date,
        "rfm": s.c.r_score * 100 + s.c.f_score * 10 + s.c.m_score,
    }.get(sort, s.c.get(sort))
    assert column is not None, sort
    key = column.desc() if descending != flip else column.asc()
    return [key, s.c.customer_name.asc()]  # ties by name: pages never overlap or skip a customer


_PAGE_COLUMNS = (
    "customer_name",
    "country",
    "first_order_date",
    "last_order_date",
    "order_count",
    "revenue",
    "r_score",
    "f_score",
    "m_score",
    "segment_number",
)


@statement_cache
def _answer_statement(
    plan: Any,
    filters: Filters,
    segment_number: int | None,
    sort: str,
    descending: bool,
    limit: int | None,
    offset: int,
) -> CompoundSelect:
    """The page and the summary in one statement, over the scored customers as one CTE (scored once where the
    engine materialises it): the page's rows (with a customer name and their ``position`` in the order asked),
    then the summary's, one per segment and last order date (no customer name): customers, orders, revenue."""
    scored = _segmented(plan, filters)
    s = select(*scored.c).cte("scored_customers")
    page = select(*(s.c[name] for name in _PAGE_COLUMNS))
    if segment_number is not None:
        page = page.where(s.c.segment_number == segment_number)
    page = page.order_by(*_sort_keys(s, sort, descending))
    p = (page if limit is None else page.limit(limit).offset(offset)).subquery("page")
    # the page's order numbered over its own rows (a UNION ALL keeps no order)
    position = func.row_number().over(order_by=_sort_keys(p, sort, descending))
    summary = select(
        *(cast(null(), s.c[name].type).label(name) for name in _PAGE_COLUMNS[:3]),
        s.c.last_order_date,
        func.sum(s.c.order_count),
        func.sum(s.c.revenue),
        *(cast(null(), Integer) for _ in range(3)),
        s.c.segment_number,
        func.count().label("customers"),
        cast(null(), BigInteger).label("position"),
    ).group_by(s.c.segment_number, s.c.last_order_date)
    rows = select(*p.c, cast(null(), BigInteger).label("customers"), position.label("position"))
    return union_all(rows, summary)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class RFM:
    """One RFM answer: the page of customers, the segment summary, how many customers the page is taken from
    (all, or those of the segment asked for) and the "as of" date (None when there is no data)."""

    customers: pd.DataFrame
    segments: pd.DataFrame
    total: int
    as_of: date | None


def _page_frame(rows: list[Any], as_of: date) -> pd.DataFrame:
    names = [name for name, _, _ in SEGMENT_RULES]
    out = []
    for row in rows:
        last_day = _as_date(row.last_order_date)
        r, f, m = int(row.r_score), int(row.f_score), int(row.m_score)
        out.append(
            (
                row.customer_name,
                row.country,
                _as_date(row.first_order_date),
                last_day,
                (as_of - last_day).days,
                int(row.order_count or 0),
                cents_to_money(row.revenue or 0),
                r,
                f,
                m,
                f"{r}{f}{m}",
                names[int(row.segment_number)],
            )
        )
    return pd.DataFrame(out, columns=list(COLUMNS))


def _summary_frame(rows: list[Any], as_of: date | None) -> pd.DataFrame:
    """One row per segment (in segment order, empty segments included): customer_count, revenue (exact to
    the cent), revenue_share, average recency, frequency and monetary."""
    sums = [[0, 0, 0, 0] for _ in SEGMENT_RULES]  # customers, orders, cents, recency days
    for number, last, customers, orders, cents in rows:
        got = sums[int(number)]
        got[0] += int(customers)
        got[1] += int(orders or 0)
        got[2] += int(cents or 0)
        if as_of is not None:
            got[3] += int(customers) * (as_of - _as_date(last)).days
    total = sum(s[2] for s in sums)
    out = []
    for (name, description, _), (customers, orders, cents, days) in zip(SEGMENT_RULES, sums, strict=True):
        out.append(
            {
                "segment": name,
                "description": description,
                "customer_count": customers,
                "revenue": cents_to_money(cents),
                "revenue_share": round(cents / total, 6) if total else None,
                "average_recency_days": round(days / customers, 1) if customers else None,
                "average_frequency": round(orders / customers, 2) if customers else None,
                "average_monetary": round(cents / customers / 100, 2) if customers else None,
            }
        )
    return pd.DataFrame(out)


def rfm_answer(
    conn: Connection,
    filters: Filters,
    *,
    segment: str | None = None,
    sort: str = "segment",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> RFM:
    """The customers in view scored and named, one page of them (of one segment when given; every one with
    ``limit=None``) in the order asked, with the segment summary. Ties are broken by customer name."""
    if segment is not None and segment not in SEGMENTS:
        raise ValueError(f"unknown segment {segment!r}; use one of {', '.join(SEGMENTS)}")
    if sort not in SORT_COLUMNS:
        raise ValueError(f"cannot sort customers by {sort!r}; use one of {', '.join(SORT_COLUMNS)}")
    covered = coverage(conn, filters)
    if covered is None:
        return RFM(pd.DataFrame(columns=list(COLUMNS)), _summary_frame([], None), 0, None)
    plan = breakdown_plan(conn, filters, "customer")
    number = None if segment is None else list(SEGMENTS).index(segment)
    statement = _answer_statement(plan, filters, number, sort, descending, limit, offset)
    page_rows, summary_rows = [], []
    for row in conn.execute(statement):
        if row.customer_name is None:  # a summary row
            summary_rows.append(
                (row.segment_number, row.last_order_date, row.customers, row.order_count, row.revenue)
            )
        else:
            page_rows.append(row)
    page_rows.sort(key=lambda row: int(row.position))
    summary = _summary_frame(summary_rows, covered.end)
    counts = summary["customer_count"]
    total = int(counts.sum() if number is None else counts.iloc[number])
    return RFM(_page_frame(page_rows, covered.end), summary, total, covered.end)


def rfm(conn: Connection, filters: Filters) -> tuple[pd.DataFrame, date | None]:
    """RFM of every customer in view (segment order, then monetary value, highest first) and the "as of" date
    recency is counted to (None when there is no data)."""
    answer = rfm_answer(conn, filters)
    return answer.customers, answer.as_of


DEFINITIONS: dict[str, str] = {
    "recency_days": "Days from the customer's last order in view to the last day the data covers in the date range.",
    "frequency": "order_count of the customer: distinct ORDERNUMBERs in view.",
    "monetary": "revenue of the customer: sum of SALES in view (Cancelled excluded unless named).",
    "r_score": "Recency quintile 1-5 (5 = most recent); tied values share a score.",
    "f_score": "Frequency quintile 1-5 (5 = most orders); tied values share a score.",
    "m_score": "Monetary quintile 1-5 (5 = most revenue); tied values share a score.",
    "segment": "Named from the scores: " + " ".join(f"{k}: {v}" for k, v in SEGMENTS.items()),
}
