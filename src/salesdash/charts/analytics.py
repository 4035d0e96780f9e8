"""Pure Plotly figures for the analytics views (forecast, RFM, period comparisons) and for exported charts.

Records in (the API's ``data``), ``go.Figure`` out; no Streamlit, no HTTP. The dashboard pages and the PNG/PDF
exports draw with these same functions, in the same palette and number format as :mod:`charts`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from salesdash.charts.describe import described, extremes
from salesdash.charts.figures import (
    OKABE_ITO,
    _layout,
    empty_figure,
    plot_height,
)
from salesdash.charts.format import (
    DASH,
    HOVER_MONTH,
    count,
    hover_count,
    hover_money,
    log_money_axis,
    money,
    money_short,
    percent,
    plural,
    text_room,
    value_axis,
)
from salesdash.charts.theme import LIGHT, Theme
from salesdash.markup import plotly_text
from salesdash.vocabulary import label

Records = Sequence[Mapping[str, Any]]
BAND_95 = "rgba(230, 159, 0, 0.18)"  # Okabe-Ito orange, light
BAND_80 = "rgba(230, 159, 0, 0.38)"
FORECAST = OKABE_ITO["vermillion"]
LEGEND_ROOM = 50  # px above the plot for the forecast legend's two rows (a note goes above them)
UNRELIABLE_BAND_95 = "rgba(120, 120, 120, 0.12)"  # a forecast whose verdict is not "reliable" is drawn grey
UNRELIABLE_BAND_80 = "rgba(120, 120, 120, 0.24)"
SEGMENT_COLORS = {
    "Champions": OKABE_ITO["green"],
    "Loyal": OKABE_ITO["blue"],
    "New": OKABE_ITO["sky_blue"],
    "At risk": OKABE_ITO["orange"],
    "Hibernating": LIGHT.grey,  # the theme's grey (see segment_color)
    "Need attention": OKABE_ITO["purple"],
}


def segment_color(segment: str, theme: Theme) -> str:
    """An RFM segment's colour: Okabe-Ito by segment, "Hibernating" in the theme's grey."""
    return theme.grey if segment == "Hibernating" else SEGMENT_COLORS.get(segment, theme.primary)


def _months(rows: Records) -> list[str]:
    return [str(r.get("period_start") or f"{r['period']}-01") for r in rows]


def forecast_chart(
    result: Mapping[str, Any],
    *,
    height: int = 420,
    show_backtest: bool = True,
    error_note: bool = True,
    theme: Theme = LIGHT,
) -> go.Figure:
    """Monthly revenue (actual), the forecast with its 80% and 95% prediction intervals as bands, and the
    backtest's forecasts for the last 6 known months (what the model would have said without them).
    ``error_note`` writes the backtest error above the plot (for files; a page shows it in its cards).

    A forecast whose ``reliability`` verdict is not ``reliable`` is drawn grey, named "Rough guess", with the
    verdict's reason above the plot: never a confident line."""
    history: Records = result.get("history") or []
    future: Records = result.get("forecast") or []
    if not history or not future:
        return empty_figure("No forecast for these filters", height=height, theme=theme)
    reliability: Mapping[str, Any] = result.get("reliability") or {}
    doubtful = reliability.get("verdict", "reliable") != "reliable"
    bands = (
        ((95, UNRELIABLE_BAND_95), (80, UNRELIABLE_BAND_80)) if doubtful else ((95, BAND_95), (80, BAND_80))
    )
    x_hist, x_future = _months(history), _months(future)
    # the bands start at the last actual month so that they join the history line
    last_x, last_y = x_hist[-1], history[-1]["revenue"]
    band_x = [last_x, *x_future]
    fig = go.Figure()
    for level, color in bands:
        upper = [last_y, *[r[f"upper_{level}"] for r in future]]
        lower = [last_y, *[r[f"lower_{level}"] for r in future]]
        fig.add_scatter(
            x=band_x + band_x[::-1],
            y=upper + lower[::-1],
            fill="toself",
            fillcolor=color,
            mode="lines",
            line={"width": 0},
            name=f"{level}% interval",
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=x_hist,
        y=[r["revenue"] for r in history],
        name="Actual revenue",
        mode="lines+markers",
        line={"color": theme.primary, "width": 2.5},
        marker={"size": 5},
        hovertemplate=HOVER_MONTH + "<br>Revenue: " + hover_money() + "<extra></extra>",
    )
    fig.add_scatter(
        x=band_x,
        y=[last_y, *[r["revenue"] for r in future]],
        name="Rough guess (not reliable)" if doubtful else "Forecast",
        mode="lines+markers",
        line={"color": theme.grey if doubtful else FORECAST, "width": 2.5, "dash": "dash"},
        marker={"size": 6},
        customdata=[
            [money_short(last_y)] * 4,
            *[[money_short(r[k]) for k in ("lower_80", "upper_80", "lower_95", "upper_95")] for r in future],
        ],
        hovertemplate=HOVER_MONTH + "<br>Forecast: " + hover_money() + "<br>80%: %{customdata[0]} to "
        "%{customdata[1]}<br>95%: %{customdata[2]} to %{customdata[3]}<extra></extra>",
    )
    backtest = result.get("backtest") or {}
    points: Records = backtest.get("points") or []
    if show_backtest and points:
        fig.add_scatter(
            x=[f"{p['period']}-01" for p in points],
            y=[p["forecast"] for p in points],
            name="Backtest forecast",
            mode="lines+markers",
            line={"color": theme.grey, "width": 1.5, "dash": "dot"},
            marker={"size": 5, "symbol": "x"},
            hovertemplate=HOVER_MONTH + "<br>Backtest forecast: " + hover_money() + "<extra></extra>",
        )
    _layout(fig, height=height, legend=True, hovermode="x unified", theme=theme)
    # legend entries sized up front: measured before the web font loads, they ran into each other
    fig.update_layout(legend={"entrywidth": 150})
    fig.update_xaxes(type="date", title=None)
    highest = max(
        [float(r["revenue"] or 0) for r in history]
        + [float(r.get("upper_95") or r["revenue"] or 0) for r in future]
        + [float(p["forecast"] or 0) for p in points if show_backtest]
    )
    fig.update_yaxes(title=None, **value_axis("currency", highest))
    described(fig, *_forecast_text(history, future, doubtful))
    if doubtful:
        _note_above(
            fig, _wrap("Not a reliable forecast: " + str(reliability.get("reason", "")), 110), theme.text, 68
        )
        return fig
    error = backtest.get("mape")
    if error is not None and error_note:
        text = f"Backtest error over the last {backtest.get('months', 6)} known months: MAPE {percent(error)}"
        text += f", weighted {percent(backtest['wape'])}" if backtest.get("wape") is not None else ""
        _note_above(fig, text, theme.grey, 36)
    return fig


