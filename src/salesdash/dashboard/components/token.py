"""The ONE token input of a session: in the sidebar, on every page, used by every write (reload, upload,
restore, audit log, reports and alerts, saved views). Kept in the session only (never in the URL)."""

from __future__ import annotations

import streamlit as st

KEY = "session_token"
STORED = "_salesdash_session_token"  # not a widget key: kept across page switches, which reset widget state


def _keep() -> None:
    st.session_state[STORED] = str(st.session_state.get(KEY) or "").strip()


def token_input() -> None:
    """The sidebar's "Your token" field (app.py draws it on every run)."""
    if KEY not in st.session_state and st.session_state.get(STORED):
        st.session_state[KEY] = st.session_state[STORED]
    with st.sidebar.expander("Your token", icon=":material/key:", expanded=False):
        st.text_input(
            "API token",
            type="password",
            key=KEY,
            autocomplete="off",
            placeholder="Paste your token",
            on_change=_keep,
            help="An admin token for reloads, uploads, restores, the audit log and reports; a viewer token is "
            "enough to save views. Create one with `salesdash token create --role admin` (or viewer). It stays "
            "in this browser session and is sent only to the salesdash API.",
        )
        entered = bool(session_token())
        st.caption("Token entered for this session." if entered else "No token: reading only.")


def session_token() -> str:
    """The token entered for this session ("" when none)."""
    return str(st.session_state.get(STORED) or "").strip()


def need_token(what: str) -> bool:
    """True when a token is entered; otherwise say where to enter it (for ``what``, e.g. "to reload")."""
    if session_token():
        return True
    st.info(
        f"Enter an admin token under **Your token** in the sidebar {what}.",
        icon=":material/key:",
    )
    return False
