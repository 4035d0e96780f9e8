"""Comparison sections: "Compare years" (each year over the same months, Overview), "Top movers" (Overview) and
the "List-price gap" (Products), from /api/sales-over-time, /api/top-movers and /api/list-price-gap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from salesdash.charts.changes import (
    OVERLAY_GRAINS,
    OVERLAY_NOTE,
    list_price_gap_chart,
    movers_chart,
    overlay_has_partial,
    year_overlay,
)
from salesdash.charts.format import money, plain, signed_percent
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.customer_analytics import _view_section
from salesdash.dashboard.components.figures import figure
from salesdash.dashboard.components.layout import chart
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import PERIOD_OF_GRAIN

MOVER_DIMENSIONS = {"customer": "Customer", "country": "Country", "productline": "Product line"}
MOVER_KEYS = {"customer": "customer_name", "country": "country", "productline": "product_line"}
MOVERS_SHOWN = 10
MOVERS_KEY = "overview_movers_dimension"  # the "Movers by" control
GAP_LEVELS = {"product_line": "Product line", "product": "Product code"}


def _as_text(records: Sequence[Mapping[str, Any]], column: str, empty: str) -> list[dict[str, Any]]:
    """The records with a change ratio as people read it ("+12.5%"; ``empty`` where it is null)."""
    return [{**r, column: empty if r.get(column) is None else signed_percent(r[column])} for r in records]


def year_overlay_chart(ctx: Context, grain: str, headline: Mapping[str, Any] | None) -> None:
    """Revenue of each year over the same months (or quarters), with the same-dates comparison beside it."""
    shown = grain if grain in OVERLAY_GRAINS else "month"
    with st.spinner("Loading sales per year…"):
        result = ctx.fetch("/api/sales-over-time", {"period": PERIOD_OF_GRAIN[shown]})
    records = list(result.data or [])
    chart(figure(year_overlay, records, shown, theme=theme()), key="chart-year-overlay")
    notes = [OVERLAY_NOTE + "."] if overlay_has_partial(records, shown) else []
    if shown != grain:
        notes.append(
            "Compare years draws months: weeks, days and years do not line up from one year to the next."
        )
    head = headline or {}
    revenue = (head.get("metrics") or {}).get("revenue") or {}
    if head.get("comparison_period") and revenue.get("previous") is not None:
        change = revenue.get("change_pct")
        notes.append(
            f"Same dates compared: {head['current_period']['label']} {money(revenue['current'])} vs "
            f"{head['comparison_period']['label']} {money(revenue['previous'])}"
            + (f" ({signed_percent(change)})." if change is not None else ".")
            + " A partial year is compared only with the same months of the year before."
        )
    elif head.get("note"):
        notes.append(str(head["note"]))
    for note in notes:
        st.caption(plain(note))


def top_movers_query() -> dict[str, str]:
    """The Top movers section's parameters, as its "Movers by" control gives them on this run (a prefetch
    asks for them before the control is drawn)."""
    return {"dimension": str(st.session_state.get(MOVERS_KEY) or next(iter(MOVER_DIMENSIONS)))}


def top_movers_section(ctx: Context) -> None:
    with st.container(border=True):
        dimension, result = _view_section(
            ctx,
            title="Top movers",
            path="/api/top-movers",
            param="dimension",
            choices=MOVER_DIMENSIONS,
            label="Movers by",
            key=MOVERS_KEY,
            help="The largest revenue changes between the KPI cards' periods (the latest year to date in view vs "
            "the same dates a year earlier), gains and losses alike. New = no revenue a year earlier.",
            loading="Finding the top movers…",
        )
        meta = result.meta
        current, previous = meta.get("current_period"), meta.get("comparison_period")
        if not (current and previous):
            st.info(plain(str(meta.get("note") or "No comparison period for these filters.")))
            return
        records = list(result.data or [])[:MOVERS_SHOWN]
        st.caption(
            plain(
                f"{current['label']} vs {previous['label']}: the {len(records)} largest changes of "
                f"{meta.get('candidates', len(records))}. Blue grew, vermillion shrank; new = no revenue in "
                f"{previous['label']} (no % change)."
            )
        )
        key = MOVER_KEYS[dimension]
        chart(figure(movers_chart, records, key, theme=theme()), key="chart-top-movers")
        table(
            _as_text(records, "revenue_change_pct", "new"),
            [
                "rank",
                key,
                "current_revenue",
                "previous_revenue",
                "revenue_change",
                "revenue_change_pct",
                "movement",
            ],
            key="table-top-movers",
        )


def list_price_gap_section(ctx: Context) -> None:
    with st.container(border=True):
        level, result = _view_section(
            ctx,
            title="List-price gap",
            path="/api/list-price-gap",
            param="level",
            choices=GAP_LEVELS,
            label="Gap per",
            key="products_gap_level",
            help="Revenue (SALES) against the same units at list price (MSRP x units). Not a profit margin: the "
            "data has no cost.",
            loading="Comparing with list prices…",
        )
        meta = result.meta
        total = meta.get("total") or {}
        records = list(result.data or [])
        if total.get("list_price_gap_pct") is not None:
            gap = float(total["list_price_gap"])
            st.caption(
                plain(
                    f"In view: revenue {money(total['revenue'])} vs {money(total['list_price_revenue'])} at list "
                    f"price, {money(abs(gap))} ({signed_percent(total['list_price_gap_pct'])}) "
                    f"{'above' if gap >= 0 else 'below'} list. Not a profit margin (the data has no cost); revenue "
                    "is SALES because PRICEEACH is capped at 100 in the source."
                )
            )
        if meta.get("lines_without_msrp"):
            st.caption(
                plain(
                    f"{meta['lines_without_msrp']:,} order lines without an MSRP "
                    f"({money(meta.get('revenue_without_msrp'))}) are left out."
                )
            )
        key = "product_code" if level == "product" else "product_line"
        if level == "product":
            st.caption(f"The 20 largest gaps of {len(records):,} products (all of them in the table).")
        chart(list_price_gap_chart(records, key, theme=theme()), key="chart-list-price-gap")
        columns = ["product_code", "product_line", "msrp"] if level == "product" else ["product_line"]
        table(
            _as_text(records, "list_price_gap_pct", "–"),
            [*columns, "units", "list_price_revenue", "revenue", "list_price_gap", "list_price_gap_pct"],
            key="table-list-price-gap",
            height=min(420, 38 + 35 * max(len(records), 1)),
        )
