"""Live views: a page's view drawn as its own Streamlit fragment, so a new data version redraws only the views
whose answers changed (docs/dashboard.md, "Live updates").

A page writes each view (its ``section`` header and what it draws) as a function decorated with
:func:`live_view`; the function is called where the view goes. While a live feed is active, the sidebar's
watcher (``components/refresh.py``) finds a new data version, asks :func:`context.changed_views` which views'
answers changed (a conditional GET per URL: 304 when unchanged) and hands their names to :func:`rerun_views`.
A fragment can only be rerun by name from a widget callback, so the watcher keeps the names in session state
and mounts a relay, a tiny component (no markup, a few lines of script) that sends an event straight back; its
callback reruns exactly those fragments. Unchanged views are not run, not fetched and not redrawn; the filters, the page and every widget's
state stay as they are.

The unit of a live view is what one user interaction changes: a control drawn inside a view that drives only
that view (a time grain, a search box, a page of a table) reruns the view alone; a control that drives other
views too either stands outside every view (the Orders page's "Measure": a change reruns the whole page, as any
widget outside a fragment does) or, drawn inside a view, has :func:`rerun_page` as its callback. A filter set
from inside a view (a cross-filter click, ``chips.apply_change``) reruns the whole page the same way. Only a new
data version reruns views alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec

import streamlit as st
from streamlit.components.v2 import component
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.errors import show_api_error

P = ParamSpec("P")
PENDING_KEY = "_salesdash_live_pending"  # {names: the views the relay's event reruns, token, waited}
RELAY_PATIENCE = 5  # watcher runs to wait for the relay's event before rerunning the whole page
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
                try:
                    draw(*args, **kwargs)
                except ApiError as err:
                    if not view_only_run():
                        raise  # a whole-page run: the page shows one notice for it (dashboard/app.py)
                    # rerun alone, the page's handler is not running: the notice goes in the view's place
                    show_api_error(err, key=f"api-error-retry-{name}")

        return st.fragment(view, key=PREFIX + name)

    return wrap


def view_only_run() -> bool:
    """True while Streamlit reruns fragments alone (a live update, a control inside a view), not the page."""
    run = get_script_run_ctx()
    return bool(run is not None and run.fragment_ids_this_run)


def rerun_page() -> None:
    """Widget callback for a control inside a live view that drives other views as well (the Products page's
    "Measure", which sorts the ranking below): the whole page runs again, not the view alone."""
    st.rerun()


def _rerun_pending() -> None:
    """The relay's callback: rerun the pending views only (the whole page when one is no longer drawn)."""
    pending = st.session_state.pop(PENDING_KEY, None) or {}
    names = [PREFIX + n for n in pending.get("names", [])]
    if not names:
        return
    try:
        st.rerun(scope=names)
    except StreamlitAPIException:  # a view not drawn any more (the page changed meanwhile)
        st.rerun()


def _mount(token: str) -> None:
    _relay()(data={"token": token}, key="live-relay", on_changed_change=_rerun_pending)


def rerun_views(names: Sequence[str], token: str) -> None:
    """Rerun the live views ``names`` (call from a fragment, the watcher): ``token`` (the data version) makes
    the relay send its event once. Views still pending from an earlier version are kept."""
    earlier = (st.session_state.get(PENDING_KEY) or {}).get("names", [])
    names = list(dict.fromkeys([*earlier, *names]))
    st.session_state[PENDING_KEY] = {"names": names, "token": token, "waited": 0}
    _mount(token)


def relay_overdue() -> bool:
    """Call on each watcher run without a new version: while the relay's event is pending the relay stays
    mounted; True (and nothing pending any more) when the event did not come back within RELAY_PATIENCE runs
    (the component did not load, say): the watcher then reruns the whole page rather than leave views stale."""
    pending = st.session_state.get(PENDING_KEY)
    if not pending:
        return False
    pending["waited"] += 1
    if pending["waited"] > RELAY_PATIENCE:
        st.session_state.pop(PENDING_KEY, None)
        return True
    _mount(str(pending["token"]))
    return False
