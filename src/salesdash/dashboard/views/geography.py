"""Geography: revenue on a world map and by country; picking a country filters the whole dashboard."""

from typing import Any

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.customer_analytics import penetration_section
from salesdash.dashboard.components.filters import set_filter
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.tables import table
from salesdash.markup import md_list

ctx = context.current()
page_header(
    ctx,
    "Geography",
    "Where revenue comes from. Click a country on the map or in the table to filter every page to it.",
)

with st.spinner("Loading countries…"):
    result = ctx.fetch("/api/sales-by-country")
records: list[dict[str, Any]] = list(result.data or [])
by_iso3 = {r.get("iso3"): r["country"] for r in records if r.get("iso3")}


def _focus(country: str | None) -> None:
    if country:
        set_filter("country", [country])


def _from_map() -> None:
    points = st.session_state["geo-map"].selection.get("points", [])
    if points:
        _focus(by_iso3.get(points[0].get("location")))


def _from_table() -> None:
    rows = st.session_state["geo-table"].selection.get("rows", [])
    if rows and rows[0] < len(records):
        _focus(records[rows[0]]["country"])


def _from_select() -> None:
    _focus(st.session_state.get("geo-focus"))


map_col, side = st.columns([2, 1])
with map_col, st.container(border=True):
    section(ctx, "Revenue by country", "/api/sales-by-country")
    chart(
        charts.choropleth(records, height=400),
        key="geo-map",
        on_select=_from_map,
        selection_mode="points",
    )
    unmapped = [r["country"] for r in records if not r.get("iso3")]
    if unmapped:
        st.caption(f"Not on the map (no ISO code): {md_list(unmapped)}")
with side, st.container(border=True):
    st.subheader("Focus on a country", anchor=False)
    st.selectbox(
        "Country",
        [r["country"] for r in sorted(records, key=lambda r: r["country"])],
        index=None,
        placeholder="Choose a country…",
        key="geo-focus",
        on_change=_from_select,
        help="Sets the Countries filter in the sidebar: every page then shows this country only.",
    )
    selected = ctx.filters.filters.countries
    if selected:
        st.info(f"Every page shows **{md_list(selected)}**. Clear it under Countries in the sidebar.")
    chart(charts.ranked_bars(records, "country", limit=8, height=330), key="geo-top")

with st.container(border=True):
    st.subheader("Countries", anchor=False)
    st.caption("Click a column header to sort; select a row to filter the whole dashboard to that country.")
    table(
        records,
        [
            "country",
            "territory",
            "revenue",
            "revenue_share",
            "order_count",
            "customer_count",
            "units",
            "average_order_value",
        ],
        key="geo-table",
        on_select=_from_table,
    )

penetration_section(ctx)
