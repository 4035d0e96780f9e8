"""The period-comparison choice of the KPI cards: "vs same period last year" or "vs previous period".

The comparisons come from the API (``/api/comparisons``, like-for-like on the data's calendar); this only picks
which one the cards show and says so on each card ("vs Jan-May 2004"). With no date range (or one longer than a
year) "same period last year" is the headline like-for-like year to date of ``/api/kpis``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.kpis import kpi_cards
from salesdash.markup import md

CHOICES = {"year": "vs same period last year", "previous": "vs previous period"}
KEY = "overview_compare"


def chosen_comparison(
    choice: str, growth: Mapping[str, Any] | None, comparisons: Mapping[str, Any] | None
) -> tuple[Mapping[str, Any] | None, str | None]:
    """Pure: (the comparison the cards show, or None; a note when the choice has no comparable period)."""
    comparisons = comparisons or {}
    notes = comparisons.get("notes") or {}
    if choice == "previous":
        found = comparisons.get("previous_period")
        if found:
            return found, None
        reason = notes.get("previous_period") or "no comparable period"
        return None, f"No previous period to compare with: {reason}. Pick a date range in the sidebar."
    found = comparisons.get("year_earlier") or (growth or {}).get("year_over_year")
    return found, None if found else "No like-for-like period a year earlier in the data."


def comparison_kpi_cards(
    ctx: Context, kpis: Mapping[str, Any], growth: Mapping[str, Any] | None, definitions: Mapping[str, str]
) -> None:
    """The KPI cards with the period they compare with, chosen by the user."""
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
    if choice == "previous" or ctx.filters.to_query().get("start") or ctx.filters.to_query().get("end"):
        result = ctx.fetch("/api/comparisons")
        comparisons = result.data if isinstance(result.data, dict) else {}
    comparison, note = chosen_comparison(str(choice), growth, comparisons)
    shown = dict(growth or {}) | {"year_over_year": comparison}
    kpi_cards(kpis, shown, definitions)
    if note:
        st.caption(md(note))
