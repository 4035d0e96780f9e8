"""Manual refresh and the automatic check for new data.

The auto check is a fragment that reruns every ``settings.auto_refresh_seconds`` on its own, asks
``/api/version`` and reruns the whole app only when the data version changed (the cache is keyed on the
version, so the data views then fetch the new data; nothing else is reloaded).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context as context_mod
from salesdash.markup import md

SEEN_KEY = "_salesdash_seen_version"


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


def data_status(version: dict[str, Any], every: int) -> None:
    """Sidebar block: data version, last load, Refresh button and the auto-refresh watcher."""
    # A full run already uses this version; the watcher reruns the app only when a newer one appears.
    st.session_state[SEEN_KEY] = version.get("data_version")
    box = st.sidebar.container()
    loaded = loaded_at_text(version)
    box.caption(
        f"Data version **{md(version.get('data_version', '?'))}**"
        + (f"  \nloaded {md(loaded)}" if loaded else "")
    )
    box.button(
        "Refresh data",
        on_click=_refresh,
        icon=":material/refresh:",
        help="Reload every view from the API (your filters stay as they are).",
        width="stretch",
    )
    if every > 0:
        with box:
            _watch(every)


def _watch(every: int) -> None:
    @st.fragment(run_every=every)
    def watcher() -> None:
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
            st.rerun(scope="app")
        st.caption(f"Checks for new data every {_every_text(every)}.")

    watcher()


def _every_text(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"
