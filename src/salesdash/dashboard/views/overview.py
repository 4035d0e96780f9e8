"""Overview: KPI cards, sales over time (or each year over the same months), product-line share, top countries,
top movers."""

from datetime import date

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.charts.format import plain
from salesdash.dashboard.components import context
from salesdash.dashboard.components.changes import top_movers_section, year_overlay_chart
from salesdash.dashboard.components.compare import comparison_kpi_cards
from salesdash.dashboard.components.crossfilter import category_chart, context_section, period_chart
from salesdash.dashboard.components.kpis import CARDS_QUERY, KPIS_PATH
from salesdash.dashboard.components.layout import page_header, section
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import GRAIN_LABELS, PERIOD_OF_GRAIN

ctx = context.current()
page_header(
    ctx,
    "Sales overview",
    "Headline numbers for the orders in view; Cancelled orders are excluded unless you pick them.",
    path=KPIS_PATH,
    extra=CARDS_QUERY,
)

with st.spinner("Loading KPIs…"):
    kpi = ctx.fetch(KPIS_PATH, CARDS_QUERY)
kpi_data = kpi.data if isinstance(kpi.data, dict) else {}
definitions = ctx.fetch("/api/definitions", filtered=False).data or {}
comparison_kpi_cards(ctx, kpi_data, definitions.get("metrics") or {})

in_view = (kpi_data.get("headline") or {}).get("in_view_period") or {}
days = (
    (date.fromisoformat(in_view["end"]) - date.fromisoformat(in_view["start"])).days + 1 if in_view else None
)
grains = charts.grains_for(days)
with st.container(border=True):
    if st.session_state.get("overview_grain") not in grains:
        st.session_state["overview_grain"] = "month"
    grain = st.session_state.get("overview_grain") or "month"
    period = {"period": PERIOD_OF_GRAIN[grain]}
    section(ctx, "Sales over time", "/api/sales-over-time", period)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        st.segmented_control(
            "Time grain",
            grains,
            default="month",
            format_func=lambda g: GRAIN_LABELS[g],
            key="overview_grain",
            label_visibility="collapsed",
            required=True,
        )
        compare_years = st.toggle(
            "Compare years",
            key="overview_compare_years",
            help="Each year as a line over the same January-December axis (by month, or by quarter).",
        )
    if compare_years:
        year_overlay_chart(ctx, grain, kpi_data.get("headline"))
    else:
        with st.spinner("Loading sales over time…"):
            over_time = ctx.fetch("/api/sales-over-time", period)
        records = list(over_time.data or [])
        period_chart(
            ctx, charts.sales_over_time(records, grain, theme=theme()), records, grain, key="chart-over-time"
        )
        notes = ["Drag across the chart to filter every page to those periods."]
        notes += [str(over_time.meta["partial_note"])] if over_time.meta.get("partial_note") else []
        if "day" not in grains and days:
            notes.append(
                f"Day is offered for date ranges up to {charts.DAY_GRAIN_MAX_DAYS} days; this one has {days:,}. "
                "Pick a shorter date range in the sidebar to see single days."
            )
        for note in notes:
            st.caption(plain(note))

left, right = st.columns(2)
with left, st.container(border=True):
    lines_query = context_section(ctx, "Product-line share", "/api/sales-by-category", "product_line")
    with st.spinner("Loading product lines…"):
        lines = ctx.fetch("/api/sales-by-category", lines_query, filtered=False)
    # bars, not a donut: a pie slice sends no selection event in Streamlit, a bar does (and reads exactly)
    category_chart(
        ctx,
        charts.ranked_bars(lines.data, "product_line", height=380, theme=theme()),
        lines.data,
        "product_line",
        key="chart-product-share",
    )
with right, st.container(border=True):
    countries_query = context_section(ctx, "Top countries", "/api/sales-by-country", "country")
    with st.spinner("Loading countries…"):
        countries = ctx.fetch("/api/sales-by-country", countries_query, filtered=False)
    category_chart(
        ctx,
        charts.ranked_bars(countries.data, "country", limit=8, height=380, theme=theme()),
        countries.data,
        "country",
        key="chart-top-countries",
    )

top_movers_section(ctx)
