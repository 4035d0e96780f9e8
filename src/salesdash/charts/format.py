"""Number formatting used everywhere in the dashboard (cards, tables, chart labels): one style for money."""

from __future__ import annotations

import math
from typing import Any

from salesdash.markup import md

DASH = "–"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: Any, *, decimals: int = 2) -> str:
    """``9838141.37`` -> ``$9,838,141.37``; negative -> ``-$12.50``; missing -> ``–``."""
    if _missing(value):
        return DASH
    number = float(value)
    sign = "-" if number < 0 else ""
    return f"{sign}${abs(number):,.{decimals}f}"


def money_short(value: Any) -> str:
    """Compact money for chart labels: ``$9.84M``, ``$862.3K``, ``$950``."""
    if _missing(value):
        return DASH
    number = float(value)
    sign = "-" if number < 0 else ""
    size = abs(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            scaled = size / limit
            digits = 2 if scaled < 10 else 1
            return f"{sign}${scaled:,.{digits}f}{suffix}"
    return f"{sign}${size:,.0f}"


CARD_WIDTH = 13  # characters a KPI card shows in full at desktop width ("$9,838,141.37")


def card_money(value: Any) -> str:
    """Money for a KPI card: the exact figure when it fits (``$9,838,141.37``), else compact with three
    significant digits or more (``$34.86B``, ``$123.46M``) so the card never cuts the number off."""
    text = money(value)
    if len(text) <= CARD_WIDTH or _missing(value):
        return text
    number = float(value)
    sign = "-" if number < 0 else ""
    size = abs(number)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if round(size / limit, 2) >= 1:  # $999,999,999.99 is $1.00B, not $1,000.00M
            return f"{sign}${size / limit:,.2f}{suffix}"
    return text


def count(value: Any) -> str:
    """``1234`` -> ``1,234``."""
    if _missing(value):
        return DASH
    return f"{round(float(value)):,}"


def percent(ratio: Any, *, decimals: int = 1) -> str:
    """A 0-1 ratio as a percentage: ``0.392`` -> ``39.2%``."""
    if _missing(ratio):
        return DASH
    return f"{float(ratio) * 100:,.{decimals}f}%"


def signed_percent(ratio: Any, *, decimals: int = 1) -> str:
    """A change ratio with its sign: ``0.125`` -> ``+12.5%``, ``-0.03`` -> ``-3.0%``."""
    if _missing(ratio):
        return DASH
    value = float(ratio) * 100
    if round(value, decimals) == 0:
        return f"{0:.{decimals}f}%"
    return f"{value:+,.{decimals}f}%"


def plain(text: Any) -> str:
    """``text`` shown as written in Streamlit's Markdown: the one escaping helper, :func:`salesdash.markup.md`
    (no markup, links, emoji or icon shortcodes, LaTeX or HTML from a value)."""
    return md(text)
