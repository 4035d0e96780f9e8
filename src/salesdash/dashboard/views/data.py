"""Data: which data is loaded (version, load time, quality report) and a manual refresh for admins."""

from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.audit import audit_section
from salesdash.dashboard.components.layout import api_call, page_header
from salesdash.dashboard.components.quality import quality_report
from salesdash.dashboard.components.refresh import loaded_at_text
from salesdash.dashboard.components.restore import restore_section
from salesdash.dashboard.components.token import need_token, session_token
from salesdash.dashboard.components.upload import upload_flow
from salesdash.markup import md

RESULT_KEY = "_salesdash_refresh_result"

ctx = context.current()
page_header(ctx, "Data", "What the numbers are computed from, and how to reload it.", filtered=False)

current: dict[str, Any] = {}
rows: list[dict[str, Any]] = []
history_error: ApiError | None = None
try:
    history = ctx.fetch("/api/data-versions", {"limit": 10}, filtered=False)
    rows = history.data if isinstance(history.data, list) else []
    current = rows[0] if rows else {}
except ApiError as err:
    history_error = err

with st.container(border=True):
    head, tools = st.columns([3, 1], vertical_alignment="bottom")
    head.subheader("Loaded data", anchor=False)
    with tools, st.container(horizontal=True, horizontal_alignment="right"):
        api_call(ctx, "/api/data-versions", {"limit": 10}, filtered=False)
    st.markdown(f"Data version **{md(ctx.data_version)}**")
    cols = st.columns(3)
    cols[0].metric("Loaded", loaded_at_text(current) or "–", border=True)
    # st.metric renders its value as Markdown too
    cols[1].metric("Source", md(str(current.get("source") or "–").rsplit("/", 1)[-1]), border=True)
    rows_loaded = current.get("row_count")
    cols[2].metric("Order lines", f"{rows_loaded:,}" if isinstance(rows_loaded, int) else "–", border=True)
    if history_error is not None:
        st.caption(f"Load details are not available from this API: {md(history_error.message)}")
    report = current.get("report") if isinstance(current.get("report"), dict) else None
    if report:
        st.markdown("##### Quality report of this load")
        quality_report(report, key="current-report")
    if len(rows) > 1:
        with st.expander(f"Previous loads ({len(rows) - 1})"):
            st.dataframe(
                [
                    {
                        "data version": r.get("data_version"),
                        "loaded": loaded_at_text(r),
                        "source": r.get("source"),
                        "order lines": r.get("row_count"),
                    }
                    for r in rows[1:]
                ],
                hide_index=True,
                width="stretch",
                key="load-history",
            )

with st.container(border=True):
    st.subheader("Reload the data", anchor=False)
    st.caption(
        "Re-runs the ETL on the API's configured source (SALESDASH_SOURCE_PATH). The file is validated first; "
        "if it fails, nothing changes. Needs an admin token (`salesdash token create --role admin`)."
    )
    has_token = need_token("to reload")
    if st.button(
        "Reload data", icon=":material/sync:", type="primary", key="refresh-reload", disabled=not has_token
    ):
        try:
            with st.spinner("Reloading: reading, validating and loading the source…"):
                result = ctx.client.post(
                    "/api/data-refresh",
                    token=session_token(),
                    timeout=max(120.0, ctx.settings.request_timeout),
                )
        except ApiError as err:
            lines = [f"**Reload failed.** {md(err.message)}"]
            if err.hint:
                lines.append(err.hint)
            lines += [f"- {md(d.get('message', ''))}" for d in err.details[:10]]
            st.error("\n\n".join(lines), icon=":material/error:")
        else:
            st.session_state[RESULT_KEY] = result.data
            context.clear_cache()
            st.rerun()
    outcome = st.session_state.get(RESULT_KEY)
    if isinstance(outcome, dict):
        st.success(
            f"Loaded **{outcome.get('rows_loaded', 0):,}** rows from {md(outcome.get('source', '?'))} as data "
            f"version **{md(outcome.get('data_version'))}** (was {md(outcome.get('previous_data_version') or 'none')}).",
            icon=":material/check_circle:",
        )
        quality_report(outcome.get("report") or {}, key="refresh-report")

restore_section(ctx, rows)
upload_flow(ctx)
audit_section(ctx)
