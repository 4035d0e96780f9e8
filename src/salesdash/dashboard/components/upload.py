"""The upload flow of the Data page: upload a CSV -> the API validates it -> quality report and preview ->
the admin confirms "replace" or "append" -> the new data version. Two API calls: ``POST /api/uploads`` and
``POST /api/uploads/<id>/confirm``; nothing is loaded before the confirmation."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from salesdash.charts.format import count, money
from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.context import Context
from salesdash.dashboard.components.quality import quality_report
from salesdash.dashboard.components.token import need_token, session_token
from salesdash.markup import md

PENDING = "_salesdash_upload_pending"
DONE = "_salesdash_upload_done"
CONFIRM_KEY = "upload_replace_confirmed"
# the rows of the before/after table: (label, field of replace_check's sides, formatter)
FIGURES = (
    ("Order lines (all statuses)", "line_count", count),
    ("Revenue", "revenue", money),
    ("Orders", "order_count", count),
    ("Customers", "customer_count", count),
    ("Average order value", "average_order_value", money),
)
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


def _validate(ctx: Context, name: str, content: bytes, skip_invalid: bool) -> None:
    try:
        with st.spinner("Validating the file: reading, checking every row, building the report…"):
            result = ctx.client.post(
                "/api/uploads" + ("?on_error=skip" if skip_invalid else ""),
                token=session_token(),
                files={"file": (name, content, "text/csv")},
                timeout=UPLOAD_TIMEOUT,
            )
    except ApiError as err:
        _error("The file was not accepted.", err)
        return
    st.session_state[PENDING] = result.data
    st.session_state[CONFIRM_KEY] = False  # a new file needs its own confirmation
    st.session_state.pop(DONE, None)


def _confirm(ctx: Context, pending: dict[str, Any], mode: str) -> None:
    try:
        with st.spinner("Loading the file into salesdash…"):
            result = ctx.client.post(
                str(pending["confirm"]).removeprefix("/"),
                token=session_token(),
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


def _dates(side: dict[str, Any]) -> str:
    return f"{side.get('first_date') or '?'} to {side.get('last_date') or '?'}"


def replace_summary(check: dict[str, Any]) -> None:
    """The data now vs after a replace (figures and date range), and what disappears (``replace_check``)."""
    now, after = check.get("current"), check.get("upload") or {}
    if not now:
        st.markdown("Nothing is stored yet: the file becomes the data.")
        return
    rows = {label: [fmt(now.get(field)), fmt(after.get(field))] for label, field, fmt in FIGURES}
    rows["Order dates"] = [_dates(now), _dates(after)]
    # a static table (six rows, our own formatted numbers): readable at a glance and in a screenshot
    st.table(pd.DataFrame.from_dict(rows, orient="index", columns=["now", "after the replace"]))
    st.caption("Revenue, orders and customers leave Cancelled orders out, as on every page.")
    gone = check.get("disappearing") or {}
    lost = [
        (what, gone.get(key) or {})
        for what, key in (("orders", "orders"), ("customers", "customers"), ("months", "months"))
    ]
    lost = [(what, item) for what, item in lost if item.get("count")]
    if not lost:
        st.markdown("Every order, customer and month stored now is also in the file.")
        return
    lines = ["**Disappear after the replace** (stored now, absent from the file):"]
    for what, item in lost:
        examples = " · ".join(md(e) for e in item.get("examples") or [])  # customer names hold commas
        more = " …" if int(item.get("count") or 0) > len(item.get("examples") or []) else ""
        lines.append(f"- {count(item.get('count'))} {what}: {examples}{more}")
    st.warning("\n".join(lines), icon=":material/delete_sweep:")


def _append_refusal(check: dict[str, Any]) -> str:
    """Why an append would be refused, with the exact numbers."""
    parts = []
    if check.get("duplicate_lines"):
        parts.append(
            f"{count(check.get('duplicate_lines'))} of the file's order lines are already stored (the same "
            "ORDERNUMBER and ORDERLINENUMBER; a line is stored once)"
        )
    if check.get("contradicting_lines"):
        parts.append(
            f"{count(check.get('contradicting_lines'))} line(s) belong to stored orders but disagree with them "
            "(an order has one customer, date and status)"
        )
    return (
        "Append is not possible: "
        + "; ".join(parts)
        + ". Replace the data, or remove those lines from the file."
    )


def upload_flow(ctx: Context) -> None:
    with st.container(border=True):
        st.subheader("Upload a CSV", anchor=False)
        st.caption(
            "Check a file before it changes anything: salesdash validates it and shows its quality report, its "
            "first lines and what a replace would change; you then replace the data with it, or append its lines "
            "(lines already stored are refused). Needs an admin token."
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
        has_token = need_token("to upload")
        file = st.file_uploader("CSV of order lines", type=["csv"], key="upload_file")
        skip = st.checkbox(
            "Skip invalid rows (load the valid ones and report the others)", key="upload_skip_invalid"
        )
        if (
            st.button(
                "Validate the file",
                icon=":material/fact_check:",
                disabled=file is None or not has_token,
                key="upload_check",
            )
            and file is not None
        ):
            _validate(ctx, file.name, file.getvalue(), skip)

        pending = st.session_state.get(PENDING)
        if not isinstance(pending, dict):
            return
        _preview(pending)
        replace_box, append_box = st.columns(2)
        with replace_box.container(border=True):
            st.markdown("##### Replace the data with this file")
            replace_summary(pending.get("replace_check") or {})
            confirmed = st.checkbox(
                "I understand: the current data is replaced by this file (a restore can bring it back).",
                key=CONFIRM_KEY,
            )
            if st.button(
                "Replace the data",
                type="primary",
                icon=":material/swap_horiz:",
                key="upload_replace",
                disabled=not (confirmed and has_token),
            ):
                _confirm(ctx, pending, "replace")
        check = pending.get("append_check") or {}
        can_append = bool(check.get("can_append", True))
        with append_box.container(border=True):
            st.markdown("##### Append these lines")
            if can_append:
                st.markdown(
                    f"Adds {count(pending.get('rows'))} order lines to the stored ones; none is stored yet."
                )
            else:
                st.warning(_append_refusal(check), icon=":material/content_copy:")
            if st.button(
                "Append the lines",
                icon=":material/playlist_add:",
                key="upload_append",
                disabled=not (can_append and has_token),
            ):
                _confirm(ctx, pending, "append")
        if st.button("Discard the upload", icon=":material/close:", key="upload_discard"):
            st.session_state.pop(PENDING, None)
            st.rerun()
