"""The RFM view of the Customers page: segments (recency, frequency, monetary quintiles) from ``/api/rfm``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from salesdash.charts.analytics import SEGMENT_COLORS, rfm_scatter, rfm_segments_chart
from salesdash.charts.format import money, percent
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.layout import chart, section
from salesdash.dashboard.components.tables import column_config, frame
from salesdash.dashboard.components.theme import active as theme
from salesdash.markup import md

SCATTER_CUSTOMERS = 1000  # the API's largest page: the scatter's customers (the most revenue first)
TABLE_PAGE = 100  # customers per page of a segment's table


def rfm_section(ctx: Context) -> None:
    with st.container(border=True):
        section(
            ctx,
            "Customer segments (RFM)",
            "/api/rfm",
            help="Recency (days since the last order), frequency (orders) and monetary value (revenue), each "
            "scored 1-5 by quintile of the customers in view, then named.",
        )
        with st.spinner("Scoring customers…"):
            result = ctx.fetch("/api/rfm", {"sort": "monetary", "order": "desc", "limit": SCATTER_CUSTOMERS})
        customers: list[dict[str, Any]] = list(result.data or [])
        segments: list[dict[str, Any]] = list(result.meta.get("segments") or [])
        definitions: dict[str, str] = dict(result.meta.get("segment_definitions") or {})
        total = int(result.meta.get("total") or 0)
        if not customers:
            st.info("No customers for these filters.", icon=":material/groups:")
            return
        shown = (
            f" The scatter shows the {len(customers):,} customers with the most revenue, of {total:,}."
            if total > len(customers)
            else ""
        )
        st.caption(f"Recency is counted to {result.meta.get('as_of')}, the last day the data covers.{shown}")
        # one under the other: side by side, the bars' labels ("28 customers") and the legend were cut
        chart(rfm_segments_chart(segments, height=300, theme=theme()), key="chart-rfm-segments")
        chart(rfm_scatter(customers, height=360, theme=theme()), key="chart-rfm-scatter")
        present = [s["segment"] for s in segments if s.get("customer_count")]
        chosen = st.segmented_control(
            "Segment",
            present,
            default=present[0] if present else None,
            key="customers_rfm_segment",
            format_func=lambda name: f"{name} ({_count(segments, name)})",
        )
        if chosen:
            summary = next((s for s in segments if s["segment"] == chosen), {})
            st.markdown(
                f"**{md(chosen)}**: {md(definitions.get(chosen, ''))} "
                f"{summary.get('customer_count', 0)} customers, {money(summary.get('revenue'))} "
                f"({percent(summary.get('revenue_share'))} of revenue)."
            )
            in_segment = _count(segments, chosen)
            pages = max(1, -(-in_segment // TABLE_PAGE))
            page = 1
            if pages > 1:
                page = int(
                    st.number_input(
                        f"Page (of {pages:,}, {TABLE_PAGE} customers each, by revenue)",
                        min_value=1,
                        max_value=pages,
                        value=1,
                        key="customers_rfm_page",
                    )
                )
            listed = ctx.fetch(
                "/api/rfm",
                {
                    "segment": chosen,
                    "sort": "monetary",
                    "order": "desc",
                    "limit": TABLE_PAGE,
                    "offset": (page - 1) * TABLE_PAGE,
                },
            )
            # frequency IS order_count and monetary IS revenue: shown under those names and formats
            rows = [
                c | {"order_count": c.get("frequency"), "revenue": c.get("monetary")}
                for c in list(listed.data or [])
            ]
            columns = [
                "customer_name",
                "country",
                "recency_days",
                "order_count",
                "revenue",
                "rfm",
                "last_order_date",
            ]
            st.dataframe(
                frame(rows, columns),
                hide_index=True,
                width="stretch",
                key="table-rfm",
                height=min(420, 38 + 35 * len(rows)),
                column_config=column_config(columns)
                | {
                    "recency_days": st.column_config.NumberColumn(
                        "Days since last order", format="localized"
                    ),
                    "rfm": st.column_config.TextColumn(
                        "RFM", help="Recency, frequency, monetary scores (1-5)"
                    ),
                },
            )


def _count(segments: list[dict[str, Any]], name: str) -> int:
    return int(next((s.get("customer_count", 0) for s in segments if s["segment"] == name), 0))


__all__ = ["SEGMENT_COLORS", "rfm_section"]
