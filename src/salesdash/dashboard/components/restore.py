"""The Data page's "Restore" buttons: one next to each kept earlier data version, with a confirmation that says
what changes, then POST /api/data-versions/<version>/restore with an admin token."""

from __future__ import annotations

from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.refresh import loaded_at_text
from salesdash.dashboard.components.token import need_token, session_token

PENDING_KEY = "_salesdash_restore_pending"
RESULT_KEY = "_salesdash_restore_result"


def _lines(row: dict[str, Any]) -> str:
    count = row.get("row_count")
    return f"{count:,} order lines" if isinstance(count, int) else "? order lines"


def restore_section(ctx: context.Context, rows: list[dict[str, Any]]) -> None:
    """Earlier loads that can be restored (``rows`` = /api/data-versions, newest first)."""
    current = rows[0] if rows else {}
    earlier = [r for r in rows[1:] if r.get("restorable")]
    outcome = st.session_state.get(RESULT_KEY)
    if not earlier and not isinstance(outcome, dict):
        return
    with st.container(border=True):
        st.subheader("Restore an earlier version", anchor=False)
        st.caption(
            "The last loads are kept (SALESDASH_KEEP_VERSIONS). A restore makes one current again as a new data "
            "version; the data it replaces stays restorable. Needs an admin token."
        )
        if isinstance(outcome, dict):
            st.success(
                f"Restored data version {outcome.get('restored_from')}: {outcome.get('rows_loaded', 0):,} order "
                f"lines, now data version {outcome.get('data_version')}.",
                icon=":material/check_circle:",
            )
        for row in earlier:
            version = str(row.get("data_version"))
            text, action = st.columns([4, 1], vertical_alignment="center")
            # plain text: the source name comes from a user's file
            text.text(f"{version} · {loaded_at_text(row) or '?'} · {row.get('source')} · {_lines(row)}")
            if action.button("Restore", key=f"restore-{version}", icon=":material/history:"):
                st.session_state[PENDING_KEY] = version
                st.session_state.pop(RESULT_KEY, None)
        pending = st.session_state.get(PENDING_KEY)
        target = next((r for r in earlier if str(r.get("data_version")) == pending), None)
        if target is not None:
            _confirm(ctx, current, target)


def _confirm(ctx: context.Context, current: dict[str, Any], target: dict[str, Any]) -> None:
    version = str(target.get("data_version"))
    st.warning(
        f"Restore data version {version}? The current data ({_lines(current)}, version "
        f"{current.get('data_version')}) is replaced by {_lines(target)} loaded {loaded_at_text(target) or '?'}; "
        "every page shows the restored figures.",
        icon=":material/warning:",
    )
    has_token = need_token("to restore")
    yes, no = st.columns(2)
    confirmed = yes.button("Yes, restore", type="primary", key="restore-yes", disabled=not has_token)
    cancelled = no.button("Cancel", key="restore-cancel")
    if cancelled:
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()
    if not confirmed:
        return
    try:
        result = ctx.client.post(
            f"/api/data-versions/{version}/restore",
            token=session_token(),
            timeout=max(120.0, ctx.settings.request_timeout),
        )
    except ApiError as err:
        lines = [f"**Restore failed.** {err.message}"]
        if err.hint:
            lines.append(err.hint)
        st.error("\n\n".join(lines), icon=":material/error:")
        return
    st.session_state.pop(PENDING_KEY, None)
    st.session_state[RESULT_KEY] = result.data
    context.clear_cache()
    st.rerun()
