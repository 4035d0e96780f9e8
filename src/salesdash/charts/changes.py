"""Comparison charts (pure Plotly): each year over the same months (the "Compare years" overlay of sales over
time), top movers (diverging bars) and the list-price gap. Records in (the API's rows), ``go.Figure`` out."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from salesdash.charts.figures import (
    GREY,
    OKABE_ITO,
    PALETTE,
    PRIMARY,
    TEXT,
    Records,
    _layout,
    _money_axis,
    empty_figure,
    note_below,
)
from salesdash.charts.format import money_short, percent, signed_percent
from salesdash.markup import plotly_text

OVERLAY_GRAINS = ("month", "quarter")
GAIN = OKABE_ITO["blue"]
LOSS = OKABE_ITO["vermillion"]
OVERLAY_NOTE = "Open marker, dotted line: a partial period or year (the dates in view cover only part of it)"
GAP_NOTE = "List-price gap = revenue (SALES) - MSRP x units. Not a profit margin: the data has no cost."


def _slot(grain: str, start: str) -> tuple[int, str]:
    """The position of a period inside its year (month 1-12 or quarter 1-4) and its axis label."""
    month = int(start[5:7])
    if grain == "quarter":
        quarter = (month - 1) // 3 + 1
        return quarter, f"Q{quarter}"
    return month, calendar.month_abbr[month]


def year_span(grain: str, rows: list[Mapping[str, Any]]) -> str:
    """What part of its year a line covers: "Jan-May" or "Q1-Q2" (a whole year says nothing)."""
    first, last = (
        _slot(grain, str(rows[0]["period_start"]))[1],
        _slot(grain, str(rows[-1]["period_start"]))[1],
    )
    return first if first == last else f"{first}-{last}"


def year_overlay(records: Records, grain: str = "month", *, height: int = 360) -> go.Figure:
    """Revenue per month (or quarter) with one line per year over the same January-December axis, so a month
    is read against the same month of the other years. A year the dates in view cover only in part (the
    sample's 2005: January-May) is named with its months and drawn dotted, its partial periods with open
    markers; its line stops where the data stops (no period is extrapolated or filled in)."""
    if grain not in OVERLAY_GRAINS:
        raise ValueError(f"the year overlay is drawn per month or quarter, not per {grain}")
    if not records:
        return empty_figure(height=height)
    slots = 12 if grain == "month" else 4
    labels = [_slot(grain, f"2000-{m:02d}-01")[1] for m in range(1, 13, 12 // slots)]
    years: dict[int, list[Mapping[str, Any]]] = {}
    for r in records:
        years.setdefault(int(str(r["period_start"])[:4]), []).append(r)
    fig = go.Figure()
    newest = max(years)
    for i, (year, rows) in enumerate(sorted(years.items(), reverse=True)):
        rows = sorted(rows, key=lambda r: str(r["period_start"]))
        partial = [r.get("complete") is False for r in rows]
        whole = len(rows) == slots and not any(partial)
        name = str(year) if whole else f"{year} ({year_span(grain, rows)}, partial)"
        color = PRIMARY if year == newest else PALETTE[1 + (i - 1) % (len(PALETTE) - 1)]
        fig.add_scatter(
            x=[_slot(grain, str(r["period_start"]))[1] for r in rows],
            y=[r["revenue"] for r in rows],
            name=name,
            mode="lines+markers",
            line={"color": color, "width": 2.5 if year == newest else 2, "dash": "solid" if whole else "dot"},
            marker={
                "size": [9 if p else 7 for p in partial],
                "symbol": ["circle-open" if p else "circle" for p in partial],
                "line": {"width": 2, "color": color},
            },
            customdata=[
                [str(r["period"]), " (partial)" if p else ""] for r, p in zip(rows, partial, strict=True)
            ],
            hovertemplate="%{customdata[0]}%{customdata[1]}: $%{y:,.2f}<extra></extra>",
        )
    _layout(fig, height=height, legend=True, hovermode="x unified")
    fig.update_layout(legend={"entrywidth": 170, "traceorder": "normal"})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, range=[-0.5, slots - 0.5])
    top = max(float(r["revenue"] or 0) for r in records)
    fig.update_yaxes(**_money_axis({"title": None, "range": [0, top * 1.08 if top > 0 else 1]}))
    if any(r.get("complete") is False for r in records) or any(len(v) < slots for v in years.values()):
        note_below(fig, OVERLAY_NOTE)
    return fig


def mover_label(row: Mapping[str, Any]) -> str:
    """A mover's bar label: its change and change % ("new" when it had no revenue a year earlier)."""
    amount = money_short(row["revenue_change"])
    if not str(amount).startswith("-"):
        amount = "+" + amount
    pct = row.get("revenue_change_pct")
    return f"{amount} ({'new' if pct is None else signed_percent(pct)})"


def _diverging(
    names: list[str],
    values: list[float],
    labels: list[str],
    hover: list[str],
    *,
    height: int | None,
    money: bool,
) -> go.Figure:
    """Horizontal bars either side of zero (gains right in blue, losses left in vermillion), labelled."""
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[plotly_text(n) for n in names],
            orientation="h",
            marker={"color": [GAIN if v >= 0 else LOSS for v in values]},
            text=["\u2002" + t + "\u2002" for t in labels],
            textposition="outside",
            outsidetextfont={"color": TEXT, "size": 12},
            constraintext="none",
            cliponaxis=False,
            customdata=hover,
            hovertemplate="%{y}<br>%{customdata}<extra></extra>",
        )
    )
    _layout(fig, height=height or max(220, 34 * len(names) + 50))
    longest = max(len(n) for n in names)
    fig.update_layout(margin={"l": int(min(260, 7.4 * longest + 22)), "r": 16, "t": 8, "b": 28})
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", ticksuffix="  ", title=None)
    reach = max(abs(float(v)) for v in values) or 1.0
    # room either side for the labels, which sit outside each bar's end
    low = min(0.0, min(values)) - (reach * 0.75 if min(values) < 0 else 0)
    high = max(0.0, max(values)) + (reach * 0.75 if max(values) > 0 else 0)
    axis = _money_axis() if money else {"tickformat": ".0%"}
    fig.update_xaxes(
        title=None, range=[low, high], zeroline=True, zerolinecolor=GREY, zerolinewidth=1, **axis
    )
    return fig


