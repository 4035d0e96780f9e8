"""Manual refresh, the automatic check for new data and the live indicator.

The auto check is a fragment that reruns every ``settings.auto_refresh_seconds`` on its own, asks
``/api/version`` and reruns the whole app only when the data version changed (the cache is keyed on the
version, so the data views then fetch the new data; nothing else is reloaded).

While a live order feed is active (``/api/stream``), the fragment reruns every ``poll_seconds``
(``SALESDASH_LIVE_POLL_SECONDS``) instead and shows "Live" with the time of the last order. On a new data version
it reruns only the page's live views whose answers changed (``components/live.py``; the whole page when an
answer drawn outside them changed, or when the page has none). A page without live views (the Data pages) also
runs again when the feed refused messages (dead letters come without a new data version). Filters and the page
live in the URL and widget state, so they survive.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context as context_mod
from salesdash.dashboard.components.live import relay_overdue, rerun_views
from salesdash.markup import md

SEEN_KEY = "_salesdash_seen_version"
LIVE_KEY = "_salesdash_live"
DEAD_LETTERS_KEY = "_salesdash_dead_letters"  # the feed's refusals when the watcher last looked


def _refresh() -> None:
    context_mod.clear_cache()
    st.toast("Reloaded from the API", icon=":material/refresh:")


def loaded_at_text(version: dict[str, Any]) -> str:
    raw = version.get("loaded_at") or version.get("created_at")
    if not raw:
        return ""
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return str(raw)
    return when.strftime("%Y-%m-%d %H:%M UTC") if when.tzinfo else when.strftime("%Y-%m-%d %H:%M")


def last_order_text(info: dict[str, Any]) -> str:
    raw = info.get("last_order_at")
    if not raw:
        return "no order yet"
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        return "last order at ?"
    return f"last order at {when:%H:%M:%S} UTC"


def data_status(version: dict[str, Any], every: int) -> None:
    """Sidebar block: data version, last load, Refresh button and the auto-refresh watcher."""
    # A full run already uses this version; the watcher reruns the app only when a newer one appears.
    st.session_state[SEEN_KEY] = version.get("data_version")
    box = st.sidebar.container()
    loaded = loaded_at_text(version)
    if loaded:
        box.caption(f"Data loaded {md(loaded)}")
    # the raw version string is for support and the API, not for reading: behind a toggle
    with box.expander("Details"):
        st.caption(f"Data version **{md(version.get('data_version', '?'))}**")
    box.button(
        "Refresh data",
        on_click=_refresh,
        icon=":material/refresh:",
        help="Reload every view from the API (your filters stay as they are).",
        width="stretch",
    )
    with box:
        watch_for_data(version, every)


def watch_for_data(version: dict[str, Any], every: int) -> None:
    """The watcher (also run when there is no data yet, so a live feed fills the page without a reload)."""
    st.session_state[SEEN_KEY] = version.get("data_version")
    live = context_mod.stream_info(context_mod.client())
    active = bool(live.get("active"))
    st.session_state[LIVE_KEY] = active
    interval = int(live.get("poll_seconds") or context_mod.settings().live_poll_seconds) if active else every
    if interval > 0:
        _watch(interval, live if active else None)


def _live_badge(info: dict[str, Any]) -> None:
    if info.get("connected"):
        st.badge("Live", icon=":material/sensors:", color="green")
        st.caption(last_order_text(info))
    else:
        st.badge("Live feed disconnected", icon=":material/sensors_off:", color="orange")
        st.caption(f"{last_order_text(info)}; the consumer is reconnecting to NATS.")


def _watch(every: int, live: dict[str, Any] | None) -> None:
    @st.fragment(run_every=every)
    def watcher() -> None:
        # the relay (mounted only while an update is pending) lives in this first slot, so the badge and the
        # captions below keep their places from run to run (no stale copy of a caption while a run draws)
        slot = st.container()
        checked = st.session_state.get(context_mod.VERSION_CHECKED_KEY, 0.0)
        if time.time() - float(checked) > 1.0:
            try:
                info = context_mod.check_version()
            except ApiError:
                st.caption(":material/cloud_off: API not answering; will retry.")
                return
        else:
            info = st.session_state.get(context_mod.VERSION_KEY, {})
        new = info.get("data_version")
        if new != st.session_state.get(SEEN_KEY):
            st.session_state[SEEN_KEY] = new
            changed = context_mod.changed_views(str(new)) if live is not None else None
            if changed is None:  # file-based data, or the page itself changed: run it all again
                st.rerun(scope="app")
            if changed:
                with slot:
                    rerun_views(changed, str(new))
        else:
            with slot:
                overdue = relay_overdue()
            if overdue:  # the views of an update were never rerun: run the page
                st.rerun(scope="app")
        if live is not None:
            status = context_mod.stream_info(context_mod.client())
            if not status.get("active"):  # the feed stopped: back to the file-based check
                st.rerun(scope="app")
            # refusals alone bring no new data version: a page without live views (Data quality) shows them
            if _refused_more(status) and not context_mod.has_live_views():
                st.rerun(scope="app")
            _live_badge(status)
            st.caption(f"Checks for new orders every {_every_text(every)}.")
            return
        st.caption(f"Checks for new data every {_every_text(every)}.")

    watcher()


def _refused_more(status: dict[str, Any]) -> bool:
    """Whether the feed refused messages since the last check (the first check only notes the count)."""
    count = status.get("dead_letters")
    seen = st.session_state.get(DEAD_LETTERS_KEY)
    st.session_state[DEAD_LETTERS_KEY] = count
    return seen is not None and count != seen


def _every_text(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return "second" if seconds == 1 else f"{seconds} seconds"
