"""Customer analytics sections: acquisition (with the "New customers" card), retention cohorts (Customers page)
and market penetration (Geography page), from /api/acquisition, /api/cohorts and /api/market-penetration."""

from __future__ import annotations

from typing import Any

import streamlit as st

from salesdash.charts.customers import acquisition_chart, cohort_heatmap, penetration_chart
from salesdash.charts.format import count, signed_percent
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.layout import chart, section
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import GRAIN_LABELS, PERIODS, label

GRAINS = {p: GRAIN_LABELS[PERIODS[p]] for p in ("monthly", "quarterly", "yearly")}
COHORT_GRAINS = {g: GRAIN_LABELS[g] for g in ("month", "quarter")}
MARKETS = {d: label(d) for d in ("country", "territory")}


def _view_section(
    ctx: Context,
    *,
    title: str,
    path: str,
    param: str,
    choices: dict[str, str],
    label: str,
    key: str,
    help: str,
    loading: str,
) -> tuple[str, Any]:
    """A bordered section's parameter control, its title row (API call, CSV, exports) and its API answer."""
    default = next(iter(choices))
    chosen = st.segmented_control(
        label, list(choices), default=default, format_func=choices.__getitem__, key=key
    )
    extra = {param: chosen or default}
    section(ctx, title, path, extra, help=help)
    with st.spinner(loading):
        return extra[param], ctx.fetch(path, extra)


def acquisition_section(ctx: Context) -> None:
    with st.container(border=True):
        _, result = _view_section(
            ctx,
            title="New and returning customers",
            path="/api/acquisition",
            param="period",
            choices=GRAINS,
            label="Customers per",
            key="customers_acquisition_period",
            help="New: the customer's first order under the filters (the date range aside) falls in the period. "
            "Returning: ordered in the period after an earlier first order.",
            loading="Counting new customers…",
        )
        card: dict[str, Any] = dict(result.meta.get("new_customers") or {})
        current, previous = card.get("current_period"), card.get("comparison_period")
        if current and previous:
            delta = signed_percent(card["change_pct"]) if card.get("change_pct") is not None else None
            st.metric(
                f"New customers, {current['label']}",
                count(card["current"]),
                delta=f"{delta} vs {previous['label']}: {count(card['previous'])}"
                if delta
                else f"vs {previous['label']}: {count(card['previous'])}",
                delta_color="normal" if delta else "off",
                help="Customers whose first order falls in the period, compared with the same dates a year earlier.",
            )
        else:
            st.caption(
                "No like-for-like comparison of new customers: the earlier period is not covered by the data."
            )
        records = list(result.data or [])
        chart(acquisition_chart(records, theme=theme()), key="chart-acquisition")


def cohort_section(ctx: Context) -> None:
    with st.container(border=True):
        _, result = _view_section(
            ctx,
            title="Retention cohorts",
            path="/api/cohorts",
            param="grain",
            choices=COHORT_GRAINS,
            label="Cohorts by",
            key="customers_cohort_grain",
            help="Each row: the customers whose first order fell in that period (n = how many). Each cell: the "
            "share of them ordering N periods later. * = the data covers that period only partly.",
            loading="Building cohorts…",
        )
        cells = list(result.data or [])
        cohorts = list(result.meta.get("cohorts") or [])
        small = sum(1 for c in cohorts if c.get("small"))
        if small:
            st.caption(
                f"{small} of {len(cohorts)} cohorts have fewer than {result.meta.get('small_cohort')} customers "
                "(marked small): one customer moves their shares a lot."
            )
        chart(cohort_heatmap(cells, cohorts, theme=theme()), key="chart-cohorts")


def penetration_section(ctx: Context) -> None:
    with st.container(border=True):
        key, result = _view_section(
            ctx,
            title="Market penetration",
            path="/api/market-penetration",
            param="dimension",
            choices=MARKETS,
            label="Market",
            key="geo_penetration_dimension",
            help="Revenue per customer, and how many of the product lines on sale in view each market buys. "
            "Growth compares the KPI cards' periods.",
            loading="Loading markets…",
        )
        records = list(result.data or [])
        periods = result.meta.get("periods")
        lines = result.meta.get("product_lines_in_view")
        st.caption(
            f"Darker bars: markets buying all {lines} product lines in view."
            + (
                f" Growth: {periods['current']['label']} vs {periods['previous']['label']}."
                if periods
                else " No growth figures: the earlier period is not covered by the data."
            )
        )
        chart(penetration_chart(records, key, theme=theme()), key="chart-penetration")
        table(
            records,
            [
                key,  # revenue and its share are in the tables above: here what penetration adds, so it fits
                "customer_count",
                "revenue_per_customer",
                "product_lines_bought",
                "current_revenue",
                "previous_revenue",
                "revenue_change_pct",
            ],
            key="table-penetration",
            height="content",  # every market, no half-drawn box
        )