def _note_above(fig: go.Figure, text: str, color: str, room: int) -> None:
    """A note over the plot, above the legend (``room`` px of top margin for its lines)."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=1.0,
        yanchor="bottom",
        yshift=LEGEND_ROOM,
        showarrow=False,
        font={"size": 12, "color": color},
        align="left",
    )
    fig.update_layout(margin={"t": room + LEGEND_ROOM})


def _forecast_text(history: Records, future: Records, doubtful: bool) -> tuple[str, list[dict[str, str]]]:
    """Summary and table of a forecast chart: the months forecast, their total and range, the last actual."""
    months = [str(r.get("period") or r.get("period_start", ""))[:7] for r in future]
    total = sum(float(r["revenue"]) for r in future)
    name = "Rough guess (not reliable)" if doubtful else "Forecast"
    summary = extremes(
        f"{name} of monthly revenue, {months[0]}"
        + (f" to {months[-1]}" if len(months) > 1 else "")
        + f" ({money_short(total)} in all)",
        [(m, r["revenue"]) for m, r in zip(months, future, strict=True)],
        money_short,
    )
    last = history[-1]
    summary += f"; last actual month {str(last.get('period') or last.get('period_start', ''))[:7]}"
    summary += f" at {money_short(last['revenue'])}"
    table = [
        {
            "Month": str(r.get("period") or r.get("period_start", ""))[:7],
            "Actual revenue": money(r["revenue"]),
            name: DASH,
            "80% interval": DASH,
            "95% interval": DASH,
        }
        for r in history
    ] + [
        {
            "Month": m,
            "Actual revenue": DASH,
            name: money(r["revenue"]),
            "80% interval": f"{money(r['lower_80'])} to {money(r['upper_80'])}",
            "95% interval": f"{money(r['lower_95'])} to {money(r['upper_95'])}",
        }
        for m, r in zip(months, future, strict=True)
    ]
    return summary, table


def _wrap(text: str, width: int) -> str:
    """Plain text broken into lines of at most ``width`` characters for a Plotly annotation (its only markup
    is <br>; the text itself is escaped)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(html.escape(line) for line in lines)


