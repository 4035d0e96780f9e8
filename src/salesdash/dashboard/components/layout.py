"""Page chrome shared by every page: header, section headers with "API call" and CSV download, styling."""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from salesdash.charts.describe import description
from salesdash.charts.theme import LIGHT
from salesdash.dashboard.client import Query
from salesdash.dashboard.components.chips import chip_row
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.drill import PAGE_KEY, Pick, drill_button
from salesdash.dashboard.components.exports import export_menu, view_of
from salesdash.markup import md

# Small CSS touches: card borders, tighter top padding, and no horizontal page scroll on phones.
CSS = (
    """
<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem; max-width: 1500px;}
[data-testid="stMetric"] {background: """
    + LIGHT.background
    + """;}
[data-testid="stMetricValue"] {font-size: 1.5rem; font-variant-numeric: tabular-nums;}
[data-testid="stMetricLabel"] p {font-weight: 600; color: """
    + LIGHT.muted_text
    + """;}
div:has(> [data-testid="stMetricDelta"]) {flex-wrap: wrap; row-gap: 0.25rem;}
/* a card names its period and the one it is compared with: wrap them, never cut them off */
[data-testid="stMetricDeltaDescription"], [data-testid="stMetricDeltaDescription"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  overflow: visible !important; text-overflow: clip !important; white-space: normal !important;
}
h1 {font-size: 1.9rem !important; padding-bottom: 0.1rem !important;}
h3 {font-size: 1.15rem !important;}
[data-testid="stPlotlyChart"] {max-width: 100%; overflow: hidden;}
@media (max-width: 640px) {
  .block-container {padding-left: 0.8rem; padding-right: 0.8rem; padding-top: 3.6rem;}
  /* KPI cards two per row on phones instead of one long column */
  [data-testid="stHorizontalBlock"]:has([data-testid="stMetric"]) {flex-wrap: wrap; gap: 0.5rem;}
  [data-testid="stHorizontalBlock"]:has([data-testid="stMetric"]) > [data-testid="stColumn"] {
    min-width: calc(50% - 0.25rem) !important; flex: 1 1 calc(50% - 0.25rem) !important;
    width: calc(50% - 0.25rem) !important;
  }
  [data-testid="stMetric"] {padding: 0.6rem 0.7rem !important;}
  [data-testid="stMetricValue"] {font-size: 1.15rem;}
  [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {white-space: normal !important; overflow: visible !important;}
  h1 {font-size: 1.5rem !important;}
}
</style>
"""
)

# Plotly toolbar: keep it light (download as PNG stays available).
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": False,
    "modeBarButtonsToRemove": [
        "zoom2d",
        "pan2d",
        "select2d",
        "lasso2d",
        "zoomIn2d",
        "zoomOut2d",
        "autoScale2d",
        "resetScale2d",
    ],
    "toImageButtonOptions": {"format": "png", "scale": 2},
    # Map outlines are served by the dashboard itself (static/topojson), not fetched from a CDN.
    "topojsonURL": "app/static/topojson/",
}


def apply_style() -> None:
    st.html(CSS)


def page_header(
    ctx: Context,
    title: str,
    description: str,
    *,
    path: str | None = None,
    extra: Query | None = None,
    filtered: bool = True,
) -> None:
    """Title, what the page shows, the filters in view, and (with ``path``) the page's main API call."""
    st.session_state[PAGE_KEY] = title  # which page was drawn last (a drill is kept only while on its page)
    text = f"{description}  \nShowing: {md(ctx.filters.summary())}" if filtered else description
    if path is None:
        st.title(title, anchor=False)
        st.caption(text)
        if filtered:
            chip_row(ctx.filters.filters)
        return
    # One wrapping row: the title on the left, the tools pushed to the right (below it on a phone).
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.title(title, anchor=False, width="content")
        st.space("stretch")
        api_call(ctx, path, extra)
        if view := view_of(path):
            export_menu(ctx, view, key="page")
    st.caption(text)
    if filtered:
        chip_row(ctx.filters.filters)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


def api_call(ctx: Context, path: str, extra: Query | None = None, *, filtered: bool = True) -> None:
    """A small popover showing the exact API call behind a view (with a copy button)."""
    with st.popover("API call", icon=":material/code:", type="tertiary"):
        st.caption("The exact request behind this view (copy it, or open it in a browser):")
        st.code(ctx.api_url(path, extra, filtered=filtered), language=None, wrap_lines=True)


def download_csv(
    ctx: Context, path: str, extra: Query | None = None, *, name: str, filtered: bool = True
) -> None:
    """A download button for the view's table, in the API's own CSV format (fetched on click)."""
    st.download_button(
        "CSV",
        data=lambda: ctx.csv(path, extra, filtered=filtered),
        file_name=f"salesdash-{_slug(name)}-{ctx.data_version}.csv",
        mime="text/csv",
        icon=":material/download:",
        type="tertiary",
        key=f"csv-{path}-{_slug(name)}",
        on_click="ignore",
        help="This table as CSV for machines (the API's ?format=csv): the headers are field names such as "
        "average_order_value and dates are ISO (2005-07-01). Export → Excel has the headers people read.",
    )


def section(
    ctx: Context,
    title: str,
    path: str,
    extra: Query | None = None,
    *,
    csv: bool = True,
    exports: bool = True,
    help: str | None = None,
    filtered: bool = True,
    drill: bool | None = None,
    pick: Pick | None = None,
) -> None:
    """A section title with the "API call" popover, a CSV download, (for views the API exports) an "Export"
    menu (Excel, PNG, PDF) and "Orders behind this", which opens the Orders page with the filters in view plus
    ``pick``, the element picked in the section (components/drill.py; None: nothing can be picked in it, {}:
    nothing is picked yet). ``drill`` defaults to whether the section shows the filtered order lines."""
    # One wrapping row: the title, then the tools pushed right (they wrap under the title when narrow).
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.subheader(title, anchor=False, help=help, width="content")
        st.space("stretch")
        api_call(ctx, path, extra, filtered=filtered)
        if csv:
            download_csv(ctx, path, extra, name=title, filtered=filtered)
        if exports and (view := view_of(path)):
            export_menu(ctx, view, extra, key=_slug(title))
        offered = drill if drill is not None else filtered or pick is not None
        if offered:
            drill_button(title, pick, key=_slug(title))


def order_count_note(meta: dict[str, Any]) -> None:
    """Say so when a breakdown's order counts add up to more than the distinct orders in view (the API's
    ``meta.order_count_note``: an order with lines in several groups counts under each)."""
    note = meta.get("order_count_note")
    if isinstance(note, str) and note:
        st.caption(note)  # the API's sentence: fixed words and numbers, no value from the data


def chart(fig: go.Figure, *, key: str, **kwargs: Any) -> Any:
    """Draw a Plotly figure with the dashboard's toolbar settings, then its text alternative
    (:func:`chart_text`)."""
    drawn = st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, theme=None, **kwargs)
    chart_text(fig, key=key)
    return drawn


def chart_text(fig: go.Figure, *, key: str) -> None:
    """Under a chart: its one-line summary and a "View as table" toggle showing the numbers it draws (both
    computed by the chart function, :mod:`salesdash.charts.describe`; names from the data are escaped)."""
    summary, table = description(fig)
    if summary:
        st.caption(md(summary))
    if table and st.toggle(
        "View as table", key=f"{key}-table", help="The numbers this chart draws, as a table"
    ):
        st.dataframe(table, hide_index=True, width="stretch")
