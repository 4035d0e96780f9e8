"""Customers: the top N by revenue (slider), and a searchable, sortable customer table."""

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context, drill
from salesdash.dashboard.components.customer_analytics import acquisition_section, cohort_section
from salesdash.dashboard.components.customer_history import (
    CUSTOMER,
    HISTORY_KEY,
    history_section,
    pick_customer,
)
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.rfm import rfm_section
from salesdash.dashboard.components.tables import table

TABLE_LIMIT = 100  # the API's largest page of top customers

ctx = context.current()
page_header(ctx, "Customers", "Who buys the most, how often, when they last ordered, and how many are new.")

acquisition_section(ctx)
cohort_section(ctx)

with st.container(border=True):
    top_n = st.slider(
        "Number of top customers",
        min_value=5,
        max_value=20,
        value=10,
        key="customers_top_n",
        persist_state="session",
    )
    extra = {"limit": top_n}
    with st.spinner("Loading top customers…"):
        top = ctx.fetch("/api/top-customers", extra)
    records = list(top.data or [])
    picked = drill.chart_pick("chart-top-customers", records, "customer_name")
    section(ctx, f"Top {top_n} customers by revenue", "/api/top-customers", extra, pick=picked)

    def _history_from_chart() -> None:  # a click on a bar opens that customer's history below
        names = drill.chart_pick("chart-top-customers", records, "customer_name").get(CUSTOMER)
        if names:
            st.session_state[HISTORY_KEY] = names[0]

    chart(
        charts.ranked_bars(records, "customer_name", height=32 * max(len(records), 1) + 50),
        key="chart-top-customers",
        on_select=_history_from_chart,
        selection_mode="points",
    )

with st.container(border=True):
    extra_all = {"limit": TABLE_LIMIT}
    section(ctx, "All customers", "/api/top-customers", extra_all)
    with st.spinner("Loading customers…"):
        everyone = list(ctx.fetch("/api/top-customers", extra_all).data or [])
    search = st.text_input(
        "Search customers",
        key="customers_search",
        placeholder="Type part of a name or country…",
        icon=":material/search:",
    )
    needle = (search or "").strip().lower()
    shown = [
        r
        for r in everyone
        if not needle
        or needle in str(r.get("customer_name", "")).lower()
        or needle in str(r.get("country", "")).lower()
    ]
    st.caption(
        f"{len(shown):,} of {len(everyone):,} customers · click a column header to sort · select a row to see "
        "the customer's history"
    )
    table(
        shown,
        [
            "customer_name",
            "country",
            "revenue",
            "revenue_share",
            "order_count",
            "units",
            "average_order_value",
            "first_order_date",
            "last_order_date",
        ],
        key="table-customers",
        height=420,
        on_select=lambda: pick_customer(shown, "table-customers"),
    )

history_section(ctx)

rfm_section(ctx)
