"""Cleaning without mangling: the typed, valid frame -> the order_lines table's columns.

Names stay as written (no title-casing), text is already trimmed, dates become dates, money becomes
integer cents, and calendar columns are derived from ORDERDATE.
"""

from __future__ import annotations

import pandas as pd

from salesdash.ingest.schema import COLUMN_MAP, SOURCE_COLUMNS
from salesdash.store.schema import ORDER_LINE_COLUMNS

_DROPPED = ("sales", "qtr_id", "month_id", "year_id")


def clean(typed: pd.DataFrame) -> pd.DataFrame:
    """Map a validated, typed frame to the order_lines table (one row per order line)."""
    out = pd.DataFrame(index=typed.index)
    for src in SOURCE_COLUMNS:
        dst = COLUMN_MAP[src]
        if dst in _DROPPED:
            continue
        if src not in typed:
            out[dst] = None
            continue
        col = typed[src]
        if dst in ("order_number", "quantity_ordered", "order_line_number"):
            out[dst] = col.astype("int64")
        elif dst == "msrp":
            out[dst] = col.astype("Int64")
        elif dst == "price_each":
            out[dst] = col.astype("float64")
        elif dst == "order_date":
            out[dst] = col.dt.date
        else:
            out[dst] = col.astype(object).where(col.notna(), None)
    out["sales_cents"] = (typed["SALES"] * 100).round().astype("int64")
    dates = typed["ORDERDATE"]
    iso = dates.dt.isocalendar()
    out["year"] = dates.dt.year.astype("int16")
    out["quarter"] = dates.dt.quarter.astype("int16")
    out["month"] = dates.dt.month.astype("int16")
    out["day"] = dates.dt.day.astype("int16")
    out["iso_year"] = iso["year"].astype("int16")
    out["iso_week"] = iso["week"].astype("int16")
    return out.loc[:, list(ORDER_LINE_COLUMNS)].reset_index(drop=True)
