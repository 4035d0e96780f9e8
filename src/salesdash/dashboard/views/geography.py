"""Geography: revenue on a world map and by country; picking a country filters the whole dashboard."""

from typing import Any

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.charts.format import plain
from salesdash.dashboard.components import context
from salesdash.dashboard.components.chips import apply_change
from salesdash.dashboard.components.crossfilter import category_chart, context_query, row_table
from salesdash.dashboard.components.customer_analytics import penetration_section
from salesdash.dashboard.components.layout import page_header, section
from salesdash.dashboard.components.live import live_view
from salesdash.dashboard.components.theme import active as theme
from salesdash.markup import md

ctx = context.current()
page_header(
    ctx,
    "Geography",
    "Where revenue comes from. Click a country on the map or in the table to filter every page to it.",
)


def _focus(country: str | None) -> None:
    if country:  # a filter set from inside the view: the whole page runs again (chips.apply_change)
        apply_change({"country": [country]})


def _clear() -> None:
    apply_change({"country": []})


def _from_select() -> None:
    _focus(st.session_state.get("geo-focus"))


@live_view("geography-countries")
def countries() -> None:
    """The map, the focus picker, the top-country bars and the table: one answer, so one view."""
    selected = list(ctx.filters.filters.countries)
    # The map, the bars and the table show every country for the other filters, so that a selection keeps its
    # context: the selected countries are outlined, and a click on another one switches to it.
    others = context_query(ctx, "country")
    with st.spinner("Loading countries…"):
        result = ctx.fetch("/api/sales-by-country", others, filtered=False)
    records: list[dict[str, Any]] = list(result.data or [])
    names = [r["country"] for r in sorted(records, key=lambda r: r["country"])]
    # the picker says what is selected (one country), or invites a choice
    st.session_state["geo-focus"] = selected[0] if len(selected) == 1 and selected[0] in names else None

    map_col, side = st.columns([2, 1])
    with map_col, st.container(border=True):
        section(
            ctx,
            "Revenue by country",
            "/api/sales-by-country",
            others,
            filtered=False,
            exports=not selected,
            drill=True,
        )
        category_chart(
            ctx,
            charts.choropleth(records, height=400, selected=selected, theme=theme()),
            records,
            "country",
            key="geo-map",
        )
        context_note = "Every country is coloured for the other filters."
        if selected:
            context_note = (
                context_note[:-1] + f"; outlined: {', '.join(selected)}. Click another country to switch."
            )
        st.caption(plain(context_note))
        unmapped = [r["country"] for r in records if not r.get("iso3")]
        if unmapped:
            st.caption(md(f"Not on the map (no ISO code): {', '.join(unmapped)}"))
    with side, st.container(border=True):
        st.subheader("Focus on a country", anchor=False)
        st.selectbox(
            "Country",
            names,
            placeholder="Choose a country…" if not selected else f"{len(selected)} countries selected",
            key="geo-focus",
            on_change=_from_select,
            help="Sets the Countries filter in the sidebar: every page then shows this country only. Small "
            "markets (Singapore, Belgium, ...) are easiest to pick here or in the table below.",
        )
        if selected:
            st.info(md(f"Every page shows {', '.join(selected)}."), icon=":material/filter_alt:")
            st.button(
                "Show every country", on_click=_clear, icon=":material/filter_alt_off:", key="geo-clear"
            )
        category_chart(
            ctx,
            charts.ranked_bars(records, "country", limit=8, height=330, theme=theme()),
            records,
            "country",
            key="geo-top",
        )

    with st.container(border=True):
        st.subheader("Countries", anchor=False)
        st.caption(
            "Click a column header to sort; select a row to filter the whole dashboard to that country."
        )
        row_table(
            ctx,
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
            "country",
            key="geo-table",
            height="content",  # every country, no half-drawn box
        )


countries()
live_view("geography-penetration")(penetration_section)(ctx)
