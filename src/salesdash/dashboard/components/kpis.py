"""The KPI cards (revenue, orders, average order value, customers, growth) from ``/api/kpis``.

Every card shows the value of ONE named period beside its change against another named period, both from the
API (never computed here): "Revenue · Jan-May 2005: $1,791,486.71, +41.3% vs Jan-May 2004: $1,267,959.53". The
period is the headline rule of docs/metrics.md (the latest year to date in view) or, when the user picks it, the
selected date range vs the previous period. Everything in view is shown under the cards, named by its period,
without a change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from salesdash.charts.format import DASH, card_money, count, money, plain, signed_percent
from salesdash.vocabulary import METRICS

# /api/kpis answers the figures in view by default; the cards also need the headline period and growth
KPIS_PATH = "/api/kpis"
CARDS_QUERY: dict[str, str] = {"detail": "full"}

CARD_METRICS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("revenue", card_money),
    ("order_count", count),
    ("average_order_value", card_money),
    ("customer_count", count),
)
EXACT: dict[str, Callable[[Any], str]] = {
    "revenue": money,
    "order_count": count,
    "average_order_value": money,
    "customer_count": count,
}


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    delta: str | None  # "+41.3%" (coloured up/down), or None
    description: str | None  # what the delta compares with, e.g. "vs Jan-May 2004: $1,267,959.53"
    help: str
    delta_is_value: bool = False  # the growth card: the value IS the change; the delta line only labels it


def keep_together(text: str) -> str:
    """``text`` with non-breaking hyphens and spaces, so a narrow card wraps around a period name ("Jan-May
    2005"), never inside it."""
    return text.replace("-", "\u2011").replace(" ", "\u00a0")


def readable(text: str) -> str:
    """:func:`keep_together` undone (for comparing a card's text with a period's label)."""
    return text.replace("\u2011", "-").replace("\u00a0", " ")


def _label_of(period: Any) -> str | None:
    return str(period["label"]) if isinstance(period, Mapping) and period.get("label") else None


def _metric(comparison: Mapping[str, Any], metric: str) -> Mapping[str, Any]:
    found = (comparison.get("metrics") or {}).get(metric)
    return found if isinstance(found, Mapping) else {}


def build_cards(
    comparison: Mapping[str, Any] | None,
    month: Mapping[str, Any] | None,
    definitions: Mapping[str, str],
) -> list[Card]:
    """Pure: the cards from one comparison of the API (``headline`` of /api/kpis, or a period comparison of
    /api/comparisons: ``current_period``, ``comparison_period`` (may be None), per metric ``current`` and
    ``previous``) and the month-over-month comparison (``growth.month_over_month``)."""
    cards = []
    comparison = comparison or {}
    current = _label_of(comparison.get("current_period"))
    other = _label_of(comparison.get("comparison_period"))
    for metric, fmt in CARD_METRICS:
        name = METRICS[metric].label
        values = _metric(comparison, metric)
        now, before, pct = values.get("current"), values.get("previous"), values.get("change_pct")
        exact = EXACT[metric]
        explain = definitions.get(metric, "")
        shown = fmt(now)
        if shown != exact(now):
            explain += f" Exactly {exact(now)}."
        delta = description = None
        if other and pct is not None:
            delta = signed_percent(pct)
            description = f"vs {keep_together(other)}: {fmt(before)}"
            explain += f" {current}: {exact(now)}; {other}: {exact(before)}."
        elif other:
            description = f"vs {keep_together(other)}: {fmt(before)}"
            explain += f" No change: {other} has {exact(before)}."
        label = f"{name} · {keep_together(current)}" if current else name
        cards.append(Card(label, shown, delta, description, explain.strip()))
    revenue = _metric(month or {}, "revenue")
    if month and revenue.get("change_pct") is not None:
        now_month = _label_of(month.get("current_period"))
        before_month = _label_of(month.get("comparison_period"))
        explain = (
            f"Revenue of the last complete month vs the month before: {now_month} {money(revenue.get('current'))}"
            f", {before_month} {money(revenue.get('previous'))}."
        )
        cards.append(
            Card(
                f"Revenue growth · {keep_together(str(now_month))}",
                signed_percent(revenue["change_pct"]),
                None,
                f"vs {keep_together(str(before_month))}",
                explain,
                True,
            )
        )
    else:
        cards.append(
            Card("Revenue growth", DASH, None, None, "Needs two complete months of data in view.", True)
        )
    return cards


def in_view_line(kpis: Mapping[str, Any], period: Mapping[str, Any] | None) -> str | None:
    """Pure: everything in view, named by its period and without a change ("All of Jan 2003-May 2005 in view
    (no change): revenue $9,838,141.37 · 303 orders · ..."). None when there is nothing in view."""
    label = _label_of(period)
    if not label:
        return None
    return (
        f"All of {label} in view (no change shown): revenue {money(kpis.get('revenue'))} · "
        f"{count(kpis.get('order_count'))} orders · average order value "
        f"{money(kpis.get('average_order_value'))} · {count(kpis.get('customer_count'))} customers"
    )


def kpi_cards(
    comparison: Mapping[str, Any] | None,
    month: Mapping[str, Any] | None,
    definitions: Mapping[str, str],
) -> None:
    cards = build_cards(comparison, month, definitions)
    columns = st.columns(len(cards), gap="small")
    for column, card in zip(columns, cards, strict=True):
        with column:
            if card.delta_is_value:
                st.metric(
                    card.label,
                    card.value,
                    delta=card.description,
                    delta_color="off",
                    delta_arrow="off",
                    help=plain(card.help),
                    border=True,
                )
            else:
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta or (card.description if card.description else None),
                    delta_description=card.description if card.delta else None,
                    delta_color="normal" if card.delta else "off",
                    delta_arrow="auto" if card.delta else "off",
                    help=plain(card.help),
                    border=True,
                )
