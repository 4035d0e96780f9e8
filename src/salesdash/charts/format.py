"""Every number and period people read, formatted once: KPI cards, chart labels, hover texts, axis ticks,
dashboard tables and the PDF call these functions (or use the Plotly templates and the Streamlit column formats
defined here; the Excel export writes the matching cell formats), so a figure reads the same on every surface.

- money, exact: ``$9,838,141.37`` (:func:`money`); compact: ``$49.2K``, ``$9.84M``, ``$3.20B``
  (:func:`money_short`; three significant digits, upper-case suffix); axis ticks: the compact style without
  trailing zeros (``$100K``, ``$2.5M``: :func:`money_tick`).
- counts: ``1,234`` (:func:`count`); with a noun: ``1 customer``, ``2 customers`` (:func:`plural`).
- shares: one decimal everywhere, ``2.5%``, ``19.0%`` (:func:`percent`).
- periods for people: ``Jul 2005``, ``Q3 2005`` (:func:`period_text`); ISO ``2005-07`` only in machine CSV.
"""

from __future__ import annotations

import math
import re
from datetime import date
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


def money_range(low: Any, high: Any) -> str:
    """A range of money in the compact style: ``$255.4K – $404.3K`` (forecast intervals)."""
    return f"{money_short(low)} – {money_short(high)}"


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


def value_text(value: Any, kind: str) -> str:
    """A table cell for people (PDF tables): money exact, shares with one decimal, counts with separators,
    other numbers with two decimals; missing -> ``–``."""
    if _missing(value):
        return DASH
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind == "ratio":
        return percent(value)
    if kind == "currency":
        return money(value)
    if kind == "count" or isinstance(value, int):
        return count(value) if kind == "count" else str(value)
    return f"{value:,.2f}"