def rfm_segments_chart(segments: Records, *, height: int = 320, theme: Theme = LIGHT) -> go.Figure:
    """Customers per RFM segment (bars) labelled with the segment's share of revenue."""
    rows = [r for r in segments if r.get("customer_count")]
    if not rows:
        return empty_figure("No customers for these filters", height=height, theme=theme)
    names = [str(r["segment"]) for r in rows]
    # the segment's share of revenue goes under its name (a tick label has a reserved column, a bar label
    # beside a long bar was cut: "24.4% of revenu"); the bar says how many customers
    shares = [
        f"{percent(r['revenue_share'])} of revenue" if r.get("revenue_share") is not None else ""
        for r in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[r["customer_count"] for r in rows],
            y=names,
            orientation="h",
            marker={"color": [segment_color(r["segment"], theme) for r in rows]},
            # en spaces: air between the label and the bar's end (the web font can be wider than measured)
            text=["\u2002" + plural(r["customer_count"], "customer") + "\u2002" for r in rows],
            textposition="auto",
            insidetextanchor="end",
            constraintext="none",
            cliponaxis=False,
            customdata=[[money_short(r["revenue"]), share] for r, share in zip(rows, shares, strict=True)],
            hovertemplate="%{y}<br>Customers: " + hover_count("x") + "<br>Revenue: %{customdata[0]} "
            "(%{customdata[1]})<extra></extra>",
        )
    )
    _layout(fig, height=max(height, 44 * len(rows) + 52), theme=theme)
    # fixed room for the segment names (automargin gives up in narrow columns and cuts them)
    fig.update_layout(margin={"l": 128, "r": 12, "t": 8, "b": 44})
    fig.update_yaxes(
        autorange="reversed",
        showgrid=False,
        title=None,
        automargin=False,
        tickmode="array",
        tickvals=names,
        ticktext=[
            f"{name}<br><span style='font-size:11px;color:{theme.grey}'>{share}</span>"
            for name, share in zip(names, shares, strict=True)
        ],
    )
    largest = max(r["customer_count"] for r in rows)
    fig.update_xaxes(title="Customers", **value_axis("count", largest, whole=True))
    fig.update_traces(insidetextfont={"color": "white"}, outsidetextfont={"color": theme.text})
    summary = extremes(
        "Customers by RFM segment",
        [(str(r["segment"]), r["customer_count"]) for r in rows],
        lambda v: f"{count(v)} customer{'' if v == 1 else 's'}",
        share=lambda name: next(
            (
                f"{percent(r['revenue_share'])} of revenue"
                for r in rows
                if r["segment"] == name and r.get("revenue_share") is not None
            ),
            None,
        ),
        words=("largest", "smallest"),
    )
    table = [
        {
            "Segment": str(r["segment"]),
            "Customers": count(r["customer_count"]),
            label("revenue"): money(r.get("revenue")),
            "Share of revenue": percent(r.get("revenue_share")),
        }
        for r in rows
    ]
    return described(fig, summary, table)


def rfm_scatter(customers: Records, *, height: int = 420, theme: Theme = LIGHT) -> go.Figure:
    """Each customer: days since the last order (x) vs revenue (y, log scale), coloured by segment, sized by
    order count."""
    if not customers:
        return empty_figure("No customers for these filters", height=height, theme=theme)
    fig = go.Figure()
    for name in SEGMENT_COLORS:
        rows = [c for c in customers if c.get("segment") == name]
        if not rows:
            continue
        fig.add_scatter(
            x=[c["recency_days"] for c in rows],
            y=[c["monetary"] for c in rows],
            mode="markers",
            name=name,
            marker={
                "color": segment_color(name, theme),
                "size": [6 + 2 * min(int(c["frequency"]), 12) for c in rows],
                "line": {"color": theme.background, "width": 0.8},
                "opacity": 0.9,
            },
            customdata=[[plotly_text(c["customer_name"]), c["frequency"], c["rfm"]] for c in rows],
            hovertemplate="%{customdata[0]}<br>Last order " + hover_count("x") + " days before the data ends"
            "<br>Revenue: "
            + hover_money()
            + "<br>Orders: %{customdata[1]} · RFM %{customdata[2]}<extra></extra>",
        )
    _layout(fig, height=height, legend=True, theme=theme)
    # legend entries sized up front (measured before the web font loads, "Need attention" was cut); room
    # under the axis for its title
    fig.update_layout(legend={"entrywidth": 130}, margin={"b": 56})
    days = max(float(c["recency_days"] or 0) for c in customers)
    fig.update_xaxes(title="Days since the last order", **value_axis("count", days, whole=True))
    spent = [float(c["monetary"]) for c in customers if c.get("monetary")]
    fig.update_yaxes(title=None, **log_money_axis(min(spent, default=1), max(spent, default=1)))
    shown = sorted(customers, key=lambda c: float(c["monetary"] or 0), reverse=True)
    summary = extremes(
        f"Revenue of {len(customers):,} customers against days since their last order",
        [(str(c["customer_name"]), c["monetary"]) for c in shown],
        money_short,
    )
    table = [
        {
            "Customer": str(c["customer_name"]),
            "Segment": str(c.get("segment") or ""),
            "Days since the last order": count(c["recency_days"]),
            "Orders": count(c["frequency"]),
            "Revenue": money(c["monetary"]),
        }
        for c in shown
    ]
    return described(fig, summary, table)


