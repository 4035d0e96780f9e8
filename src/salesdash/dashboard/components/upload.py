"""The upload flow of the Data page: upload a CSV -> the API validates it -> quality report and preview ->
the admin confirms "replace" or "append" -> the new data version. Two API calls: ``POST /api/uploads`` and
``POST /api/uploads/<id>/confirm``; nothing is loaded before the confirmation."""

from __future__ import annotations

from typing import Any

import streamlit as st

from salesdash.charts.format import count
from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.quality import quality_report
from salesdash.markup import md

PENDING = "_salesdash_upload_pending"
DONE = "_salesdash_upload_done"
MODES = {
    "replace": "Replace the data with this file",
    "append": "Append these lines to the data",
}
UPLOAD_TIMEOUT = 300.0


def _error(title: str, err: ApiError) -> None:
    lines = [f"**{title}** {md(err.message)}"]
    if err.hint:
        lines.append(err.hint)
    for detail in err.details[:12]:
        where = ", ".join(
            f"{k} {md(v)}"
            for k, v in detail.items()
            if k in ("line", "column", "order_number", "order_line_number")
        )
        message = md(detail.get("message", ""))
        lines.append(f"- {where}: {message}" if where else f"- {message}")
    if len(err.details) > 12:  # the API lists at most 100; the message states the exact number
        lines.append("- … (the first 12 are shown; the message above gives the exact number)")
    st.error("\n".join(lines), icon=":material/error:")


def _token() -> str:
    return str(st.session_state.get("upload_token") or "").strip()


def _validate(ctx: Context, name: str, content: bytes, skip_invalid: bool) -> None:
    try:
        with st.spinner("Validating the file: reading, checking every row, building the report…"):
            result = ctx.client.post(
                "/api/uploads" + ("?on_error=skip" if skip_invalid else ""),
                token=_token(),
                files={"file": (name, content, "text/csv")},
                timeout=UPLOAD_TIMEOUT,
            )
    except ApiError as err:
        _error("The file was not accepted.", err)
        return
    st.session_state[PENDING] = result.data
    st.session_state.pop(DONE, None)


def _confirm(ctx: Context, pending: dict[str, Any], mode: str) -> None:
    try:
        with st.spinner("Loading the file into salesdash…"):
            result = ctx.client.post(
                str(pending["confirm"]).removeprefix("/"),
                token=_token(),
                json={"mode": mode},
                timeout=UPLOAD_TIMEOUT,
            )
    except ApiError as err:
        _error("Nothing was loaded.", err)
        if err.status == 404:
            st.session_state.pop(PENDING, None)
        return
    st.session_state[DONE] = result.data
    st.session_state.pop(PENDING, None)
    context.clear_cache()
    st.rerun()


def _preview(pending: dict[str, Any]) -> None:
    report = pending.get("report") or {}
    st.markdown(
        f"**{md(pending.get('source'))}** passed validation: {count(pending.get('rows'))} order lines ready to load "
        f"(kept until {str(pending.get('expires_at', ''))[:16].replace('T', ' ')} UTC)."
    )
    quality_report(report, key="upload-report", loaded=False)
    st.markdown("**First lines, as they will be stored**")
    st.dataframe(
        pending.get("preview") or [],
        hide_index=True,
        width="stretch",
        key="upload-preview",
        column_order=pending.get("preview_columns") or None,
    )


def upload_flow(ctx: Context) -> None:
    with st.container(border=True):
        st.subheader("Upload a CSV", anchor=False)
        st.caption(
            "Check a file before it changes anything: salesdash validates it and shows its quality report and "
            "first lines; you then replace the data with it, or append its lines (lines already stored are "
            "refused). Needs an admin token."
        )
        done = st.session_state.get(DONE)
        if isinstance(done, dict):
            st.success(
                f"Loaded **{count(done.get('rows_loaded'))}** lines from {md(done.get('source'))} "
                f"({'appended' if done.get('mode') == 'append' else 'replaced the data'}). "
                f"New data version **{md(done.get('data_version'))}** with {count(done.get('row_count'))} order "
                f"lines (was {md(done.get('previous_data_version') or 'none')}).",
                icon=":material/check_circle:",
            )
        st.text_input(
            "Admin token",
            type="password",
            key="upload_token",
            autocomplete="off",
            placeholder="Paste an admin token",
        )
        file = st.file_uploader("CSV of order lines", type=["csv"], key="upload_file")
        skip = st.checkbox(
            "Skip invalid rows (load the valid ones and report the others)", key="upload_skip_invalid"
        )
        if st.button(
            "Validate the file", icon=":material/fact_check:", disabled=file is None, key="upload_check"
        ):
            if not _token():
                st.error("Enter an admin token first.", icon=":material/key:")
            elif file is not None:
                _validate(ctx, file.name, file.getvalue(), skip)

        pending = st.session_state.get(PENDING)
        if not isinstance(pending, dict):
            return
        _preview(pending)
        check = pending.get("append_check") or {}
        if not check.get("can_append", True):
            st.warning(
                f"Appending is not possible: {count(check.get('duplicate_lines'))} line(s) are already stored "
                f"and {count(check.get('contradicting_lines'))} contradict their stored order. Replace the "
                "data, or remove those lines from the file.",
                icon=":material/content_copy:",
            )
        # an append the check already knows will be refused is not offered
        options = list(MODES) if check.get("can_append", True) else ["replace"]
        mode = st.radio(
            "How to load it",
            options,
            format_func=MODES.__getitem__,
            key="upload_mode",
            horizontal=True,
        )
        go, cancel = st.columns([1, 1])
        if go.button("Load into salesdash", type="primary", icon=":material/upload:", key="upload_confirm"):
            if not _token():
                st.error("Enter an admin token first.", icon=":material/key:")
            else:
                _confirm(ctx, pending, str(mode))
        if cancel.button("Discard", icon=":material/close:", key="upload_discard"):
            st.session_state.pop(PENDING, None)
            st.rerun()
