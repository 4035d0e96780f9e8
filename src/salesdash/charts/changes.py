"""Comparison charts (pure Plotly): each year over the same months (the "Compare years" overlay of sales over
time), top movers (diverging bars) and the list-price gap. Records in (the API's rows), ``go.Figure`` out."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

from salesdash.charts.describe import described, extremes
from salesdash.charts.figures import (
    OKABE_ITO,
    Records,
    _layout,
    empty_figure,
    note_below,
)
from salesdash.charts.format import (
    hover_money,
    money,
    money_short,
    percent,
    signed_percent,
    span_axis,
    value_axis,
)
from salesdash.charts.theme import LIGHT, Theme
from salesdash.markup import plotly_text
from salesdash.vocabulary import label

OVERLAY_GRAINS = ("month", "quarter")
GAIN = OKABE_ITO["blue"]
LOSS = OKABE_ITO["vermillion"]
OVERLAY_NOTE = "Open marker, dotted line: a partial period or year (the dates in view cover only part of it)"
GAP_NOTE = "Revenue (SALES) vs MSRP x units. Not a profit margin."


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


def year_overlay(
    records: Records, grain: str = "month", *, height: int = 360, theme: Theme = LIGHT
) -> go.Figure:
    """Revenue per month (or quarter) with one line per year over the same January-December axis, so a month
    is read against the same month of the other years. A year the dates in view cover only in part (the
    sample's 2005: January-May) is named with its months and drawn dotted, its partial periods with open
    markers; its line stops where the data stops (no period is extrapolated or filled in)."""
    if grain not in OVERLAY_GRAINS:
        raise ValueError(f"the year overlay is drawn per month or quarter, not per {grain}")
    if not records:
        return empty_figure(height=height, theme=theme)
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
        color = theme.primary if year == newest else theme.palette[1 + (i - 1) % (len(theme.palette) - 1)]
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
            hovertemplate="%{customdata[0]}%{customdata[1]}: " + hover_money() + "<extra></extra>",
        )
    _layout(fig, height=height, legend=True, hovermode="x unified", theme=theme)
    fig.update_layout(legend={"entrywidth": 170, "traceorder": "normal"})
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, range=[-0.5, slots - 0.5])
    top = max(float(r["revenue"] or 0) for r in records)
    fig.update_yaxes(title=None, **value_axis("currency", top))
    # upright month names (rotated ones collide with a note under the chart on a phone)
    fig.update_xaxes(tickangle=0, tickfont={"size": 11})
    totals = {
        (str(year) if len(rows) == slots else f"{year} ({year_span(grain, rows)})"): sum(
            float(r["revenue"] or 0) for r in rows
        )
        for year, rows in sorted(years.items())
    }
    summary = extremes("Revenue per year over the same months", list(totals.items()), money_short)
    table = [
        {
            "Period": str(r["period"]),
            label("revenue"): money(r["revenue"]),
            "Partial": "yes" if r.get("complete") is False else "",
        }
        for r in sorted(records, key=lambda r: str(r["period_start"]))
    ]
    return described(fig, summary, table)


def overlay_has_partial(records: Records, grain: str = "month") -> bool:
    """Whether the overlay of ``records`` shows a partial period or year (then OVERLAY_NOTE goes under it)."""
    slots = 12 if grain == "month" else 4
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r["period_start"])[:4]] = counts.get(str(r["period_start"])[:4], 0) + 1
    return any(r.get("complete") is False for r in records) or any(n < slots for n in counts.values())


def mover_label(row: Mapping[str, Any]) -> str:
    """A mover's bar label: its change, and "new" when it had no revenue a year earlier (the change % is in
    the hover and the table: a short label fits beside the bar on a phone)."""
    amount = money_short(row["revenue_change"])
    if not str(amount).startswith("-"):
        amount = "+" + amount
    return f"{amount} new" if row.get("revenue_change_pct") is None else amount


ROW_HEIGHT = 46  # px per row: the name on its own line above the bar, so a long name needs no left margin


def _diverging(
    names: list[str],
    values: list[float],
    labels: list[str],
    hover: list[str],
    *,
    height: int | None,
    money: bool,
    theme: Theme,
) -> go.Figure:
    """Horizontal bars either side of zero (gains right in blue, losses left in vermillion), first row at the
    top. Each row's name is written above its bar from the left edge and its label just beyond the bar's end,
    as annotations anchored on that side (they keep the anchor when the web font loads after Plotly measured
    the text), so the chart reads the same at 390 px as at 1400 px."""
    n = len(names)
    rows = list(range(n - 1, -1, -1))  # row 0 at the top
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[r - 0.1 for r in rows],
            width=0.4,
            orientation="h",
            marker={"color": [GAIN if v >= 0 else LOSS for v in values]},
            text=labels,
            textposition="none",  # drawn as annotations, see above
            customdata=[[plotly_text(name), h] for name, h in zip(names, hover, strict=True)],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>",
        )
    )
    _layout(fig, height=height or ROW_HEIGHT * n + 44, theme=theme)
    # Every annotation in one update: Plotly copies and checks the whole list on each add_annotation, so adding
    # them one by one costs time quadratic in the rows (most of this chart's build time at 10 rows).
    annotations: list[dict[str, Any]] = []
    for row, name, value, text in zip(rows, names, values, labels, strict=True):
        annotations.append(
            {
                "x": 0,
                "xref": "paper",
                "y": row + 0.1,
                "yanchor": "bottom",
                "xshift": 4,
                "text": plotly_text(name),  # a name from the data: shown as written, never as markup
                "showarrow": False,
                "xanchor": "left",
                "font": {"color": theme.text, "size": 13},
            }
        )
        annotations.append(
            {
                "x": value,
                "y": row - 0.1,
                "text": text,
                "showarrow": False,
                "xanchor": "left" if value >= 0 else "right",
                "xshift": 8 if value >= 0 else -8,
                "font": {"color": theme.text, "size": 12},
            }
        )
    fig.update_layout(annotations=[*fig.layout.annotations, *annotations])
    fig.update_layout(margin={"l": 14, "r": 10, "t": 4, "b": 28})
    fig.update_yaxes(visible=False, range=[-0.5, n - 0.5])
    reach = max(abs(float(v)) for v in values) or 1.0
    # room either side for the labels, which sit beyond each bar's end
    low = min(0.0, min(values)) - (reach * 0.7 if min(values) < 0 else reach * 0.05)
    high = max(0.0, max(values)) + (reach * 0.7 if max(values) > 0 else reach * 0.05)
    axis = span_axis("currency" if money else "ratio", low, high)
    fig.update_xaxes(title=None, zeroline=True, zerolinecolor=theme.grey, zerolinewidth=1, **axis)
    return fig


def movers_chart(records: Records, key: str, *, height: int | None = None, theme: Theme = LIGHT) -> go.Figure:
    """Top movers as diverging bars: the revenue change of each group, largest gains at the top, largest
    losses at the bottom, each labelled with its change and change % ("new": nothing a year earlier)."""
    rows = sorted(
        (r for r in records if r.get("revenue_change") is not None), key=lambda r: -r["revenue_change"]
    )
    if not rows:
        return empty_figure("No comparison period for these filters", height=height or 260, theme=theme)
    hover = [
        f"Change {mover_label(r)}"
        + ("" if r.get("revenue_change_pct") is None else f" ({signed_percent(r['revenue_change_pct'])})")
        + f"<br>Now {money_short(r['current_revenue'])} · a year earlier {money_short(r['previous_revenue'])}"
        for r in rows
    ]
    fig = _diverging(
        [str(r[key]) for r in rows],
        [float(r["revenue_change"]) for r in rows],
        [mover_label(r) for r in rows],
        hover,
        height=height,
        money=True,
        theme=theme,
    )
    summary = extremes(
        f"Revenue change by {label(key).lower()}",
        [(str(r[key]), r["revenue_change"]) for r in rows],
        lambda v: ("+" if v > 0 else "") + money_short(v),
        words=("largest gain", "largest loss"),
    )
    table = [
        {
            label(key): str(r[key]),
            label("current_revenue"): money(r["current_revenue"]),
            label("previous_revenue"): money(r["previous_revenue"]),
            "Change": mover_label(r),
        }
        for r in rows
    ]
    return described(fig, summary, table)


def gap_label(row: Mapping[str, Any]) -> str:
    """A gap's bar label: the gap % (the money is in the hover and the table)."""
    return signed_percent(row["list_price_gap_pct"])


