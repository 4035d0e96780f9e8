"""Render an ingest quality report (the dict ``salesdash.ingest`` builds) for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from salesdash.charts.format import count
from salesdash.markup import md


def _size(num_bytes: Any) -> str:
    try:
        size = float(num_bytes)
    except (TypeError, ValueError):
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


def quality_report(report: Mapping[str, Any], *, key: str, loaded: bool = True) -> None:
    """Rows read/loaded/rejected, the file, date range, notes and per-column empty cells. ``loaded=False`` for a
    checked file that is not loaded yet ("Rows to load", not "Rows loaded")."""
    if not report:
        st.info("No quality report for this data version.")
        return
    cols = st.columns(4)
    cols[0].metric("Rows read", count(report.get("rows_read")), border=True)
    cols[1].metric("Rows loaded" if loaded else "Rows to load", count(report.get("rows_loaded")), border=True)
    cols[2].metric("Rows rejected", count(report.get("rows_rejected")), border=True)
    distinct = report.get("distinct") or {}
    cols[3].metric("Orders in file", count(distinct.get("orders")), border=True)
    dates = report.get("date_range") or {}
    st.markdown(
        f"**File** {md(report.get('source', '?'))} · {_size(report.get('size_bytes'))} · encoding "
        f"{md(report.get('encoding', '?'))} · orders from **{md(dates.get('start', '?'))}** to "
        f"**{md(dates.get('end', '?'))}**"
    )
    if distinct:
        st.caption(" · ".join(f"{count(v)} {md(k.replace('_', ' '))}" for k, v in distinct.items()))
    for anomaly in report.get("anomalies") or []:
        st.warning(md(anomaly.get("message", "")), icon=":material/info:")
    for warning in report.get("warnings") or []:
        st.warning(md(warning), icon=":material/warning:")
    reasons = report.get("rejected_reasons") or {}
    if reasons:
        st.markdown("**Why rows were rejected**")
        st.dataframe(
            pd.DataFrame({"problem": list(reasons), "rows": list(reasons.values())}),
            hide_index=True,
            width="stretch",
            key=f"{key}-reasons",
        )
    empty = report.get("empty_cells") or {}
    if empty:
        with st.expander("Empty cells per column"):
            st.dataframe(
                pd.DataFrame({"column": list(empty), "empty cells": list(empty.values())}),
                hide_index=True,
                width="stretch",
                key=f"{key}-empty",
                column_config={"empty cells": st.column_config.NumberColumn(format="localized")},
            )