def comparison_bars(
    comparison: Mapping[str, Any], metric: str = "revenue", *, height: int = 300, theme: Theme = LIGHT
) -> go.Figure:
    """Two bars: the current period and the period it is compared with, labelled with the change."""
    if not comparison:
        return empty_figure("No comparable period", height=height, theme=theme)
    values = comparison["metrics"][metric]
    current, previous = comparison["current_period"]["label"], comparison["comparison_period"]["label"]
    pct = values.get("change_pct")
    fig = go.Figure(
        go.Bar(
            x=[previous, current],
            y=[values["previous"], values["current"]],
            marker={"color": [theme.grey, theme.primary]},
            text=[money_short(values["previous"]), money_short(values["current"])],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>" + hover_money() + "<extra></extra>",
        )
    )
    _layout(fig, height=height, theme=theme)
    if pct is not None:
        arrow = "▲" if pct >= 0 else "▼"
        fig.update_layout(
            title={"text": f"{arrow} {percent(abs(pct))} vs {previous}", "x": 0, "font": {"size": 14}}
        )
        fig.update_layout(margin={"t": 40})
    top = max(float(values["previous"] or 0), float(values["current"] or 0)) or 1.0
    fig.update_yaxes(title=None, **value_axis("currency", top, headroom=text_room(1, plot_height(fig))))
    fig.update_xaxes(type="category", title=None)
    change = f" ({'up' if pct >= 0 else 'down'} {abs(pct) * 100:.1f}%)" if pct is not None else ""
    summary = (
        f"Revenue {current}: {money_short(values['current'])} against {money_short(values['previous'])} "
        f"in {previous}{change}"
    )
    table = [
        {"Period": str(previous), label("revenue"): money(values["previous"])},
        {"Period": str(current), label("revenue"): money(values["current"])},
    ]
    return described(fig, summary, table)


def empty_cells_chart(
    empty_cells: Mapping[str, int], rows_read: int, *, height: int | None = None, theme: Theme = LIGHT
) -> go.Figure:
    """Share of the rows read with an empty cell, for the columns that have any (most empty first)."""
    shown = sorted(((k, v) for k, v in empty_cells.items() if v), key=lambda kv: (-kv[1], kv[0]))
    if not shown or not rows_read:
        return empty_figure("No empty cells: every column is filled", height=height or 160, theme=theme)
    fig = go.Figure(
        go.Bar(
            x=[v / rows_read for _, v in shown],
            y=[k for k, _ in shown],
            orientation="h",
            marker={"color": theme.primary},
            text=[f"\u2002{count(v)} ({percent(v / rows_read)})" for _, v in shown],  # en space: air
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    _layout(fig, height=height or 34 * len(shown) + 70, theme=theme)
    # the labels sit outside the bars, in a right margin reserved for the longest one
    longest = max(len(f" {count(v)} ({percent(v / rows_read)})") for _, v in shown)
    fig.update_layout(margin={"l": 130, "r": int(7.2 * longest + 16), "t": 12, "b": 32})
    fig.update_yaxes(autorange="reversed", showgrid=False, title=None, automargin=False)
    fig.update_xaxes(title=None, **value_axis("ratio", max(v for _, v in shown) / rows_read))
    summary = extremes(
        f"Empty cells in {len(shown)} of the columns read ({rows_read:,} rows)",
        [(k, v) for k, v in shown],
        lambda v: f"{count(v)} ({percent(v / rows_read)})",
        words=("most", "fewest"),
    )
    table = [
        {"Column": k, "Empty cells": count(v), "Share of rows": percent(v / rows_read)} for k, v in shown
    ]
    return described(fig, summary, table)