def plural(number: Any, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun: ``1 customer``, ``2 customers``, ``1,204 orders`` (``plural_form`` for irregular
    nouns: ``plural(3, "country", "countries")``)."""
    words = singular if _missing(number) or round(float(number)) == 1 else (plural_form or singular + "s")
    return f"{count(number)} {words}"


def money_tick(value: Any) -> str:
    """An axis tick in the compact money style without trailing zeros: ``$0``, ``$500``, ``$100K``,
    ``$2.5M``, ``$1B`` (the same suffixes as :func:`money_short`, never d3's ``$100k`` or ``$1G``)."""
    if _missing(value):
        return DASH
    number = float(value)
    sign = "-" if number < 0 else ""
    size = abs(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            return f"{sign}${_trim(size / limit)}{suffix}"
    return f"{sign}${_trim(size)}"


def _trim(number: float) -> str:
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def number_tick(value: Any) -> str:
    """An axis tick of counts: ``0``, ``250``, ``1,500`` (whole numbers, thousands separators)."""
    return count(value)


def percent_tick(ratio: Any) -> str:
    """An axis tick of a share: ``0%``, ``25%``, ``12.5%`` (no trailing zeros)."""
    if _missing(ratio):
        return DASH
    return _trim(float(ratio) * 100) + "%"


TICK_TEXT = {"currency": money_tick, "count": number_tick, "ratio": percent_tick}
HEADROOM = 1.08  # a bar axis ends 8% above the largest value (room for a marker or an inside label)


def nice_step(top: float, ticks: int = 5) -> float:
    """The 1-2-2.5-5 x 10^k step that divides ``0..top`` into the number of intervals closest to ``ticks``."""
    if top <= 0 or math.isnan(top):
        return 1.0
    power = 10 ** math.floor(math.log10(top / ticks))
    candidates = [f * p for p in (power, 10 * power) for f in (1, 2, 2.5, 5)]
    return min(candidates, key=lambda step: (abs(top / step - ticks), -step))


def value_axis(
    kind: str, largest: Any, *, headroom: float = HEADROOM, whole: bool = False, ticks: int = 5
) -> dict[str, Any]:
    """A Plotly axis (dict for ``update_xaxes``/``update_yaxes`` or ``layout.yaxisN``) for values of ``kind``
    (``currency``, ``count`` or ``ratio``) from 0 to ``largest`` x ``headroom``: its range, and its ticks as
    tickvals/ticktext written by this module (so an axis says ``$100K`` like the cards, never ``100k``).
    ``whole``: counts, so the step is at least 1 (3 orders give 0, 1, 2, 3, never 0.5)."""
    top = float(largest or 0)
    if math.isnan(top) or top <= 0:
        top = 1.0
    end = top * headroom
    step = nice_step(end, ticks)
    if whole or kind == "count":
        step = max(1.0, math.ceil(step))
    values: list[float] = []
    tick = 0.0
    while tick <= end + step * 1e-9:
        values.append(round(tick, 10))
        tick += step
    text = TICK_TEXT[kind]
    return {
        "range": [0, end],
        "tickmode": "array",
        "tickvals": values,
        "ticktext": [text(v) for v in values],
    }


def span_axis(kind: str, low: float, high: float, *, ticks: int = 5) -> dict[str, Any]:
    """A Plotly axis over ``low..high`` (which may reach below zero: diverging bars) with ticks written by this
    module on the 1-2-2.5-5 steps, zero always among them."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low <= 0:
        high = 1.0
    step = nice_step(high - low, ticks)
    first = math.ceil(low / step - 1e-9)
    values = [round(i * step, 10) for i in range(first, math.floor(high / step + 1e-9) + 1)]
    text = TICK_TEXT[kind]
    return {
        "range": [low, high],
        "tickmode": "array",
        "tickvals": values,
        "ticktext": [text(v) for v in values],
    }


def log_money_axis(low: Any, high: Any) -> dict[str, Any]:
    """A log axis of money with ticks only at 1-2-5 of each decade (``$1K``, ``$2K``, ``$5K``, ``$10K``, ...)
    written in the compact style; only the decades themselves when the data spans more than three."""
    lo = max(float(low or 1), 1.0)
    hi = max(float(high or 1), lo)
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    factors = (1,) if math.log10(hi / lo) > 3 else (1, 2, 5)
    values = [f * 10**k for k in range(first, last + 1) for f in factors if lo / 1.5 <= f * 10**k <= hi * 1.5]
    return {
        "type": "log",
        "tickmode": "array",
        "tickvals": values,
        "ticktext": [money_tick(v) for v in values],
    }


def text_room(lines: int, plot_px: float, *, line_px: float = 18.0) -> float:
    """The headroom factor that leaves ``lines`` lines of text (a label outside a vertical bar) above the
    largest bar in a plot ``plot_px`` pixels tall: ``top * text_room(...)`` is the axis end."""
    label = lines * line_px + 6
    return max(HEADROOM, plot_px / max(plot_px - label, 1.0))


# Plotly templates for hover texts: the same styles as money() and count(), for a trace variable ("y", "x",
# "z", "value", "customdata[0]").
def hover_money(var: str = "y") -> str:
    """``$%{y:,.2f}``: exact money on hover (as :func:`money`)."""
    return "$%{" + var + ":,.2f}"


def hover_count(var: str = "y") -> str:
    """``%{y:,}``: a count with separators on hover (as :func:`count`)."""
    return "%{" + var + ":,}"


def hover_value(kind: str, var: str = "y") -> str:
    """The hover template of a value of ``kind`` (currency or anything counted)."""
    return hover_money(var) if kind == "currency" else hover_count(var)


HOVER_MONTH = "%{x|%b %Y}"  # "Jul 2005", as period_text("month", ...)
# Streamlit column formats of the dashboard's tables, the same styles as money(), count() and percent().
TABLE_FORMATS = {"currency": "dollar", "count": "localized", "plain": "plain", "share": "%.1f%%"}
TABLE_DATE = "MMM D, YYYY"  # "Jul 5, 2005"


def period_text(grain: str, start: Any) -> str:
    """A period as people read it, from its first day: ``Jul 2005`` (month), ``Q3 2005`` (quarter),
    ``2005`` (year), ``Week of Jul 4, 2005`` (week), ``Jul 5, 2005`` (day)."""
    day = start if isinstance(start, date) else date.fromisoformat(str(start)[:10])
    if grain == "month":
        return f"{day:%b %Y}"
    if grain == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    if grain == "year":
        return str(day.year)
    text = f"{day:%b} {day.day}, {day.year}"
    return f"Week of {text}" if grain == "week" else text


def period_name(label: Any) -> str:
    """An API period label as people read it: ``2005-07`` -> ``Jul 2005``, ``2004-Q3`` -> ``Q3 2004``,
    ``2004-W05`` -> ``Week of Jan 26, 2004``, ``2005-05-31`` -> ``May 31, 2005``, ``2004`` -> ``2004``."""
    text = str(label)
    if re.fullmatch(r"\d{4}-Q[1-4]", text):
        return period_text("quarter", f"{text[:4]}-{3 * int(text[-1]) - 2:02d}-01")
    if re.fullmatch(r"\d{4}-W\d{2}", text):
        return period_text("week", date.fromisocalendar(int(text[:4]), int(text[-2:]), 1))
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return period_text("month", text + "-01")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return period_text("day", text)
    return text
