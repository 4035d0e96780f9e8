"""Overview: KPI cards, sales over time, product-line share, top countries."""

from datetime import date

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.charts.format import plain
from salesdash.dashboard.components import context
from salesdash.dashboard.components.compare import comparison_kpi_cards
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import GRAIN_LABELS, PERIOD_OF_GRAIN

ctx = context.current()
page_header(
    ctx,
    "Sales overview",
    "Headline numbers for the orders in view; Cancelled orders are excluded unless you pick them.",
    path="/api/kpis",
)

with st.spinner("Loading KPIs…"):
    kpi = ctx.fetch("/api/kpis")
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
    st.segmented_control(
        "Time grain",
        grains,
        default="month",
        format_func=lambda g: GRAIN_LABELS[g],
        key="overview_grain",
        label_visibility="collapsed",
        required=True,
    )
    with st.spinner("Loading sales over time…"):
        over_time = ctx.fetch("/api/sales-over-time", period)
    chart(charts.sales_over_time(over_time.data, grain, theme=theme()), key="chart-over-time")
    notes = [str(over_time.meta["partial_note"])] if over_time.meta.get("partial_note") else []
    if "day" not in grains and days:
        notes.append(
            f"Day is offered for date ranges up to {charts.DAY_GRAIN_MAX_DAYS} days; this one has {days:,}. "
            "Pick a shorter date range in the sidebar to see single days."
        )
    for note in notes:
        st.caption(plain(note))

left, right = st.columns(2)
with left, st.container(border=True):
    section(ctx, "Product-line share", "/api/sales-by-category")
    with st.spinner("Loading product lines…"):
        lines = ctx.fetch("/api/sales-by-category")
    chart(charts.share_donut(lines.data, "product_line", theme=theme()), key="chart-product-share")
with right, st.container(border=True):
    section(ctx, "Top countries", "/api/sales-by-country")
    with st.spinner("Loading countries…"):
        countries = ctx.fetch("/api/sales-by-country")
    chart(
        charts.ranked_bars(countries.data, "country", limit=8, height=380, theme=theme()),
        key="chart-top-countries",
    )
