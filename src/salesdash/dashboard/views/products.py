"""Products: revenue, units and orders by product line; the product-code ranking."""

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.layout import chart, order_count_note, page_header, section
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme

METRICS = {"revenue": "Revenue", "units": "Units", "order_count": "Orders"}

ctx = context.current()
page_header(ctx, "Products", "Which product lines and products sell: revenue, units and orders.")

with st.container(border=True):
    section(ctx, "Product lines", "/api/sales-by-category")
    metric = (
        st.segmented_control(
            "Measure",
            list(METRICS),
            default="revenue",
            format_func=METRICS.__getitem__,
            key="products_metric",
            label_visibility="collapsed",
            required=True,
            persist_state="session",
        )
        or "revenue"
    )
    with st.spinner("Loading product lines…"):
        lines = ctx.fetch("/api/sales-by-category")
    chart(
        charts.ranked_bars(lines.data, "product_line", metric, height=320, theme=theme()), key="chart-lines"
    )
    table(
        lines.data,
        [
            "product_line",
            "revenue",
            "revenue_share",
            "units",
            "order_count",
            "customer_count",
            "average_unit_price",
            "product_code_count",
        ],
        key="table-lines",
    )
    order_count_note(lines.meta)

limit = 20
extra = {"level": "product", "sort": metric}
with st.container(border=True):
    section(ctx, "Product ranking", "/api/product-performance", extra)
    with st.spinner("Loading products…"):
        products = ctx.fetch("/api/product-performance", extra)
    records = list(products.data or [])
    left, right = st.columns([2, 3])
    with left:
        st.caption(f"Top {min(limit, len(records))} products by {METRICS[metric].lower()}")
        chart(
            charts.ranked_bars(
                records[:limit],
                "product_code",
                metric,
                limit=limit,
                height=34 * min(limit, len(records) or 1) + 60,
                color=charts.OKABE_ITO["green"],
                theme=theme(),
            ),
            key="chart-products",
        )
    with right:
        st.caption(f"All {len(records):,} products (click a header to sort)")
        table(
            records,
            [
                "product_code",
                "product_line",
                "revenue",
                "revenue_share",
                "units",
                "order_count",
                "average_unit_price",
                "msrp",
            ],
            key="table-products",
            height=34 * min(limit, len(records) or 1) + 60,
        )
        order_count_note(products.meta)
