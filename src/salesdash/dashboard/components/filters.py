"""The global sidebar filters.

Each widget's key is the API parameter name and the widget is bound to the URL query string
(``bind="query-params"``): the address bar always reproduces the view, and the same names appear in the
API calls. Because ``app.py`` draws these widgets on every run, the selection survives reruns and page
switches. Other code changes a filter only through :func:`set_filter` from a widget callback.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from salesdash.dashboard.charts import DEAL_SIZE_ORDER, STATUS_ORDER
from salesdash.dashboard.state import CANCELLED, FILTER_PARAMS, LIST_PARAMS, FilterState

DEFAULTS: dict[str, Any] = {"start": None, "end": None, **{name: [] for name in LIST_PARAMS}}


def _ordered(values: list[str], order: list[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(values, key=lambda v: (rank.get(v, len(rank)), v))


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def set_filter(name: str, value: Any) -> None:
    """Change one global filter (call from a widget callback, before the sidebar is drawn)."""
    st.session_state[name] = value


def reset_filters() -> None:
    for name, value in DEFAULTS.items():
        st.session_state[name] = value


def sidebar_filters(options: dict[str, Any]) -> FilterState:
    """Draw the filters in the sidebar and return what is selected."""
    date_range = options.get("date_range") or {}
    first, last = _date(date_range.get("start")), _date(date_range.get("end"))
    sidebar = st.sidebar
    sidebar.markdown("#### Filters")
    left, right = sidebar.columns(2)
    with left:
        st.date_input(
            FILTER_PARAMS["start"],
            value=None,
            min_value=first,
            max_value=last,
            key="start",
            format="YYYY-MM-DD",
            bind="query-params",
            help="First order date to include (empty = from the first order).",
        )
    with right:
        st.date_input(
            FILTER_PARAMS["end"],
            value=None,
            min_value=first,
            max_value=last,
            key="end",
            format="YYYY-MM-DD",
            bind="query-params",
            help="Last order date to include (empty = up to the last order).",
        )
    sidebar.multiselect(
        FILTER_PARAMS["country"],
        options.get("countries", []),
        key="country",
        placeholder="All countries",
        bind="query-params",
    )
    sidebar.multiselect(
        FILTER_PARAMS["productline"],
        options.get("product_lines", []),
        key="productline",
        placeholder="All product lines",
        bind="query-params",
    )
    sidebar.multiselect(
        FILTER_PARAMS["status"],
        _ordered(list(options.get("statuses", [])), STATUS_ORDER),
        key="status",
        placeholder=f"All except {CANCELLED}",
        bind="query-params",
        help=f"Empty = every status except {CANCELLED} (revenue leaves cancelled orders out). "
        f"Pick statuses to see exactly those, {CANCELLED} included.",
    )
    sidebar.multiselect(
        FILTER_PARAMS["dealsize"],
        _ordered(list(options.get("deal_sizes", [])), DEAL_SIZE_ORDER),
        key="dealsize",
        placeholder="All deal sizes",
        bind="query-params",
    )
    filters = FilterState.from_values({name: st.session_state.get(name) for name in FILTER_PARAMS})
    if filters.dates_reversed:
        sidebar.warning("**From** is after **To**: the date filter is ignored until you fix it.")
    sidebar.button(
        "Reset filters",
        on_click=reset_filters,
        icon=":material/filter_alt_off:",
        disabled=filters == FilterState(),
        width="stretch",
    )
    return filters
