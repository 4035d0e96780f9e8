"""Data quality: what the last load read, loaded and rejected (and why), its encoding, empty cells per column,
the known anomalies (the PRICEEACH cap, partial periods, cancelled orders), the country codes used by the map,
and the history of loads. Everything from ``/api/data-quality``."""

from typing import Any

import streamlit as st

from salesdash.charts.analytics import empty_cells_chart
from salesdash.charts.format import TABLE_FORMATS, count, money, percent, period_name
from salesdash.dashboard.components import context
from salesdash.dashboard.components.layout import api_call, chart, page_header
from salesdash.dashboard.components.tables import FIT_ROWS
from salesdash.dashboard.components.theme import active as theme
from salesdash.markup import md, md_list

ANOMALY_TITLES = {
    "price_each_capped": "PRICEEACH is capped at 100.00",
    "sales_not_qty_times_price": "SALES differs from quantity x price",
    "partial_year": "Partial year",
    "cancelled_orders": "Cancelled orders",
    "unmapped_countries": "Countries without an ISO code",
}

ctx = context.current()
page_header(
    ctx,
    "Data quality",
    "How trustworthy the loaded data is: what the last load read, kept and rejected, and what is odd about it.",
    filtered=False,
)

result = ctx.fetch("/api/data-quality", {"limit": 50}, filtered=False)
data: dict[str, Any] = result.data if isinstance(result.data, dict) else {}
report: dict[str, Any] = data.get("report") or {}
rows_read = report.get("rows_read") or 0

with st.container(border=True):
    head, tools = st.columns([3, 1], vertical_alignment="bottom")
    head.subheader("Last load", anchor=False)
    with tools, st.container(horizontal=True, horizontal_alignment="right"):
        api_call(ctx, "/api/data-quality", {"limit": 50}, filtered=False)
    st.markdown(
        f"Data version **{md(data.get('data_version'))}** · loaded "
        f"{md(str(data.get('loaded_at', ''))[:19].replace('T', ' '))} UTC from {md(data.get('source'))} · encoding "
        f"{md(report.get('encoding', '?'))}"
    )
    cols = st.columns(4)
    cols[0].metric("Rows read", count(report.get("rows_read")), border=True)
    cols[1].metric("Rows loaded", count(report.get("rows_loaded")), border=True)
    rejected = report.get("rows_rejected") or 0
    cols[2].metric(
        "Rows rejected",
        count(rejected),
        delta=f"{percent(rejected / rows_read)} of rows read" if rows_read and rejected else None,
        delta_color="inverse",
        delta_arrow="off",
        border=True,
    )
    dates = report.get("date_range") or {}
    cols[3].metric(
        "Order dates",
        period_name(dates.get("start", "?")),
        delta=f"to {period_name(dates.get('end', '?'))}",
        delta_arrow="off",
        delta_color="off",
        border=True,
    )
    reasons = report.get("rejected_reasons") or {}
    if reasons:
        st.markdown("**Why rows were rejected**")
        st.dataframe(
            [{"problem": k, "rows": v} for k, v in reasons.items()],
            hide_index=True,
            width="stretch",
            key="quality-reasons",
        )
    elif report:
        st.caption("No row was rejected.")
    for warning in report.get("warnings") or []:
        st.warning(md(warning), icon=":material/warning:")

live = context.stream_info(ctx.client)
if live.get("batches") or live.get("dead_letters"):
    with st.container(border=True):
        st.subheader("Live order feed", anchor=False)
        st.caption(
            f"Stream `{live.get('stream')}` on subject `{live.get('subject')}`: each micro-batch is validated with "
            "the rules of a file load; refused messages go to the dead-letter subject with the reason."
        )
        cols = st.columns(4)
        cols[0].metric("Lines appended", count(live.get("lines_appended")), border=True)
        cols[1].metric("Re-sent lines skipped", count(live.get("duplicates_skipped")), border=True)
        cols[2].metric("Dead letters", count(live.get("dead_letters")), border=True)
        cols[3].metric("Batches", count(live.get("batches")), border=True)
        letters = live.get("recent_dead_letters") or []
        if letters:
            st.markdown("**Most recent dead letters**")
            st.dataframe(  # cells are text: a message never renders as markup
                [
                    {
                        "sequence": d.get("sequence"),
                        "received (UTC)": str(d.get("received_at", ""))[:19].replace("T", " "),
                        "reason": d.get("reason"),
                        "message": d.get("payload"),
                    }
                    for d in letters
                ],
                hide_index=True,
                width="stretch",
                key="quality-dead-letters",
            )
        if live.get("last_error") and live.get("active"):
            st.warning(f"The consumer reports: {live.get('last_error')}", icon=":material/sensors_off:")

