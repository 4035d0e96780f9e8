"""Customers: the top 10/20/50/100 by revenue, and a searchable, sortable customer table."""

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.crossfilter import category_view, context_section, row_table
from salesdash.dashboard.components.customer_analytics import acquisition_section, cohort_section
from salesdash.dashboard.components.customer_history import history_section
from salesdash.dashboard.components.layout import page_header
from salesdash.dashboard.components.live import live_view
from salesdash.dashboard.components.rfm import rfm_section
from salesdash.dashboard.components.theme import active as theme

TABLE_LIMIT = 100  # the API's largest page of top customers
TOP_CHOICES = (10, 20, 50, 100)  # the top-N chart's choices (the PDF report keeps its top 10)

ctx = context.current()
page_header(ctx, "Customers", "Who buys the most, how often, when they last ordered, and how many are new.")

live_view("customers-acquisition")(acquisition_section)(ctx)
live_view("customers-cohorts")(cohort_section)(ctx)


@live_view("customers-top")
def top_customers() -> None:
    with st.container(border=True):
        top_n = (
            st.segmented_control(
                "Number of top customers",
                TOP_CHOICES,
                default=TOP_CHOICES[0],
                key="customers_top_n",
                required=True,
                persist_state="session",
            )
            or TOP_CHOICES[0]
        )
        category_view(
            ctx,
            f"Top {top_n} customers by revenue",
            "/api/top-customers",
            "customer_name",
            lambda records: charts.ranked_bars(
                records, "customer_name", height=32 * max(len(records), 1) + 50, theme=theme()
            ),
            key="chart-top-customers",
            loading="Loading top customers…",
            extra={"limit": top_n},
        )


@live_view("customers-all")
def all_customers() -> None:
    with st.container(border=True):
        all_query = context_section(
            ctx, "All customers", "/api/top-customers", "customer_name", {"limit": TABLE_LIMIT}
        )
        with st.spinner("Loading customers…"):
            everyone = list(ctx.fetch("/api/top-customers", all_query, filtered=False).data or [])
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
            f"{len(shown):,} of {len(everyone):,} customers · click a column header to sort, select a row to "
            "filter every page to that customer and see their history below"
        )
        row_table(
            ctx,
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
            "customer_name",
            key="table-customers",
            height=420,
        )


top_customers()
all_customers()
live_view("customers-history")(history_section)(ctx)
live_view("customers-rfm")(rfm_section)(ctx)