def movers_chart(records: Records, key: str, *, height: int | None = None) -> go.Figure:
    """Top movers as diverging bars: the revenue change of each group, largest gains at the top, largest
    losses at the bottom, each labelled with its change and change % ("new": nothing a year earlier)."""
    rows = sorted(
        (r for r in records if r.get("revenue_change") is not None), key=lambda r: -r["revenue_change"]
    )
    if not rows:
        return empty_figure("No comparison period for these filters", height=height or 260)
    hover = [
        f"Now: {money_short(r['current_revenue'])} · a year earlier: {money_short(r['previous_revenue'])}"
        for r in rows
    ]
    return _diverging(
        [str(r[key]) for r in rows],
        [float(r["revenue_change"]) for r in rows],
        [mover_label(r) for r in rows],
        hover,
        height=height,
        money=True,
    )


def gap_label(row: Mapping[str, Any]) -> str:
    gap = float(row["list_price_gap"])
    side = "above" if gap >= 0 else "below"
    return f"{signed_percent(row['list_price_gap_pct'])} ({money_short(abs(gap))} {side} list)"


def list_price_gap_chart(
    records: Records, key: str = "product_line", *, limit: int | None = 20, height: int | None = None
) -> go.Figure:
    """The list-price gap % per product line (or product code) as diverging bars: right of zero = sold above
    list price, left = below; at most ``limit`` rows, the largest gaps in money. Says it is not a margin."""
    rows = [r for r in records if r.get("list_price_gap_pct") is not None]
    rows = sorted(rows, key=lambda r: -abs(float(r["list_price_gap"])))[:limit] if limit else rows
    rows = sorted(rows, key=lambda r: -float(r["list_price_gap_pct"]))
    if not rows:
        return empty_figure("No order lines with an MSRP for these filters", height=height or 260)
    hover = [
        f"Revenue {money_short(r['revenue'])} · at list price {money_short(r['list_price_revenue'])}"
        f" · {percent(abs(r['list_price_gap_pct']))} {'above' if r['list_price_gap'] >= 0 else 'below'} list"
        for r in rows
    ]
    fig = _diverging(
        [str(r[key]) for r in rows],
        [float(r["list_price_gap_pct"]) for r in rows],
        [gap_label(r) for r in rows],
        hover,
        height=height,
        money=False,
    )
    note_below(fig, GAP_NOTE)
    return fig
