"""One customer's history, opened from a customer row or bar: their orders, revenue in every month (0 for a
month without orders, as the series view gives it) and product mix. Every number is an existing view with the
customer filter added to the filters in view; nothing is computed here."""

from __future__ import annotations

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.charts.format import count, money
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.drill import PARAM_OF_COLUMN, open_orders
from salesdash.dashboard.components.layout import chart, section
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme
from salesdash.markup import md

CUSTOMER = PARAM_OF_COLUMN["customer_name"]  # the filter parameter ("customer")
ORDER_COLUMNS = [
    "order_date",
    "order_number",
    "order_line_number",
    "product_line",
    "product_code",
    "quantity_ordered",
    "price_each",
    "sales",
    "status",
]


def history_section(ctx: Context) -> None:
    """The history of the one customer in view (a row or bar click sets the customer filter; nothing while the
    filters hold no customer, or several)."""
    chosen = list(ctx.filters.filters.customers)
    name = chosen[0] if len(chosen) == 1 else None
    with st.container(border=True):
        if not name:
            st.subheader("Customer history", anchor=False)
            st.caption(
                "Select one customer (a row of the table above, a bar, or the sidebar) to see their orders, months "
                "and product mix."
            )
            return
        own = {CUSTOMER: [str(name)]}
        monthly = {**own, "period": "monthly"}
        section(ctx, "Customer history", "/api/sales-over-time", monthly, pick=own, exports=False)
        with st.spinner("Loading the customer's history…"):
            kpis = ctx.fetch("/api/kpis", own).data or {}
            months = ctx.fetch("/api/sales-over-time", monthly)
            mix = ctx.fetch("/api/sales-by-category", own)
            lines = ctx.fetch("/api/orders", {**own, "sort": "order_date", "order": "desc", "limit": 100})
        dates = kpis.get("date_range") or {}
        st.markdown(
            f"**{md(name)}** · {count(kpis.get('order_count'))} orders · revenue {money(kpis.get('revenue'))} · "
            f"first order {md(dates.get('start') or '–')}, last {md(dates.get('end') or '–')}"
        )
        left, right = st.columns([3, 2])
        with left:
            st.markdown("**Revenue by month**")
            chart(
                charts.sales_over_time(months.data or [], "month", height=300, theme=theme()),
                key="chart-history-months",
            )
            if months.meta.get("partial_note"):
                st.caption(md(months.meta["partial_note"]))
        with right:
            st.markdown("**Product mix**")
            bars = list(mix.data or [])
            chart(
                charts.ranked_bars(bars, "product_line", height=40 * max(len(bars), 1) + 60, theme=theme()),
                key="chart-history-mix",
            )
        total = int(lines.meta.get("total") or 0)
        shown = list(lines.data or [])
        st.markdown(
            f"**Order lines** (the {count(len(shown))} latest of {count(total)}; select one to open its order)"
        )
        event = table(shown, ORDER_COLUMNS, key="table-history-lines", height=300, on_select="rerun")
        rows = [i for i in (event.selection.get("rows", []) if event else []) if i < len(shown)]
        if rows:
            open_orders("Customer history", own, order=int(shown[rows[0]]["order_number"]))
