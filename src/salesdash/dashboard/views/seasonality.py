"""Seasonality: month x year heatmap, quarters compared across years, and like-for-like yearly growth."""

from typing import Any

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.theme import active as theme

ctx = context.current()
page_header(ctx, "Seasonality", "When sales happen: months, quarters and years side by side.")

with st.container(border=True):
    section(
        ctx,
        "Revenue by month and year",
        "/api/heatmap",
        help="Blank cells are months with no orders in view.",
    )
    with st.spinner("Loading the heatmap…"):
        heat = ctx.fetch("/api/heatmap")
    chart(
        charts.month_year_heatmap(heat.data or [], heat.meta.get("years"), theme=theme()), key="chart-heatmap"
    )
    st.caption("Blank = no orders in that month (for these filters), not zero.")

left, right = st.columns(2)
with left, st.container(border=True):
    section(ctx, "Quarters by year", "/api/quarterly-analysis")
    with st.spinner("Loading quarters…"):
        quarters = ctx.fetch("/api/quarterly-analysis")
    chart(charts.quarterly_comparison(quarters.data or [], theme=theme()), key="chart-quarters")
    if any(r.get("complete") is False for r in quarters.data or []):
        st.caption("Hatched bars: quarters the data covers only in part.")

with right, st.container(border=True):
    yearly_query = {"period": "yearly"}
    section(ctx, "Yearly growth", "/api/sales-over-time", yearly_query)
    with st.spinner("Loading years…"):
        years = list(ctx.fetch("/api/sales-over-time", yearly_query).data or [])
    # Each year's growth comes from the API's like-for-like year-over-year comparison for that year
    # (a partial year is compared with the same months a year earlier).
    bars: list[dict[str, Any]] = []
    notes: list[str] = []
    for row in years:
        year = int(str(row["period"])[:4])
        start = (
            max(ctx.filters.filters.start.isoformat(), f"{year}-01-01")
            if ctx.filters.filters.start
            else f"{year}-01-01"
        )
        end = (
            min(ctx.filters.filters.end.isoformat(), f"{year}-12-31")
            if ctx.filters.filters.end
            else f"{year}-12-31"
        )
        kpi = ctx.fetch("/api/kpis", {"start": start, "end": end})
        yoy = ((kpi.data or {}).get("growth") or {}).get("year_over_year") or {}
        change = (yoy.get("metrics") or {}).get("revenue") or {}
        current = yoy.get("current_period") or {}
        full_year = current.get("label") == str(year)
        bars.append(
            {
                "year": year,
                "revenue": row["revenue"],
                "growth": change.get("change_pct"),
                "partial": bool(current) and not full_year,
                "period_label": current.get("label", "").replace(f" {year}", ""),
            }
        )
        if yoy.get("label"):
            notes.append(yoy["label"])
    chart(charts.yearly_revenue(bars, theme=theme()), key="chart-years")
    if notes:
        st.caption(
            "Growth compares like with like (the year-over-year comparison of /api/kpis for each year): "
            + "; ".join(notes)
            + "."
        )