def list_price_gap_chart(
    records: Records,
    key: str = "product_line",
    *,
    limit: int | None = 20,
    height: int | None = None,
    theme: Theme = LIGHT,
) -> go.Figure:
    """The list-price gap % per product line (or product code) as diverging bars: right of zero = sold above
    list price, left = below; at most ``limit`` rows, the largest gaps in money. Says it is not a margin."""
    rows = [r for r in records if r.get("list_price_gap_pct") is not None]
    rows = sorted(rows, key=lambda r: -abs(float(r["list_price_gap"])))[:limit] if limit else rows
    rows = sorted(rows, key=lambda r: -float(r["list_price_gap_pct"]))
    if not rows:
        return empty_figure(
            "No order lines with an MSRP for these filters", height=height or 260, theme=theme
        )
    hover = [
        f"{money_short(abs(r['list_price_gap']))} ({percent(abs(r['list_price_gap_pct']))}) "
        f"{'above' if r['list_price_gap'] >= 0 else 'below'} list price<br>Revenue {money_short(r['revenue'])}"
        f" · at list price {money_short(r['list_price_revenue'])}"
        for r in rows
    ]
    fig = _diverging(
        [str(r[key]) for r in rows],
        [float(r["list_price_gap_pct"]) for r in rows],
        [gap_label(r) for r in rows],
        hover,
        height=height,
        money=False,
        theme=theme,
    )
    note_below(fig, GAP_NOTE, xshift=16, theme=theme)
    summary = extremes(
        f"List-price gap by {label(key).lower()} (not a profit margin)",
        [(str(r[key]), r["list_price_gap_pct"]) for r in rows],
        signed_percent,
        words=("furthest above list", "furthest below list"),
    )
    table = [
        {
            label(key): str(r[key]),
            label("revenue"): money(r["revenue"]),
            label("list_price_revenue"): money(r["list_price_revenue"]),
            label("list_price_gap_pct"): signed_percent(r["list_price_gap_pct"]),
        }
        for r in rows
    ]
    return described(fig, summary, table)
