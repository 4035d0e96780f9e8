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

from salesdash.dashboard.components import context
from salesdash.dashboard.state import FilterState
from salesdash.filters import FILTERS, DateBound, Filter
from salesdash.vocabulary import ordered

# The declared filters that have a sidebar widget, and their "no restriction" values.
SIDEBAR = tuple(f for f in FILTERS if f.sidebar)
DEFAULTS: dict[str, Any] = {f.param: (None if isinstance(f, DateBound) else []) for f in SIDEBAR}


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
    for f in SIDEBAR:
        if f.finder:
            st.session_state[search_key(f)] = ""


def search_key(f: Filter) -> str:
    """The widget key of the search box of a filter with a finder (customers, product codes)."""
    return f"{f.param}_search"


def _chosen(f: Filter, version: dict[str, Any]) -> list[str]:
    """What is chosen for ``f``: its widget's value, else (first run of a link) the URL's values that are in
    the data (its finder gives them exactly; the others are named by the link warning, not applied)."""
    value = st.session_state.get(f.param)
    if value is None:
        value = [v for v in st.query_params.get_all(f.param) if v in context.found_values(f, v, version)]
    return [str(v) for v in value or []]


def _found(f: Filter, version: dict[str, Any]) -> list[str]:
    """A filter with too many values to list: a search box whose text asks the filter's finder (GET
    /api/customers?q=...), and the choices are the current page of matches plus what is already chosen."""
    text = st.sidebar.text_input(
        f"Find {f.label.lower()}",
        key=search_key(f),
        type="search",
        live=True,
        placeholder=f"Type to find {f.label.lower()}",
        help=f"Shows the first {context.FOUND_PAGE} {f.label.lower()} that start with or contain the text; "
        "pick them below.",
    )
    return list(dict.fromkeys([*_chosen(f, version), *context.found_values(f, text or "", version)]))


def with_linked(options: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    """``options`` (``/api/filters``) plus, for each filter with a finder, the values its finder gives for the
    values of the link (GET /api/filters only counts those), so that a link's values can be checked."""
    out = dict(options)
    for f in SIDEBAR:
        if f.finder and f.options_key:
            linked = st.query_params.get_all(f.param)
            out[f.options_key] = [v for text in linked for v in context.found_values(f, text, version)]
    return out


def _widget(
    f: Filter, options: dict[str, Any], first: date | None, last: date | None, version: dict[str, Any]
) -> None:
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
    values = _found(f, version) if f.finder else list(options.get(f.options_key or "", []))
    if f.names and f.param not in st.session_state:
        # the widget writes the names people read into the URL ("territory=North America"); a link may give
        # the stored codes the API takes ("territory=NA"): either is understood on the first run of a link
        linked = [f.stored(v) for v in st.query_params.get_all(f.param)]
        if linked:
            st.session_state[f.param] = [v for v in dict.fromkeys(linked) if v in values]
    st.sidebar.multiselect(
        f.label,
        ordered(values, f.order) if f.order else values,
        format_func=f.name_of,
        key=f.param,
        placeholder=f.everything[:1].upper() + f.everything[1:],
        bind="query-params",
        help=f.help or None,
    )


def sidebar_filters(options: dict[str, Any], version: dict[str, Any]) -> FilterState:
    """Draw the declared filters in the sidebar and return what is selected (``version``: the data version
    the searches of customers and product codes are cached under)."""
    date_range = options.get("date_range") or {}
    first, last = _date(date_range.get("start")), _date(date_range.get("end"))
    sidebar = st.sidebar
    sidebar.markdown("#### Filters")
    # one date per row: side by side, a 300 px sidebar cuts the dates to "yyyy-mm-"
    for bound in (f for f in SIDEBAR if isinstance(f, DateBound)):
        with sidebar:
            _widget(bound, options, first, last, version)
    for other in SIDEBAR:
        if not isinstance(other, DateBound):
            _widget(other, options, first, last, version)
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
