"""Overview: KPI cards, sales over time (or each year over the same months), product-line share, top countries,
top movers."""

from datetime import date

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.charts.format import plain
from salesdash.dashboard.components import context
from salesdash.dashboard.components.changes import top_movers_query, top_movers_section, year_overlay_chart
from salesdash.dashboard.components.compare import KEY as COMPARE_KEY
from salesdash.dashboard.components.compare import comparison_kpi_cards
from salesdash.dashboard.components.crossfilter import (
    category_view,
    context_query,
    period_chart,
)
from salesdash.dashboard.components.figures import figure
from salesdash.dashboard.components.kpis import CARDS_QUERY, KPIS_PATH
from salesdash.dashboard.components.layout import page_header, section
from salesdash.dashboard.components.live import live_view
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import GRAIN_LABELS, PERIOD_OF_GRAIN

ctx = context.current()
# Every API call of this page at once (the sections below then wait only for their own answer): the grain and
# the controls as they stand before this run draws them; the cross-filter charts without their own filter.
# (/api/definitions is not among them: it is cached per API, not per data version: context.server_answer.)
ctx.prefetch(
    [
        (KPIS_PATH, CARDS_QUERY, True),
        *([("/api/comparisons", None, True)] if st.session_state.get(COMPARE_KEY) == "previous" else []),
        *(
            []
            if st.session_state.get("overview_compare_years")
            else [
                (
                    "/api/sales-over-time",
                    {"period": PERIOD_OF_GRAIN[st.session_state.get("overview_grain") or "month"]},
                    True,
                )
            ]
        ),
        ("/api/sales-by-category", context_query(ctx, "product_line"), False),
        ("/api/sales-by-country", context_query(ctx, "country"), False),
        ("/api/top-movers", top_movers_query(), True),
    ]
)
page_header(
    ctx,
    "Sales overview",
    "Headline numbers for the orders in view; Cancelled orders are excluded unless you pick them.",
    path=KPIS_PATH,
    extra=CARDS_QUERY,
)


def headline_days(kpi_data: dict) -> int | None:
    """The days of the KPI cards' period (the time grains offered depend on it)."""
    in_view = (kpi_data.get("headline") or {}).get("in_view_period") or {}
    return (
        (date.fromisoformat(in_view["end"]) - date.fromisoformat(in_view["start"])).days + 1
        if in_view
        else None
    )


def kpis() -> dict:
    with st.spinner("Loading KPIs…"):
        kpi = ctx.fetch(KPIS_PATH, CARDS_QUERY)
    return kpi.data if isinstance(kpi.data, dict) else {}


@live_view("overview-kpis")
def kpi_cards() -> None:
    definitions = context.server_answer("/api/definitions").data or {}
    comparison_kpi_cards(ctx, kpis(), definitions.get("metrics") or {})


@live_view("overview-over-time")
def sales_over_time() -> None:
    kpi_data = kpis()  # the period of the cards decides the grains offered (the same cached answer)
    days = headline_days(kpi_data)
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
                ctx,
                figure(charts.sales_over_time, records, grain, theme=theme()),
                records,
                grain,
                key="chart-over-time",
            )
            notes = ["Drag across the chart to filter every page to those periods."]
            notes += [str(over_time.meta["partial_note"])] if over_time.meta.get("partial_note") else []
            if "day" not in grains and days:
                notes.append(
                    f"Day is offered for date ranges up to {charts.DAY_GRAIN_MAX_DAYS} days; this one has "
                    f"{days:,}. Pick a shorter date range in the sidebar to see single days."
                )
            for note in notes:
                st.caption(plain(note))


@live_view("overview-product-lines")
def product_lines() -> None:
    with st.container(border=True):
        # bars, not a donut: a pie slice sends no selection event in Streamlit, a bar does (and reads exactly)
        category_view(
            ctx,
            "Product-line share",
            "/api/sales-by-category",
            "product_line",
            lambda records: figure(charts.ranked_bars, records, "product_line", height=380, theme=theme()),
            key="chart-product-share",
            loading="Loading product lines…",
        )


@live_view("overview-countries")
def top_countries() -> None:
    with st.container(border=True):
        category_view(
            ctx,
            "Top countries",
            "/api/sales-by-country",
            "country",
            lambda records: figure(
                charts.ranked_bars, records, "country", limit=8, height=380, theme=theme()
            ),
            key="chart-top-countries",
            loading="Loading countries…",
        )


kpi_cards()
sales_over_time()
left, right = st.columns(2)
with left:
    product_lines()
with right:
    top_countries()
live_view("overview-movers")(top_movers_section)(ctx)
