"""Orders: status distribution, deal-size mix and the order lines behind the view."""

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.layout import chart, order_count_note, page_header, section
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import CANCELLED, DEAL_SIZE_ORDER, STATUS_ORDER

MEASURES = {"order_count": "Orders", "revenue": "Revenue"}

ctx = context.current()
page_header(ctx, "Orders", "How orders are progressing and how big the deals are.")

measure = (
    st.segmented_control(
        "Measure",
        list(MEASURES),
        default="order_count",
        format_func=MEASURES.__getitem__,
        key="orders_measure",
        required=True,
        persist_state="session",
    )
    or "order_count"
)

left, right = st.columns(2)
with left, st.container(border=True):
    section(ctx, "Order status", "/api/status-distribution")
    with st.spinner("Loading statuses…"):
        statuses = ctx.fetch("/api/status-distribution")
    chart(
        charts.category_bars(
            statuses.data or [], "status", measure, order=STATUS_ORDER, highlight=CANCELLED, theme=theme()
        ),
        key="chart-status",
    )
    if statuses.meta.get("all_statuses"):
        st.caption(
            "Every status is shown here, Cancelled included (grey); the other pages leave Cancelled out."
        )
    if measure == "order_count":
        order_count_note(statuses.meta)
with right, st.container(border=True):
    section(ctx, "Deal-size mix", "/api/deal-sizes")
    with st.spinner("Loading deal sizes…"):
        deals = ctx.fetch("/api/deal-sizes")
    chart(
        charts.category_bars(deals.data or [], "deal_size", measure, order=DEAL_SIZE_ORDER, theme=theme()),
        key="chart-deals",
    )
    if measure == "order_count":
        order_count_note(deals.meta)

with st.container(border=True):
    order_query: dict[str, str | int] = {"limit": 100, "sort": "order_date", "order": "desc"}
    section(ctx, "Latest order lines", "/api/orders", order_query)
    with st.spinner("Loading order lines…"):
        lines = ctx.fetch("/api/orders", order_query)
    total = lines.meta.get("total")
    shown = len(lines.data or [])
    if total is not None:
        st.caption(
            f"The {shown:,} most recent of {total:,} order lines in view. Use CSV for this page of lines."
        )
    table(
        lines.data or [],
        [
            "order_date",
            "order_number",
            "order_line_number",
            "customer_name",
            "country",
            "product_line",
            "product_code",
            "quantity_ordered",
            "price_each",
            "sales",
            "status",
            "deal_size",
        ],
        key="table-orders",
        height=380,
    )
