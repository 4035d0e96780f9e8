"""Live views: a page's view drawn as its own Streamlit fragment, so a new data version redraws only the views
whose answers changed (docs/dashboard.md, "Live updates").

A page writes each view (its ``section`` header and what it draws) as a function decorated with
:func:`live_view`; the function is called where the view goes. While a live feed is active, the sidebar's
watcher (``components/refresh.py``) finds a new data version, asks :func:`context.changed_views` which views'
answers changed (a conditional GET per URL: 304 when unchanged) and hands their names to :func:`rerun_views`.
A fragment can only be rerun by name from a widget callback, so the names go through a tiny component (no
markup, a few lines of script) that sends them straight back as an event; its callback reruns exactly those
fragments. Unchanged views are not run, not fetched and not redrawn; the filters, the page and every widget's
state stay as they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec

import streamlit as st
from streamlit.components.v2 import component
from streamlit.errors import StreamlitAPIException

from salesdash.dashboard.components import context

P = ParamSpec("P")
PENDING_KEY = "_salesdash_live_pending"  # the views the relay's event reruns
PREFIX = "live-"  # fragment keys: live-<view>
CONTAINER = "view-"  # its container's key: view-<view> (CSS class st-key-view-<view>)

# The relay: on mount with a new token, send it back as the "changed" event (once per token and tab).
_RELAY_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  if (data && data.token && window.__salesdashRelayed !== data.token) {
    window.__salesdashRelayed = data.token;
    setTriggerValue("changed", data.token);
  }
}
"""


@st.cache_resource(show_spinner=False)
def _relay() -> Callable[..., object]:
    return component("salesdash_live_relay", js=_RELAY_JS)


def live_view(name: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorator: the view drawn by the function is the fragment ``live-<name>`` (``name`` unique among the
    pages' views), inside a container keyed ``view-<name>`` (CSS class ``st-key-view-<name>``); the API answers
    it fetches are recorded as its own."""

    def wrap(draw: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(draw)
        def view(*args: P.args, **kwargs: P.kwargs) -> None:
            with context.drawing(name), st.container(key=CONTAINER + name):
                draw(*args, **kwargs)

        return st.fragment(view, key=PREFIX + name)

    return wrap


def _rerun_pending() -> None:
    """The relay's callback: rerun the pending views only (the whole page when one is no longer drawn)."""
    names = [PREFIX + n for n in st.session_state.pop(PENDING_KEY, [])]
    if not names:
        return
    try:
        st.rerun(scope=names)
    except StreamlitAPIException:  # a view not drawn any more (the page changed meanwhile)
        st.rerun()


def relay_missed() -> bool:
    """Whether views handed to the relay were not rerun (its event never came back, say the component did not
    load): the watcher then reruns the whole page rather than leave them stale."""
    return bool(st.session_state.pop(PENDING_KEY, None))


def rerun_views(names: Sequence[str], token: str) -> None:
    """Rerun the live views ``names`` (call from a fragment, the watcher): ``token`` (the data version) makes
    the relay send its event once."""
    st.session_state[PENDING_KEY] = list(names)
    _relay()(data={"token": token}, key="live-relay", on_changed_change=_rerun_pending)
