"""The sidebar's "Saved views": save the current page and filters under a name, list the saved views, open one
(its filters and page), copy its link, delete your own. Through ``/api/saved-views``; the state is the sidebar's
query string (:meth:`FilterState.encode`), opened with :meth:`FilterState.widget_values`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import streamlit as st

from salesdash.dashboard.client import ApiClient, ApiError
from salesdash.dashboard.components.filters import set_filter
from salesdash.dashboard.components.navigation import go_to
from salesdash.dashboard.components.token import session_token
from salesdash.dashboard.state import FilterState
from salesdash.markup import md
from salesdash.vocabulary import PAGES

OPEN_KEY = "_salesdash_open_view"
NOTICE_KEY = "_salesdash_saved_view_notice"
NAME_KEY = "saved_view_name"
URL = "/api/saved-views"


def apply_opened() -> None:
    """Before the sidebar is drawn: the filters of a view just opened into the sidebar's widgets (no-op when
    none is pending). The page switch itself happened in the run that asked for it."""
    view = st.session_state.pop(OPEN_KEY, None)
    if not isinstance(view, dict):
        return
    for name, value in FilterState.widget_values(str(view.get("state") or "")).items():
        set_filter(name, value)
    st.session_state[NOTICE_KEY] = f"Opened “{view.get('name')}”."


def _open(view: dict[str, Any], pages: dict[str, st.Page]) -> None:
    """Open ``view``: go to its page; :func:`apply_opened` then sets its filters (the widgets are bound to the
    URL, so they write its query string themselves)."""
    st.session_state[OPEN_KEY] = view
    go_to(pages.get(str(view.get("page"))) or pages["overview"])


def dashboard_link(view: dict[str, Any]) -> str:
    """The view's full address: this dashboard's scheme, host and port plus the view's link."""
    try:
        here = urlsplit(str(st.context.url or ""))
        base = f"{here.scheme}://{here.netloc}/" if here.netloc else "/"
    except (AttributeError, ValueError):
        base = "/"
    return base + str(view.get("link") or "")


def _save(client: ApiClient, name: str, page: str, filters: FilterState) -> None:
    try:
        client.post(
            URL, token=session_token() or None, json={"name": name, "page": page, "state": filters.encode()}
        )
    except ApiError as err:
        st.session_state[NOTICE_KEY] = f"Not saved: {err.message}"
        return
    st.session_state[NOTICE_KEY] = f"Saved “{name}”."
    st.session_state[NAME_KEY] = ""


def _delete(client: ApiClient, view: dict[str, Any]) -> None:
    try:
        client.delete(f"{URL}/{view.get('id')}", token=session_token())
    except ApiError as err:
        st.session_state[NOTICE_KEY] = f"Not deleted: {err.message}"
        return
    st.session_state[NOTICE_KEY] = f"Deleted “{view.get('name')}”."


def saved_views_sidebar(
    client: ApiClient, filters: FilterState, pages: dict[str, st.Page], page: str, can_write: bool
) -> None:
    """The expander (``pages`` by name, ``page``: the current one's name; ``can_write``: a token is at hand)."""
    with st.sidebar.expander("Saved views", icon=":material/bookmarks:"):
        notice = st.session_state.pop(NOTICE_KEY, None)
        if notice:
            st.caption(md(notice))
        name = str(st.text_input("Name", key=NAME_KEY, max_chars=100, placeholder="e.g. France 2004") or "")
        st.button(
            f"Save this view ({md(PAGES.get(page, page))})",
            key="saved_view_save",
            icon=":material/bookmark_add:",
            disabled=not (name.strip() and can_write),
            on_click=_save,
            args=(client, name.strip(), page, filters),
            width="stretch",
        )
        if not can_write:
            st.caption("Saving needs a token: enter yours under **Your token**.")
        try:
            result = client.get(URL, token=session_token() or None)
        except ApiError as err:
            st.caption(f"Saved views are not available: {md(err.message)}")
            return
        views = result.data if isinstance(result.data, list) else []
        if not views:
            st.caption("No saved views yet.")
        for view in views:
            view_id = view.get("id")
            st.markdown(
                f"**{md(view.get('name'))}** · {md(PAGES.get(str(view.get('page')), view.get('page')))}"
            )
            opener, remover = st.columns(2)
            if opener.button("Open", key=f"saved_view_open_{view_id}", width="stretch"):
                _open(view, pages)
            if view.get("yours") and session_token():
                remover.button(
                    "Delete",
                    key=f"saved_view_delete_{view_id}",
                    on_click=_delete,
                    args=(client, view),
                    width="stretch",
                )
            st.code(dashboard_link(view), language=None, wrap_lines=True)