with st.container(border=True):
    st.subheader("Known anomalies", anchor=False)
    anomalies = report.get("anomalies") or []
    if not anomalies:
        st.success("Nothing unusual was found in this load.", icon=":material/check_circle:")
    for anomaly in anomalies:
        code = anomaly.get("code", "")
        title = ANOMALY_TITLES.get(code, code.replace("_", " ").capitalize())
        message = str(anomaly.get("message", ""))
        # the message names values from the data (countries, product codes): literal text, never markup
        text = md(message) if message.startswith(title) else f"**{md(title)}.** {md(message)}"
        if code == "price_each_capped":
            text += (
                f" The difference is {money(anomaly.get('amount'))} of revenue; salesdash uses SALES, so revenue "
                "is right, but QUANTITYORDERED x PRICEEACH would understate it."
            )
        if code == "partial_year":
            months = anomaly.get("months") or []
            text += f" Months present: {md_list(months)}."
        (st.warning if code in ("price_each_capped", "unmapped_countries") else st.info)(
            text, icon=":material/info:"
        )

left, right = st.columns([3, 2])
with left, st.container(border=True):
    st.subheader("Empty cells per column", anchor=False)
    empty = report.get("empty_cells") or {}
    if empty and rows_read:
        chart(empty_cells_chart(empty, rows_read, theme=theme()), key="chart-empty-cells")
        complete = sorted(k for k, v in empty.items() if not v)
        if complete:
            st.caption(f"No empty cells in the other {len(complete)} columns: {md_list(complete)}.")
        st.caption(
            "Share of the rows read with an empty cell. Optional columns (ADDRESSLINE2, STATE) are often empty."
        )
with right, st.container(border=True):
    st.subheader("Country codes used by the map", anchor=False)
    codes = report.get("country_codes") or {}
    st.dataframe(
        [{"Country": k, "ISO-3": v or "not mapped"} for k, v in codes.items()],
        hide_index=True,
        width="stretch",
        key="quality-country-codes",
        height="content",  # every country, no half-drawn box
    )
    unmapped = [k for k, v in codes.items() if not v]
    st.caption(
        f"{len(codes) - len(unmapped)} of {len(codes)} countries mapped"
        + (f"; not on the map: {md_list(unmapped)}." if unmapped else ".")
    )

with st.container(border=True):
    st.subheader("Load history", anchor=False)
    history = data.get("history") or []
    # people's headers and number formats; the long data version last, so the readable columns fit
    st.dataframe(
        [
            {
                "Loaded (UTC)": str(h.get("loaded_at", ""))[:16].replace("T", " "),
                "Source": h.get("source"),
                "Mode": h.get("load_mode"),
                "Encoding": h.get("encoding"),
                "Rows read": h.get("rows_read"),
                "Rows rejected": h.get("rows_rejected"),
                "Order lines stored": h.get("row_count"),
                "Anomalies": h.get("anomalies"),
                "Data version": h.get("data_version"),
            }
            for h in history
        ],
        hide_index=True,
        width="stretch",
        key="quality-history",
        height="content" if len(history) <= FIT_ROWS else "auto",
        column_config={
            name: st.column_config.NumberColumn(name, format=TABLE_FORMATS["count"])
            for name in ("Rows read", "Rows rejected", "Order lines stored", "Anomalies")
        },
    )
