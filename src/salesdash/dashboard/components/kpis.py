"""The KPI cards (revenue, orders, average order value, customers, growth) from ``/api/kpis``.

Deltas come from the API's like-for-like comparisons (never computed here): each card says what it
compares with, e.g. "vs Jan-May 2004".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from salesdash.charts.format import DASH, card_money, count, money, signed_percent
from salesdash.vocabulary import METRICS


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    delta: str | None  # "+41.3%" (coloured up/down), or None
    description: str | None  # what the delta compares with, e.g. "vs Jan-May 2004"
    help: str
    delta_is_value: bool = False  # the growth card: the value IS the change; the delta line only labels it


def _comparison(growth: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    if not isinstance(growth, Mapping):
        return None
    found = growth.get(key)
    return found if isinstance(found, Mapping) else None


def _change(comparison: Mapping[str, Any] | None, metric: str) -> str | None:
    if not comparison:
        return None
    pct = ((comparison.get("metrics") or {}).get(metric) or {}).get("change_pct")
    return signed_percent(pct) if pct is not None else None


def _versus(comparison: Mapping[str, Any] | None) -> str | None:
    if not comparison:
        return None
    label = (comparison.get("comparison_period") or {}).get("label")
    return f"vs {label}" if label else None


def build_cards(
    kpis: Mapping[str, Any], growth: Mapping[str, Any] | None, definitions: Mapping[str, str]
) -> list[Card]:
    """Pure: the five cards from the API's KPI record and its growth comparisons."""
    yoy = _comparison(growth, "year_over_year")
    mom = _comparison(growth, "month_over_month")
    yoy_label = str(yoy.get("label")) if yoy else ""
    cards = []
    for metric, fmt in (
        ("revenue", card_money),
        ("order_count", count),
        ("average_order_value", card_money),
        ("customer_count", count),
    ):
        label = METRICS[metric].label
        delta = _change(yoy, metric)
        explain = definitions.get(metric, "")
        shown = fmt(kpis.get(metric))
        if fmt is card_money and shown != money(kpis.get(metric)):
            explain += f" Exactly {money(kpis.get(metric))}."
        if delta:
            explain += f" The change is year over year, like-for-like: {yoy_label}."
        cards.append(Card(label, shown, delta, _versus(yoy) if delta else None, explain.strip()))
    mom_change = _change(mom, "revenue")
    if mom_change is not None and mom:
        explain = f"Revenue of the last complete month vs the month before: {mom.get('label')}."
        cards.append(Card("Revenue growth", mom_change, None, str(mom.get("label")), explain, True))
    else:
        cards.append(
            Card("Revenue growth", DASH, None, None, "Needs two complete months of data in view.", True)
        )
    return cards


def kpi_cards(
    kpis: Mapping[str, Any], growth: Mapping[str, Any] | None, definitions: Mapping[str, str]
) -> None:
    cards = build_cards(kpis, growth, definitions)
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
                    help=card.help,
                    border=True,
                )
            else:
                st.metric(
                    card.label,
                    card.value,
                    delta=card.delta,
                    delta_description=card.description,
                    help=card.help,
                    border=True,
                )
