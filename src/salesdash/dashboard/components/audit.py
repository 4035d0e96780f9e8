"""The audit log section of the Data page: the last writes (who, what, result, data version) from
``GET /api/audit``, with an action filter. Needs an admin token; every value is shown in a table (plain text)."""

from __future__ import annotations

import json

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.token import need_token, session_token

PAGE = 50


def audit_section(ctx: Context) -> None:
    with st.container(border=True):
        st.subheader("Audit log", anchor=False)
        st.caption(
            "Every write (uploads, reloads, token changes, schedules, alerts): when, which token (its id and "
            "role, never the token), what, the result and the data version after it. Needs an admin token."
        )
        if not need_token("to read the audit log"):
            return
        token = session_token()
        cols = st.columns([3, 1], vertical_alignment="bottom")
        action = str(cols[0].text_input("Action (e.g. data.refresh, schedule.)", key="audit_action") or "")
        page = int(cols[1].number_input("Page", min_value=1, value=1, step=1, key="audit_page"))
        query = {"limit": PAGE, "offset": (page - 1) * PAGE, "action": action.strip() or None}
        try:
            result = ctx.client.get("/api/audit", query, token=token)
        except ApiError as err:
            st.error("The audit log is not available.", icon=":material/error:")
            st.code(err.message, language=None, wrap_lines=True)
            return
        rows = result.data if isinstance(result.data, list) else []
        total = result.meta.get("total", len(rows))
        st.caption(f"{total:,} entries; page {page} of {max(1, -(-int(total) // PAGE))}.")
        st.dataframe(
            [
                {
                    "when (UTC)": str(r.get("recorded_at", "")).replace("T", " ").removesuffix("Z"),
                    "actor": r.get("actor"),
                    "token id": r.get("token_id"),
                    "role": r.get("role"),
                    "action": r.get("action"),
                    "result": r.get("result"),
                    "status": r.get("status"),
                    "data version": r.get("data_version"),
                    "parameters": json.dumps(r.get("parameters"), ensure_ascii=False),
                    "message": r.get("message") or "",
                }
                for r in rows
            ],
            hide_index=True,
            width="stretch",
            key="audit-log",
        )
