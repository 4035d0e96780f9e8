"""Customers: the top N by revenue (slider), and a searchable, sortable customer table."""

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.customer_analytics import acquisition_section, cohort_section
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.rfm import rfm_section
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme

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
    section(ctx, f"Top {top_n} customers by revenue", "/api/top-customers", extra)
    with st.spinner("Loading top customers…"):
        top = ctx.fetch("/api/top-customers", extra)
    records = list(top.data or [])
    chart(
        charts.ranked_bars(records, "customer_name", height=32 * max(len(records), 1) + 50, theme=theme()),
        key="chart-top-customers",
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
    st.caption(f"{len(shown):,} of {len(everyone):,} customers · click a column header to sort")
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
    )

rfm_section(ctx)
