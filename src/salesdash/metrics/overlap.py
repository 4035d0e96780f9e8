"""Whether a breakdown's order counts add up to the orders in view.

``order_count`` is the number of distinct orders with lines in a group. An order whose lines fall in several
groups (lines of two product lines, of two deal sizes) counts once in each, so the groups' order counts can add up
to more than the distinct orders in view (on the bundled sample the deal sizes count 690 orders of 303). Line
counts and revenue always add up. :func:`order_count_overlap` says which case a breakdown is in, so that every
surface can say it beside the chart.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection

from salesdash.filters import Filters
from salesdash.metrics.queries import kpis
from salesdash.vocabulary import GROUP_NOUNS


def order_count_overlap(
    conn: Connection, filters: Filters, frame: pd.DataFrame, dimension: str
) -> dict[str, Any]:
    """``order_counts_add_up`` (False when the rows' order counts sum to more than the distinct orders in view),
    ``order_count_total`` (the distinct orders in view), ``order_count_sum`` (the rows' sum; with a row limit,
    of the rows returned) and ``order_count_note`` (the sentence to show beside the chart, None when they add
    up)."""
    total = int(kpis(conn, filters)["order_count"])
    counted = int(frame["order_count"].sum()) if len(frame) else 0
    adds_up = counted <= total
    noun = GROUP_NOUNS.get(dimension, "groups")
    note = (
        None
        if adds_up
        else f"An order with lines in several {noun} counts under each, so these order counts add up to "
        f"{counted:,}; {total:,} distinct orders are in view. Revenue and order lines add up."
    )
    return {
        "order_counts_add_up": adds_up,
        "order_count_total": total,
        "order_count_sum": counted,
        "order_count_note": note,
    }
