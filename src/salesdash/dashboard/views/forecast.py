"""Forecast: next months' revenue with 80% and 95% ranges, and how far off the model was on the last 6 known
months (all from ``/api/forecast``)."""

from typing import Any

import streamlit as st

from salesdash.charts.analytics import forecast_chart
from salesdash.charts.format import (
    DASH,
    TABLE_FORMATS,
    card_money,
    money_range,
    percent,
    period_name,
)
from salesdash.dashboard.client import ApiRequestError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.layout import chart, page_header, section
from salesdash.dashboard.components.live import live_view
from salesdash.dashboard.components.theme import active as theme
from salesdash.markup import md

ctx = context.current()
page_header(
    ctx,
    "Forecast",
    "Monthly revenue ahead, with the range it will fall in 80% and 95% of the time, and how far off the same "
    "model was on the last 6 months it had not seen.",
)

horizon = st.slider(
    "Months ahead", min_value=1, max_value=12, value=3, key="forecast_horizon", persist_state="session"
)


@live_view("forecast")
def forecast(horizon: int) -> None:
    """The cards, the chart and both tables: all from one answer (``/api/forecast``), so one view; the horizon
    above drives it (a change reruns the whole page)."""
    extra = {"horizon": horizon}
    try:
        with st.spinner("Fitting the forecast…"):
            result = ctx.fetch("/api/forecast", extra)
    except ApiRequestError as err:
        if err.code != "insufficient_data":
            raise
        st.info(f"**No forecast for this view.** {md(err.message)}", icon=":material/insights:")
        return

    rows: list[dict[str, Any]] = list(result.data or [])
    meta = result.meta
    backtest = meta.get("backtest") or {}
    history = [r for r in rows if r.get("kind") == "actual"]
    future = [r for r in rows if r.get("kind") == "forecast"]

    reliability = meta.get("reliability") or {}
    reliable = reliability.get("verdict") == "reliable"
    if not reliable:
        # the verdict's reason is the API's own sentence (numbers and fixed words, nothing from the data)
        st.warning(
            "**Not a reliable forecast: read it as a rough guess.** " + str(reliability.get("reason", "")),
            icon=":material/warning:",
        )

    first = future[0] if future else {}
    first_month = period_name(first["period"]) if first.get("period") else ""
    cards = st.columns(4)
    cards[0].metric(
        f"Forecast {first_month}" if reliable else f"Rough guess {first_month}",
        card_money(first.get("revenue")),
        delta=f"80%: {money_range(first.get('lower_80'), first.get('upper_80'))}",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="The most likely revenue of the next month, and the range it falls in 80% of the time."
        + ("" if reliable else " Not reliable: see the warning above."),
    )
    mape = meta.get("mape")
    cards[1].metric(
        "Backtest error (MAPE)",
        percent(mape) if mape is not None else DASH,
        delta=f"last {backtest.get('months', 6)} months",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="The model refitted without the last 6 known months forecast them; this is its average percentage "
        "error. Months with no revenue are left out.",
    )
    wape = meta.get("wape")
    cards[2].metric(
        "Weighted error",
        percent(wape) if wape is not None else DASH,
        delta="errors / revenue",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Sum of the backtest's absolute errors over the sum of revenue: one month with tiny revenue cannot "
        "dominate it (unlike MAPE).",
    )
    cards[3].metric(
        "Model",
        "Holt-Winters" if meta.get("model") == "holt_winters" else "Holt",
        delta=f"{meta.get('history_months', '?')} months of history",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=md(meta.get("model_label", "")) + ". " + md(meta.get("model_reason", "")),
    )

    with st.container(border=True):
        section(ctx, "Monthly revenue and forecast", "/api/forecast", extra)
        chart(
            forecast_chart(
                {"history": history, "forecast": future, "backtest": backtest, "reliability": reliability},
                error_note=False,
                theme=theme(),
            ),
            key="chart-forecast",
        )
        st.caption(md(" ".join([str(meta.get("model_reason", "")), *(meta.get("notes") or [])])))
        if meta.get("model_label"):
            with st.expander("Details"):
                st.caption(f"Model: {md(meta['model_label'])}.")

    left, right = st.columns(2)
    with left, st.container(border=True):
        st.subheader("Forecast by month", anchor=False)
        st.dataframe(
            [
                {
                    "Month": period_name(r["period"]),
                    "Forecast": r["revenue"],
                    "80% range": money_range(r["lower_80"], r["upper_80"]),
                    "95% range": money_range(r["lower_95"], r["upper_95"]),
                }
                for r in future
            ],
            hide_index=True,
            width="stretch",
            key="table-forecast",
            column_config={"Forecast": st.column_config.NumberColumn(format=TABLE_FORMATS["currency"])},
        )
    with right, st.container(border=True):
        st.subheader("Backtest: forecast vs what happened", anchor=False)
        st.dataframe(
            [
                {
                    "Month": period_name(p["period"]),
                    "Actual": p["actual"],
                    "Forecast": p["forecast"],
                    # a month without revenue has no percentage error: say so, never show a blank or "None"
                    "Error": percent(p["abs_pct_error"]) if p["abs_pct_error"] is not None else "no revenue",
                }
                for p in backtest.get("points") or []
            ],
            hide_index=True,
            width="stretch",
            key="table-backtest",
            column_config={
                "Actual": st.column_config.NumberColumn(format=TABLE_FORMATS["currency"]),
                "Forecast": st.column_config.NumberColumn(format=TABLE_FORMATS["currency"]),
            },
        )
        if backtest.get("note"):
            st.caption(md(backtest["note"]))


forecast(horizon)
