"""The list-price gap: revenue against the revenue the same units would bring at list price (MSRP).

**Not a profit margin**: the data has no cost. For the order lines in view that carry an MSRP:

- ``list_price_revenue`` = sum of MSRP x QUANTITYORDERED;
- ``revenue`` = sum of SALES (the truthful line revenue; PRICEEACH is capped at 100.00 in the source, so
  QUANTITYORDERED x PRICEEACH would understate every line it caps);
- ``list_price_gap`` = ``revenue - list_price_revenue``: positive when the units sold above list price,
  negative when below; ``list_price_gap_pct`` = the gap / ``list_price_revenue`` (null when that is 0).

Lines without an MSRP are left out of every figure and counted in ``lines_without_msrp`` (and their revenue in
``revenue_without_msrp``), so the two sides always cover the same lines. Sums are exact integer cents.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Connection, cast, func, select

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics.definitions import cents_to_money
from salesdash.store.schema import order_lines

GAP_LEVELS = ("product_line", "product")
GAP_COLUMNS = [
    "line_count",
    "units",
    "list_price_revenue",
    "revenue",
    "list_price_gap",
    "list_price_gap_pct",
]
GAP_RULE = (
    "List-price gap = revenue (SALES) - list-price revenue (MSRP x QUANTITYORDERED), over the order lines that "
    "carry an MSRP; gap % = gap / list-price revenue. Positive: sold above list price; negative: below. Not a "
    "profit margin: the data has no cost. SALES is used, not QUANTITYORDERED x PRICEEACH, because PRICEEACH is "
    "capped at 100.00 in the source."
)


def _gap(list_cents: int, revenue_cents: int) -> dict[str, Any]:
    gap = revenue_cents - list_cents
    return {
        "list_price_revenue": cents_to_money(list_cents),
        "revenue": cents_to_money(revenue_cents),
        "list_price_gap": cents_to_money(gap),
        "list_price_gap_pct": round(gap / list_cents, 6) if list_cents else None,
    }


def list_price_gap(conn: Connection, filters: Filters, level: str = "product_line") -> dict[str, Any]:
    """Per product line (``level=product_line``) or product code (``level=product``, with its product line and
    MSRP): lines, units, list-price revenue, revenue, gap and gap %, largest revenue first; ``total`` over
    every line with an MSRP; ``lines_without_msrp`` and ``revenue_without_msrp`` for the others."""
    if level not in GAP_LEVELS:
        allowed = ", ".join(GAP_LEVELS)
        raise InvalidParameter(
            f"level={level!r} is not allowed; use one of {allowed}.",
            details=[{"parameter": "level", "value": level, "message": f"one of {allowed}"}],
        )
    t = order_lines
    where = filters.where(t)
    list_cents = func.coalesce(func.sum(cast(t.c.msrp, BigInteger) * t.c.quantity_ordered * 100), 0)
    revenue_cents = func.coalesce(func.sum(t.c.sales_cents), 0)
    keys = [t.c.product_line] if level == "product_line" else [t.c.product_code]
    extras = [] if level == "product_line" else [func.max(t.c.product_line), func.max(t.c.msrp)]
    stmt = (
        select(
            *keys,
            *extras,
            func.count(),
            func.coalesce(func.sum(t.c.quantity_ordered), 0),
            list_cents,
            revenue_cents,
        )
        .where(where, t.c.msrp.is_not(None))
        .group_by(*keys)
    )
    key_columns = ["product_line"] if level == "product_line" else ["product_code", "product_line", "msrp"]
    rows = []
    totals = [0, 0, 0, 0]
    for *names, lines, units, listed, revenue in conn.execute(stmt):
        lines, units, listed, revenue = int(lines), int(units), int(listed), int(revenue)
        for i, value in enumerate((lines, units, listed, revenue)):
            totals[i] += value
        row = dict(zip(key_columns, names, strict=True))
        if "msrp" in row and row["msrp"] is not None:
            row["msrp"] = int(row["msrp"])
        rows.append(row | {"line_count": lines, "units": units} | _gap(listed, revenue))
    rows.sort(key=lambda r: (-r["revenue"], str(r[key_columns[0]])))
    missing = conn.execute(select(func.count(), revenue_cents).where(where, t.c.msrp.is_(None))).one()
    return {
        "rows": pd.DataFrame(rows, columns=[*key_columns, *GAP_COLUMNS]),
        "total": {"line_count": totals[0], "units": totals[1]} | _gap(totals[2], totals[3]),
        "lines_without_msrp": int(missing[0]),
        "revenue_without_msrp": cents_to_money(missing[1]),
        "rule": GAP_RULE,
    }
