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

from salesdash.dashboard.state import FilterState
from salesdash.filters import FILTERS, DateBound, Filter, OneOf
from salesdash.vocabulary import ordered

# The declared filters that have a sidebar widget, and their "no restriction" values.
SIDEBAR = tuple(f for f in FILTERS if f.sidebar)
DEFAULTS: dict[str, Any] = {f.param: (None if isinstance(f, DateBound | OneOf) else []) for f in SIDEBAR}


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def set_filter(name: str, value: Any) -> None:
    """Change one global filter (call from a widget callback, before the sidebar is drawn)."""
    st.session_state[name] = value


def reset_filters() -> None:
    for f in FILTERS:  # the filters without a widget too (the customer a table click set)
        st.session_state[f.param] = DEFAULTS.get(f.param, [] if f.many else None)


def _widget(f: Filter, options: dict[str, Any], first: date | None, last: date | None) -> None:
    if isinstance(f, DateBound):
        st.date_input(
            f.label,
            value=None,
            min_value=first,
            max_value=last,
            key=f.param,
            format="YYYY-MM-DD",
            bind="query-params",
            help=f.help or None,
        )
        return
    values = list(options.get(f.options_key or "", []))
    st.sidebar.multiselect(
        f.label,
        ordered(values, f.order) if f.order else values,
        key=f.param,
        placeholder=f.everything[:1].upper() + f.everything[1:],
        bind="query-params",
        help=f.help or None,
    )


def sidebar_filters(options: dict[str, Any]) -> FilterState:
    """Draw the declared filters in the sidebar and return what is selected."""
    date_range = options.get("date_range") or {}
    first, last = _date(date_range.get("start")), _date(date_range.get("end"))
    sidebar = st.sidebar
    sidebar.markdown("#### Filters")
    # one date per row: side by side, a 300 px sidebar cuts the dates to "yyyy-mm-"
    for bound in (f for f in SIDEBAR if isinstance(f, DateBound)):
        with sidebar:
            _widget(bound, options, first, last)
    for other in SIDEBAR:
        if not isinstance(other, DateBound):
            _widget(other, options, first, last)
    filters = FilterState.from_values({f.param: st.session_state.get(f.param) for f in FILTERS})
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
