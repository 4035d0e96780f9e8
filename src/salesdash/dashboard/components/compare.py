"""The period-comparison choice of the KPI cards: "vs same period last year" or "vs previous period".

The comparisons come from the API, like-for-like on the data's calendar; this only picks which one the cards
show. "Same period last year" is the headline of ``/api/kpis`` (the latest year to date in view vs the same dates
a year earlier, docs/metrics.md); "previous period" is the selected date range vs the range of the same length
before it (``/api/comparisons``). Either way each card shows the value of the period it names beside its change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.kpis import in_view_line, kpi_cards
from salesdash.markup import md

CHOICES = {"year": "vs same period last year", "previous": "vs previous period"}
KEY = "overview_compare"


def chosen_comparison(
    choice: str, headline: Mapping[str, Any] | None, comparisons: Mapping[str, Any] | None
) -> tuple[Mapping[str, Any] | None, str | None]:
    """Pure: (the comparison the cards show, or None; a note when it has no comparable period).

    With no previous period the cards show the headline period's values without a change."""
    comparisons = comparisons or {}
    notes = comparisons.get("notes") or {}
    if choice == "previous":
        found = comparisons.get("previous_period")
        if found:
            return found, None
        reason = notes.get("previous_period") or "no comparable period"
        shown = dict(headline or {}) | {"comparison_period": None} if headline else None
        return shown, f"No previous period to compare with: {reason}. Pick a date range in the sidebar."
    note = (headline or {}).get("note")
    return headline, str(note) if note else None


def comparison_kpi_cards(ctx: Context, kpis: Mapping[str, Any], definitions: Mapping[str, str]) -> None:
    """The KPI cards with the period they compare with, chosen by the user, and everything in view below
    (``kpis``: the answer of ``/api/kpis`` with ``kpis.CARDS_QUERY``, which holds the headline and growth)."""
    choice = (
        st.segmented_control(
            "Compare with",
            list(CHOICES),
            default="year",
            format_func=CHOICES.__getitem__,
            key=KEY,
            required=True,
            label_visibility="collapsed",
        )
        or "year"
    )
    comparisons: Mapping[str, Any] = {}
    if choice == "previous":
        result = ctx.fetch("/api/comparisons")
        comparisons = result.data if isinstance(result.data, dict) else {}
    headline = kpis.get("headline") if isinstance(kpis.get("headline"), Mapping) else None
    comparison, note = chosen_comparison(str(choice), headline, comparisons)
    growth = kpis.get("growth")
    month = growth.get("month_over_month") if isinstance(growth, Mapping) else None
    kpi_cards(comparison, month, definitions)
    if note:
        st.caption(md(note))
    line = in_view_line(kpis, (headline or {}).get("in_view_period"))
    if line:
        st.caption(md(line))
