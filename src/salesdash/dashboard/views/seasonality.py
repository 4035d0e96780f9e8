"""Seasonality: month x year heatmap, quarters compared across years, and like-for-like yearly growth."""

from typing import Any

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.dashboard.components import context
from salesdash.dashboard.components.crossfilter import apply_dates, data_dates, period_chart, selectable_chart
from salesdash.dashboard.components.kpis import CARDS_QUERY, KPIS_PATH
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.live import live_view
from salesdash.dashboard.components.theme import active as theme
from salesdash.dashboard.selection import CALENDAR_PERIODS, END, START, calendar_period, quarter_change

ctx = context.current()


def _apply_picked() -> None:
    year, name = st.session_state.get("season-year"), st.session_state.get("season-period")
    if year is not None:
        apply_dates(ctx, *calendar_period(int(year), name or CALENDAR_PERIODS[0]))


page_header(ctx, "Seasonality", "When sales happen: months, quarters and years side by side.")


@live_view("seasonality-heatmap")
def heatmap() -> None:
    with st.container(border=True):
        section(
            ctx,
            "Revenue by month and year",
            "/api/heatmap",
            help="A month in view without orders is $0; blank cells are months outside the data's dates.",
        )
        with st.spinner("Loading the heatmap…"):
            heat = ctx.fetch("/api/heatmap")
        first, last = data_dates(ctx)  # every year of the data, whatever the date filter in view
        heat_years = list(range(first.year, last.year + 1)) if first and last else []
        heat_col, pick_col = st.columns([4, 1])
        with heat_col:
            chart(
                charts.month_year_heatmap(heat.data or [], heat.meta.get("years"), theme=theme()),
                key="chart-heatmap",
            )
            st.caption(
                "$0 = no orders in that month for these filters; blank = a month the data does not cover."
            )
        with pick_col:
            # a heatmap cell cannot be clicked in Streamlit (no selection events): the same choice, as a control
            st.markdown("**Filter to a period**")
            picked_year = st.selectbox(
                "Year", heat_years, index=len(heat_years) - 1 if heat_years else None, key="season-year"
            )
            st.selectbox("Period", CALENDAR_PERIODS, key="season-period")
            st.button(
                "Apply as filter",
                icon=":material/filter_alt:",
                on_click=_apply_picked,
                disabled=picked_year is None,
                help="Sets the From and To dates of every page to this period (a cell of the heatmap).",
                width="stretch",
            )


@live_view("seasonality-quarters")
def quarters_by_year() -> None:
    with st.container(border=True):
        section(ctx, "Quarters by year", "/api/quarterly-analysis")
        with st.spinner("Loading quarters…"):
            quarters = ctx.fetch("/api/quarterly-analysis")
        quarter_fig = charts.quarterly_comparison(quarters.data or [], theme=theme())
        names = [str(trace.name) for trace in quarter_fig.data]
        selectable_chart(
            ctx,
            quarter_fig,
            key="chart-quarters",
            sets=(START.param, END.param),
            pick=lambda points: quarter_change(points, names, data_dates(ctx)),
        )
        st.caption(
            "Click a bar to filter every page to that quarter."
            + (
                " Hatched bars: quarters the data covers only in part."
                if any(r.get("complete") is False for r in quarters.data or [])
                else ""
            )
        )


@live_view("seasonality-years")
def yearly_growth() -> None:
    with st.container(border=True):
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
            kpi = ctx.fetch(KPIS_PATH, {"start": start, "end": end, **CARDS_QUERY})
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
        period_chart(
            ctx, charts.yearly_revenue(bars, theme=theme()), years, "year", key="chart-years", brush=False
        )
        if notes:
            st.caption(
                "Click a bar to filter every page to that year. Growth compares like with like: "
                + "; ".join(notes)
                + "."
            )
            with st.expander("Details"):
                st.caption("Each year's growth is the year-over-year comparison of /api/kpis for that year.")


heatmap()
left, right = st.columns(2)
with left:
    quarters_by_year()
with right:
    yearly_growth()
