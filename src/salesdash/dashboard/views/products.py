"""Products: revenue, units and orders by product line; the product-code ranking; the list-price gap."""

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.changes import list_price_gap_section
from salesdash.dashboard.components.crossfilter import category_chart, context_section, row_table
from salesdash.dashboard.components.layout import order_count_note, page_header
from salesdash.dashboard.components.live import live_view, rerun_page
from salesdash.dashboard.components.theme import active as theme
from salesdash.vocabulary import label

# the product table shows the API's largest page of the ranking (views.catalog.MAX_PAGE; a test keeps them equal)
RANKING_PAGE = 1000

METRICS = {m: label(m) for m in ("revenue", "units", "order_count")}
METRIC_KEY = "products_metric"  # the "Measure" of the product-line view, which sorts the ranking too
LIMIT = 20  # products in the ranking's chart

ctx = context.current()
page_header(ctx, "Products", "Which product lines and products sell: revenue, units and orders.")


def measure() -> str:
    """The measure picked in the product-line view (the ranking below is sorted by it too)."""
    return str(st.session_state.get(METRIC_KEY) or "revenue")


@live_view("products-lines")
def product_lines() -> None:
    with st.container(border=True):
        lines_query = context_section(ctx, "Product lines", "/api/sales-by-category", "product_line")
        st.segmented_control(
            "Measure",
            list(METRICS),
            default="revenue",
            format_func=METRICS.__getitem__,
            key=METRIC_KEY,
            label_visibility="collapsed",
            required=True,
            persist_state="session",
            on_change=rerun_page,  # it sorts the ranking view too: the whole page runs again
        )
        metric = measure()
        with st.spinner("Loading product lines…"):
            lines = ctx.fetch("/api/sales-by-category", lines_query, filtered=False)
        category_chart(
            ctx,
            charts.ranked_bars(lines.data, "product_line", metric, height=320, theme=theme()),
            lines.data,
            "product_line",
            key="chart-lines",
        )
        row_table(
            ctx,
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
            "product_line",
            key="table-lines",
        )
        order_count_note(lines.meta)


@live_view("products-ranking")
def product_ranking() -> None:
    metric = measure()
    extra: dict[str, str | int] = {"level": "product", "sort": metric, "limit": RANKING_PAGE}
    with st.container(border=True):
        products_query = context_section(
            ctx, "Product ranking", "/api/product-performance", "product_code", extra
        )
        with st.spinner("Loading products…"):
            products = ctx.fetch("/api/product-performance", products_query, filtered=False)
        records = list(products.data or [])
        # the chart above the table: side by side, the table's eight columns did not fit at 1400 px
        st.caption(f"Top {min(LIMIT, len(records))} products by {METRICS[metric].lower()}")
        category_chart(
            ctx,
            charts.ranked_bars(
                records[:LIMIT],
                "product_code",
                metric,
                limit=LIMIT,
                height=28 * min(LIMIT, len(records) or 1) + 60,
                color=charts.OKABE_ITO["green"],
                theme=theme(),
            ),
            records[:LIMIT],
            "product_code",
            key="chart-products",
        )
        total = int((products.meta or {}).get("total") or len(records))
        shown = (
            f"All {total:,} products"
            if total <= len(records)
            else f"The top {len(records):,} of {total:,} products"
        )
        st.caption(f"{shown} (click a header to sort)")
        row_table(
            ctx,
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
            "product_code",
            key="table-products",
            height=34 * min(LIMIT, len(records) or 1) + 60,
        )
        order_count_note(products.meta)


product_lines()
product_ranking()
live_view("products-list-price-gap")(list_price_gap_section)(ctx)
