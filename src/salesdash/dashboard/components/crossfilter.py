"""Cross-filtering, drawn: charts and tables whose clicks (and a time series' brush) set the global filters.

Every page draws its filterable charts through these three functions, naming the chart's dimension column
once (the column the chart function is given); :mod:`salesdash.dashboard.selection` turns the Streamlit
selection event into a filter change, and the change is applied in the ``on_select`` callback, before the
sidebar's widgets are drawn, so the widgets, the URL and every page show it on the rerun.

A chart's key carries the current values of the filters it sets: drawn under a new filter it is a new element
with no selection of its own, so a chart never shows a stale selection and a second click on the same bar
after its chip was removed selects it again.

Heatmaps and pies are not selectable in ``st.plotly_chart`` (a click on a cell or a slice sends no selection
event): the Overview draws product-line shares as bars, and Seasonality gives a period picker beside its
heatmap (see docs/dashboard.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from salesdash.charts.figures import TEXT
from salesdash.dashboard.client import ApiResult, Query
from salesdash.dashboard.components.chips import apply_change
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.layout import chart, section
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.selection import (
    END,
    START,
    Change,
    Records,
    category_change,
    dates_change,
    filter_of,
    highlighted,
    period_change,
    row_change,
    session_value,
)
from salesdash.filters import FILTERS, Filter
from salesdash.markup import md

# the filters without a sidebar widget (customer): kept in session state and mirrored in the URL here
UNBOUND = tuple(f for f in FILTERS if not f.sidebar)


def sync_url() -> None:
    """Filters without a sidebar widget: read from the link on a session's first run, then written back to
    the URL on every run (the sidebar's widgets do this themselves with ``bind="query-params"``)."""
    for f in UNBOUND:
        if f.param not in st.session_state:
            st.session_state[f.param] = session_value(f, st.query_params.get_all(f.param))
        query = f.to_query(f.lenient(st.session_state[f.param]))
        if query:
            st.query_params[f.param] = query
        elif f.param in st.query_params:
            del st.query_params[f.param]


def _key(ctx: Context, key: str, params: Sequence[str]) -> str:
    current = ctx.filters.to_query()
    token = hashlib.sha256(repr([current.get(p) for p in params]).encode()).hexdigest()[:8]
    return f"x{token}-{key}"


def data_dates(ctx: Context) -> tuple[date | None, date | None]:
    """The first and last order date of the data (a date filter stays inside them)."""
    found = ctx.options.get("date_range") or {}
    return START.lenient(found.get("start")), END.lenient(found.get("end"))


Pick = Callable[[Sequence[Mapping[str, Any]]], Change | None]  # the selected points -> a filter change


def selectable_chart(
    ctx: Context, fig: go.Figure, *, key: str, sets: Sequence[str], pick: Pick, brush: bool = False
) -> None:
    """The one mechanism: draw ``fig`` so that a click (or, with ``brush``, a horizontal drag) on it applies
    ``pick(points)`` to the filters; ``sets`` names the filters it can change."""
    state = _key(ctx, key, sets)

    def picked() -> None:
        change = pick(st.session_state[state].selection.get("points", []))
        if change:
            apply_change(change)

    if brush:
        fig.update_layout(dragmode="select", selectdirection="h")
    fig.update_xaxes(fixedrange=True)  # a drag never pans or zooms the chart away
    fig.update_yaxes(fixedrange=True)
    chart(fig, key=state, on_select=picked, selection_mode="box" if brush else "points")


def context_query(ctx: Context, column: str, extra: Query | None = None) -> dict[str, Any]:
    """Every filter in view except ``column``'s own, plus ``extra`` (fetch it with ``filtered=False``): a
    chart drawn from it keeps the categories around the ones picked, so another click switches to another."""
    declared = filter_of(column)
    query = {k: v for k, v in ctx.filters.to_query().items() if declared is None or k != declared.param}
    return {**query, **(extra or {})}


def context_section(
    ctx: Context, title: str, path: str, column: str, extra: Query | None = None, **kwargs: Any
) -> dict[str, Any]:
    """The section header of a cross-filter chart drawn from :func:`context_query`; returns that query (fetch
    it with ``filtered=False``). Its exports hold the filters in view, so they are offered only while the
    chart's own filter is not set (then chart and export show the same rows)."""
    query = context_query(ctx, column, extra)
    declared = filter_of(column)
    own = declared is not None and not declared.empty(getattr(ctx.filters.filters, declared.attr))
    # "Orders behind this" opens the orders of the filters in view (a click here is one of them)
    section(ctx, title, path, query, filtered=False, exports=not own, **{"drill": True, **kwargs})
    return query


def _highlight(ctx: Context, fig: go.Figure, declared: Filter) -> bool:
    """Fade the bars outside the filter (Plotly's ``selectedpoints``); True when some were faded."""
    value = getattr(ctx.filters.filters, declared.attr)
    chosen = [value] if isinstance(value, str) else list(value or ())
    faded = False
    for trace in fig.data:
        if isinstance(trace, go.Bar):
            labels = trace.y if trace.orientation == "h" else trace.x
            picked = highlighted(list(labels or ()), chosen)
            if picked is not None:
                trace.selectedpoints = picked
                # faded bars, their values in dark ink (white inside a pale bar cannot be read)
                trace.unselected = {"marker": {"opacity": 0.3}}
                if trace.insidetextfont and trace.insidetextfont.color:
                    inside = trace.insidetextfont.color
                    trace.insidetextfont.color = [inside if i in picked else TEXT for i in range(len(labels))]
                faded = True
    return faded


def category_chart(ctx: Context, fig: go.Figure, records: Records, column: str, *, key: str) -> None:
    """A chart of ``records`` by ``column`` where a click on a bar, slice or country sets that column's
    filter (a column without a declared filter draws a plain chart). Drawn from :func:`context_query`, the
    values outside the filter stay, faded, and a caption says so."""
    declared = filter_of(column)
    if declared is None:
        chart(fig, key=key)
        return
    faded = _highlight(ctx, fig, declared)
    selectable_chart(
        ctx,
        fig,
        key=key,
        sets=(declared.param,),
        pick=lambda points: category_change(points, records, column),
    )
    if faded:
        words = declared.describe(getattr(ctx.filters.filters, declared.attr))
        st.caption(
            md(f"Drawn for the other filters; {words} (the {declared.label.lower()} filter) in full colour.")
            + " Click another to switch."
        )


def category_view(
    ctx: Context,
    title: str,
    path: str,
    column: str,
    draw: Callable[[Records], go.Figure],
    *,
    key: str,
    loading: str,
    extra: Query | None = None,
) -> ApiResult:
    """One cross-filter section: its header (:func:`context_section`), ``path`` fetched for the other filters
    (``extra`` added) and the chart ``draw`` makes of the answer's records (:func:`category_chart`). Returns the
    answer, for the notes a page writes below the chart."""
    query = context_section(ctx, title, path, column, extra)
    with st.spinner(loading):
        result = ctx.fetch(path, query, filtered=False)
    records = list(result.data or [])
    category_chart(ctx, draw(records), records, column, key=key)
    return result


def period_chart(
    ctx: Context, fig: go.Figure, records: Records, grain: str, *, key: str, brush: bool = True
) -> None:
    """A time series (one point per record and trace, in order) where a brush (or, without ``brush``, a
    click on a bar) sets the date range to the selected periods' first and last days."""
    selectable_chart(
        ctx,
        fig,
        key=key,
        sets=(START.param, END.param),
        pick=lambda points: period_change(points, records, grain, data_dates(ctx)),
        brush=brush,
    )


def row_table(
    ctx: Context, records: Records, columns: Sequence[str], column: str, *, key: str, **kwargs: Any
) -> None:
    """A table of ``records`` where selecting a row sets the filter of the row's ``column``."""
    declared = filter_of(column)
    if declared is None:
        table(records, columns, key=key, **kwargs)
        return
    state = _key(ctx, key, (declared.param,))

    def picked() -> None:
        change = row_change(st.session_state[state].selection.get("rows", []), records, column)
        if change:
            apply_change(change)

    table(records, columns, key=state, on_select=picked, **kwargs)


def apply_dates(ctx: Context, first: date, last: date) -> None:
    """Set the date range to ``first``..``last`` within the data's dates (the equivalent controls beside the
    heatmaps call this from their button)."""
    apply_change(dates_change(first, last, data_dates(ctx)))
