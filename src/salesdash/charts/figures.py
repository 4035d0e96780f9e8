"""Pure Plotly figure functions: API records (lists of dicts) in, ``go.Figure`` out.

No Streamlit and no HTTP here, so every chart is unit-testable on hand-made records. Colours come from the
``theme`` argument (:mod:`salesdash.charts.theme`: the Okabe-Ito palette, light or dark); money is formatted the
same way as in the cards and tables: every label, hover text and axis tick comes from :mod:`salesdash.charts.format`.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from salesdash.charts.describe import described, extremes
from salesdash.charts.format import (
    DASH,
    count,
    hover_count,
    hover_money,
    hover_value,
    money,
    money_short,
    percent,
    period_text,
    text_room,
    value_axis,
)
from salesdash.charts.theme import LIGHT, Theme
from salesdash.charts.theme import OKABE_ITO as OKABE_ITO  # re-exported: pages colour by name
from salesdash.charts.theme import PALETTE as PALETTE
from salesdash.markup import plotly_text
from salesdash.vocabulary import GRAIN_LABELS, columns_of
from salesdash.vocabulary import label as label_of
from salesdash.vocabulary import unit as unit_of_column

Records = Sequence[Mapping[str, Any]]

# The light theme's colours by role (the look of the exports); a chart picks its colours from its ``theme``.
PRIMARY = LIGHT.primary
MUTED = LIGHT.muted
GREY = LIGHT.grey
TEXT = LIGHT.text
GRID = LIGHT.grid
SEQUENTIAL = LIGHT.sequential
SEQUENTIAL_MAP = LIGHT.sequential_map

CURRENCY_METRICS = columns_of("currency")
DAY_GRAIN_MAX_DAYS = 92  # one point per day reads as a trend up to about a quarter; beyond, it is noise


def grains_for(days: int | None) -> list[str]:
    """The time grains worth offering for a range of ``days`` days: Day only up to DAY_GRAIN_MAX_DAYS."""
    return [g for g in GRAIN_LABELS if g != "day" or (days is not None and days <= DAY_GRAIN_MAX_DAYS)]


MONTHS = [calendar.month_abbr[m] for m in range(1, 13)]


def _layout(
    fig: go.Figure,
    *,
    height: int,
    legend: bool = False,
    hovermode: str = "closest",
    margin: dict[str, int] | None = None,
    theme: Theme = LIGHT,
) -> go.Figure:
    """Shared look (colours from ``theme``'s template). Margins are fixed (no axis automargin): automargin makes Plotly measure and redraw
    each chart several times, which is most of a chart's drawing time in the browser."""
    fig.update_layout(
        height=height,
        margin={"l": 60, "r": 16, "t": 36 if legend else 12, "b": 32, **(margin or {})},
        template=theme.template,
        separators=".,",
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0, "title": None},
        hovermode=hovermode,
        dragmode=False,
    )
    fig.update_xaxes(zeroline=False, automargin=False)
    fig.update_yaxes(zeroline=False, automargin=False)
    return fig


def unit_of(metric: str) -> str:
    """The tick style of a metric's axis: currency, ratio (shares) or count."""
    kind = unit_of_column(metric)
    return kind if kind in ("currency", "ratio") else "count"


def metric_axis(metric: str, largest: Any, **options: Any) -> dict[str, Any]:
    """:func:`salesdash.charts.format.value_axis` for ``metric`` (money ticks $100K, counts 1,500)."""
    return value_axis(unit_of(metric), largest, **options)


def colorbar_ticks(metric: str, largest: Any) -> dict[str, Any]:
    """A colour bar's ticks in the metric's style (the axis without its range)."""
    axis = metric_axis(metric, largest, headroom=1.0)
    axis.pop("range")
    return axis


def plot_height(fig: go.Figure) -> float:
    """The height of the plotting area: the figure minus its top and bottom margins."""
    margin = fig.layout.margin
    return float(fig.layout.height or 300) - float(margin.t or 0) - float(margin.b or 0)


NAME_WIDTH = 18  # characters of a bar's name on one line


def two_lines(name: str, width: int = NAME_WIDTH) -> str:
    """A long (already escaped) name broken at the space nearest its middle: "Mini Gifts<br>Distributors Ltd."."""
    if len(name) <= width or " " not in name:
        return name
    spaces = [i for i, c in enumerate(name) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(name) / 2))
    return name[:cut] + "<br>" + name[cut + 1 :]


def empty_figure(
    message: str = "No data for these filters", *, height: int = 260, theme: Theme = LIGHT
) -> go.Figure:
    """A blank chart that says why it is blank (instead of an empty grid)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 15, "color": theme.grey},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return described(_layout(fig, height=height, theme=theme), message)


def _value_text(metric: str, value: Any) -> str:
    if value is None:
        return ""
    if metric in CURRENCY_METRICS:
        return money_short(value)
    if metric == "revenue_share":
        return percent(value)
    return count(value)


def _hover_value(metric: str, var: str = "x") -> str:
    return hover_value("currency" if metric in CURRENCY_METRICS else "count", var)


def count_axis_ticks(largest: Any) -> dict[str, Any]:
    """Ticks of an axis of counts: whole numbers only (a largest value of 3 gives 0, 1, 2, 3, never 0.5)."""
    return value_axis("count", largest, whole=True)


def note_below(fig: go.Figure, text: str, *, xshift: int = 0, theme: Theme = LIGHT) -> None:
    """A one-line grey note under the plot (the bottom margin made room for it); ``xshift`` px in from the
    plot's left edge when the left margin is narrow (a web font loading late widens the text both ways)."""
    fig.update_layout(margin={"b": 52})
    fig.add_annotation(
        text=text,
        showarrow=False,
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        xshift=xshift,
        yshift=-24,
        font={"size": 11, "color": theme.grey},
    )


PARTIAL_NOTE = "Hatched bar, open marker: a partial period (the dates in view cover only part of it)"


def sales_over_time(
    records: Records, grain: str = "month", *, height: int = 360, theme: Theme = LIGHT
) -> go.Figure:
    """Revenue (line, left axis) over order counts (bars, right axis). The revenue axis overlays the order
    axis, so the line is always drawn on top of the bars, never hidden behind them.

    Every period of the range is a point (a period without orders is 0, so the line drops to it rather than
    crossing it); a period the dates in view cover only in part (``complete`` false) has a hatched bar, an open
    marker and says so on hover and in a note under the chart."""
    if not records:
        return empty_figure(height=height, theme=theme)
    periods = [
        period_text(grain, r["period_start"]) if r.get("period_start") else r["period"] for r in records
    ]
    x = [r.get("period_start") or r["period"] for r in records]
    partial = [r.get("complete") is False for r in records]
    hover_note = ["<br>partial period" if p else "" for p in partial]
    fig = go.Figure()
    fig.add_bar(
        x=x,
        y=[r["order_count"] for r in records],
        name=label_of("order_count"),
        yaxis="y2",
        marker={
            "color": theme.muted,
            "line": {"width": 0},
            "pattern": {
                "shape": ["/" if p else "" for p in partial],
                "fgcolor": theme.primary,
                "solidity": 0.25,
            },
        },
        customdata=list(zip(periods, hover_note, strict=True)),
        hovertemplate=label_of("order_count") + ": " + hover_count() + "<extra></extra>",
    )
    fig.add_scatter(
        x=x,
        y=[r["revenue"] for r in records],
        name=label_of("revenue"),
        yaxis="y",
        mode="lines+markers" if len(records) <= 60 or any(partial) else "lines",
        line={"color": theme.primary, "width": 2.5},
        marker={
            "size": [8 if p else (6 if len(records) <= 60 else 0) for p in partial],
            "symbol": ["circle-open" if p else "circle" for p in partial],
            "line": {"width": 2, "color": theme.primary},
        },
        customdata=list(zip(periods, hover_note, strict=True)),
        hovertemplate="%{customdata[0]}%{customdata[1]}<br>"
        + label_of("revenue")
        + ": "
        + hover_money()
        + "<extra></extra>",
    )
    _layout(fig, height=height, legend=True, hovermode="x unified", theme=theme)
    largest = max((r["order_count"] or 0 for r in records), default=0)
    # legend entries sized up front: the web font can load after Plotly measured "Revenue" (it was cut)
    fig.update_layout(legend={"entrywidth": 120})
    fig.update_layout(
        # y (revenue) overlays y2 (orders): overlaying axes are drawn above their base axis.
        yaxis={
            "title": None,
            "overlaying": "y2",
            "side": "left",
            **value_axis("currency", max((r["revenue"] or 0 for r in records), default=0)),
        },
        yaxis2={
            "title": {"text": label_of("order_count"), "font": {"size": 12, "color": theme.grey}},
            "side": "right",
            "showgrid": False,
            "tickfont": {"color": theme.grey},
            **count_axis_ticks(largest),
        },
        bargap=0.25,
        margin={"l": 60, "r": 62, "t": 36, "b": 52 if any(partial) else 32},
    )
    if any(partial):
        note_below(fig, PARTIAL_NOTE, theme=theme)
    if grain == "year":
        fig.update_xaxes(type="category", tickvals=x, ticktext=periods)
    else:
        fig.update_xaxes(type="date")
    summary = extremes(
        f"Revenue by {GRAIN_LABELS.get(grain, grain).lower()}",
        [(str(p), r["revenue"]) for p, r in zip(periods, records, strict=True)],
        money_short,
        span=True,
    )
    summary += f"; {count(sum(r['order_count'] or 0 for r in records))} orders"
    table = [
        {
            "Period": str(p) + (" (partial)" if part else ""),
            label_of("revenue"): money(r["revenue"]),
            label_of("order_count"): count(r["order_count"]),
        }
        for p, part, r in zip(periods, partial, records, strict=True)
    ]
    return described(fig, summary, table)


def ranked_bars(
    records: Records,
    category: str,
    metric: str = "revenue",
    *,
    limit: int | None = None,
    height: int | None = None,
    color: str | None = None,
    show_share: bool = True,
    keep_order: bool = False,
    theme: Theme = LIGHT,
) -> go.Figure:
    """Horizontal bars, largest at the top (``keep_order``: in the records' order), each labelled with its
    value (and share of revenue)."""
    rows = [r for r in records if r.get(metric) is not None]
    rows = sorted(rows, key=lambda r: r[metric], reverse=True)[:limit] if limit else rows
    if not keep_order:
        rows = sorted(rows, key=lambda r: r[metric], reverse=True)
    if not rows:
        return empty_figure(height=height or 260, theme=theme)
    names = [str(r[category]) for r in rows]
    values = [r[metric] for r in rows]
    labels = []
    for r in rows:
        text = _value_text(metric, r[metric])
        if show_share and metric == "revenue" and r.get("revenue_share") is not None:
            text += f" · {percent(r['revenue_share'])}"
        labels.append("\u2002" + text + "\u2002")  # en spaces: air between the label and the bar's end
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[plotly_text(name) for name in names],  # names from data: shown as written, never as markup
            orientation="h",
            marker={"color": color or theme.primary},
            text=labels,
            # Inside the bar (white) when the label fits there, else just outside it (dark): the longest
            # bar never pushes its label off a narrow chart.
            textposition="auto",
            insidetextanchor="end",
            insidetextfont={"color": "white", "size": 12},
            outsidetextfont={"size": 12},  # the template's text colour
            constraintext="none",
            cliponaxis=False,
            hovertemplate="%{y}<br>" + label_of(metric) + ": " + _hover_value(metric) + "<extra></extra>",
        )
    )
    _layout(fig, height=height or max(220, 34 * len(rows) + 40), theme=theme)
    # Reserve the label column up front (web fonts can load after Plotly measured the labels).
    # long names on two lines: a one-line label column took most of a phone's width
    shown = [plotly_text(name) for name in names]
    fig.update_yaxes(tickmode="array", tickvals=shown, ticktext=[two_lines(name) for name in shown])
    longest = max(len(line) for name in shown for line in two_lines(name).split("<br>"))
    fig.update_layout(margin={"l": int(min(280, 7.4 * longest + 22)), "r": 12, "t": 8, "b": 28})
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", ticksuffix="  ", title=None)
    # The axis ends just past the longest bar: its label sits inside it, and a bar too short for its label
    # has the room beside it (textposition "auto").
    fig.update_xaxes(title=None, **metric_axis(metric, max(float(v) for v in values), ticks=4))
    return described(fig, *_ranking_text(rows, category, metric))


def _ranking_text(rows: Records, category: str, metric: str) -> tuple[str, list[dict[str, str]]]:
    """Summary and table of a breakdown: the highest and lowest ``metric`` (with shares of revenue)."""
    shares = {str(r[category]): r.get("revenue_share") for r in rows}
    with_share = metric == "revenue" and any(v is not None for v in shares.values())
    summary = extremes(
        f"{label_of(metric)} by {label_of(category).lower()}",
        [(str(r[category]), r[metric]) for r in rows],
        lambda v: _value_text(metric, v),
        share=(lambda name: percent(shares[name]) if shares[name] is not None else None)
        if with_share
        else None,
    )
    table = [
        {
            label_of(category): str(r[category]),
            label_of(metric): money(r[metric])
            if metric in CURRENCY_METRICS
            else _value_text(metric, r[metric]),
            **({label_of("revenue_share"): percent(r.get("revenue_share"))} if with_share else {}),
        }
        for r in rows
    ]
    return summary, table


def share_donut(
    records: Records, category: str, *, height: int = 380, order: Sequence[str] = (), theme: Theme = LIGHT
) -> go.Figure:
    """Share of revenue by ``category`` as a donut, the total in the middle."""
    rows = [r for r in records if r.get("revenue")]
    if order:
        rank = {name: i for i, name in enumerate(order)}
        rows = sorted(rows, key=lambda r: rank.get(str(r[category]), len(rank)))
    else:
        rows = sorted(rows, key=lambda r: r["revenue"], reverse=True)
    if not rows:
        return empty_figure(height=height, theme=theme)
    total = sum(r["revenue"] for r in rows)
    fig = go.Figure(
        go.Pie(
            labels=[plotly_text(r[category]) for r in rows],
            values=[r["revenue"] for r in rows],
            hole=0.58,
            sort=False,
            direction="clockwise",
            marker={"colors": theme.palette * 2, "line": {"color": theme.background, "width": 2}},
            textinfo="percent",
            textposition="inside",
            insidetextorientation="horizontal",
            texttemplate="%{percent:.1%}",
            hovertemplate="%{label}<br>Revenue: "
            + hover_money("value")
            + "<br>%{percent:.1%}<extra></extra>",
        )
    )
    fig.add_annotation(
        text=f"<b>{money_short(total)}</b><br><span style='font-size:12px;color:{theme.grey}'>revenue</span>",
        showarrow=False,
        font={"size": 18},
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    _layout(fig, height=height, legend=True, theme=theme)
    fig.update_layout(
        # Legend under the donut: it wraps on narrow screens instead of being cut off.
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.04,
            "xanchor": "center",
            "x": 0.5,
            "entrywidth": 0.5,  # two columns that share the width: "Trucks and Buses" is never cut
            "entrywidthmode": "fraction",
        },
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        uniformtext={"minsize": 11, "mode": "hide"},
    )
    shares = {str(r[category]): r["revenue"] / total if total else None for r in rows}
    summary = extremes(
        f"Share of revenue by {label_of(category).lower()} ({money_short(total)} in all)",
        [(name, share) for name, share in shares.items()],
        percent,
        share=lambda name: money_short(next(r["revenue"] for r in rows if str(r[category]) == name)),
        words=("largest", "smallest"),
    )
    table = [
        {
            label_of(category): str(r[category]),
            label_of("revenue"): money(r["revenue"]),
            label_of("revenue_share"): percent(shares[str(r[category])]),
        }
        for r in rows
    ]
    return described(fig, summary, table)


def choropleth(
    records: Records,
    metric: str = "revenue",
    *,
    height: int = 460,
    selected: Sequence[str] = (),
    theme: Theme = LIGHT,
) -> go.Figure:
    """World map of ``metric`` by country, keyed by the ISO-3 codes the API provides.

    The colour scale starts at 0, so one country (or several of similar size) still reads on a plain scale
    ("$0 ... $600K"), never as "$630.6226k, $630.6228k". ``selected`` countries (the Countries filter) are
    outlined in dark ink over the others' colours: the map keeps its context and another click switches."""
    rows = [r for r in records if r.get("iso3")]
    if not rows:
        return empty_figure("No countries to map for these filters", height=height, theme=theme)
    hover = label_of(metric)
    fmt = _hover_value(metric, "z")
    chosen = set(selected)
    values = [float(r[metric] or 0) for r in rows]
    fig = go.Figure(
        go.Choropleth(
            locations=[r["iso3"] for r in rows],
            z=values,
            zmin=0,
            zmax=max(max(values), 1.0),
            text=[
                plotly_text(r["country"]) + (" (selected)" if r["country"] in chosen else "") for r in rows
            ],
            locationmode="ISO-3",
            colorscale=theme.sequential_map,
            marker={
                "line": {
                    "color": [theme.text if r["country"] in chosen else theme.background for r in rows],
                    "width": [2.4 if r["country"] in chosen else 0.6 for r in rows],
                }
            },
            # Horizontal colour bar under the map: the map keeps the full width (also on a phone).
            colorbar={
                "title": {"text": hover, "side": "top"},
                "orientation": "h",
                "x": 0.5,
                "xanchor": "center",
                "y": -0.02,
                "yanchor": "top",
                "len": 0.6,
                "thickness": 10,
                **colorbar_ticks(metric, max(values)),
            },
            hovertemplate="%{text}<br>" + hover + ": " + fmt + "<extra></extra>",
        )
    )
    _layout(fig, height=height, theme=theme)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 64},
        # land without data and the borders: the template's (grey on either theme, unlike any value's blue)
        geo={
            "showframe": False,
            "showcoastlines": False,
            "projection": {"type": "natural earth"},
            "lataxis": {"range": [-58, 85]},
        },
    )
    summary, table = _ranking_text(
        sorted(rows, key=lambda r: float(r[metric] or 0), reverse=True), "country", metric
    )
    return described(fig, f"{summary} ({len(rows)} countries on the map)", table)


def month_year_heatmap(
    rows: Records,
    years: Sequence[int | str] | None = None,
    metric: str = "revenue",
    *,
    height: int = 440,
    theme: Theme = LIGHT,
) -> go.Figure:
    """Month (rows) x year (columns) from the API's heatmap rows (``{"month": 1, "2004": 123.4, ...}``).
    A month in view without order lines is 0 in the API (drawn "$0"); a month outside the dates in view is
    null and stays blank."""
    keys = (
        [str(y) for y in years]
        if years
        else sorted({k for r in rows for k in r if str(k).isdigit() and len(str(k)) == 4})
    )
    by_month = {int(r["month"]): r for r in rows}
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for month in range(1, 13):
        row = by_month.get(month, {})
        values = [row.get(key) for key in keys]
        z.append([float(v) if v is not None else None for v in values])
        text.append([_value_text(metric, v) if v is not None else "" for v in values])
    if not keys or all(v is None for line in z for v in line):
        return empty_figure(height=height, theme=theme)
    label = label_of(metric)
    fmt = _hover_value(metric, "z")
    largest = max((v for line in z for v in line if v is not None), default=0)
    colorbar: dict[str, Any] = {"thickness": 12, **colorbar_ticks(metric, largest)}
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=keys,
            y=MONTHS,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 12},
            colorscale=theme.sequential,
            hoverongaps=False,
            xgap=3,
            ygap=3,
            colorbar=colorbar,
            hovertemplate="%{y} %{x}<br>" + label + ": " + fmt + "<extra></extra>",
        )
    )
    _layout(fig, height=height, margin={"l": 44, "r": 8, "t": 30, "b": 8}, theme=theme)
    fig.update_xaxes(type="category", side="top", showgrid=False, title=None)
    fig.update_yaxes(autorange="reversed", showgrid=False, title=None)
    summary = extremes(
        f"{label} by month and year",
        [(f"{MONTHS[m]} {key}", z[m][k]) for k, key in enumerate(keys) for m in range(12)],
        lambda v: _value_text(metric, v),
    )
    table = [
        {"Month": MONTHS[m], **{key: text[m][k] or DASH for k, key in enumerate(keys)}} for m in range(12)
    ]
    return described(fig, summary, table)


def _year_quarter(row: Mapping[str, Any]) -> tuple[int, int]:
    if "year" in row and "quarter" in row:
        return int(row["year"]), int(row["quarter"])
    start = str(row["period_start"])  # YYYY-MM-DD, first day of the quarter
    return int(start[:4]), (int(start[5:7]) - 1) // 3 + 1


def quarterly_comparison(records: Records, *, height: int = 340, theme: Theme = LIGHT) -> go.Figure:
    """Revenue per quarter (Q1-Q4 on the x axis), one bar colour per year. A quarter the data covers only in
    part (``complete`` false) is drawn hatched and marked "partial"."""
    if not records:
        return empty_figure(height=height, theme=theme)
    keyed = [(*_year_quarter(r), r) for r in records]
    years = sorted({year for year, _, _ in keyed})
    fig = go.Figure()
    for i, year in enumerate(years):
        rows = sorted((q, r) for y, q, r in keyed if y == year)
        partial = [r.get("complete") is False for _, r in rows]
        fig.add_bar(
            x=[f"Q{q}" for q, _ in rows],
            y=[r["revenue"] for _, r in rows],
            name=str(year),
            marker={
                "color": theme.palette[i % len(theme.palette)],
                "pattern": {
                    "shape": ["/" if p else "" for p in partial],
                    "fillmode": "overlay",
                    "solidity": 0.4,
                },
            },
            customdata=["partial quarter" if p else "" for p in partial],
            hovertemplate=f"%{{x}} {year}<br>Revenue: " + hover_money() + "<br>%{customdata}<extra></extra>",
        )
    _layout(fig, height=height, legend=True, theme=theme)
    fig.update_layout(barmode="group", bargap=0.2, bargroupgap=0.05)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=["Q1", "Q2", "Q3", "Q4"])
    top = max(float(r["revenue"]) for r in records)
    fig.update_yaxes(title=None, **value_axis("currency", top))
    ordered_rows = sorted(keyed, key=lambda k: (k[0], k[1]))
    names = [f"Q{q} {y}" + (" (partial)" if r.get("complete") is False else "") for y, q, r in ordered_rows]
    summary = extremes(
        "Revenue by quarter",
        [(n, r["revenue"]) for n, (_, _, r) in zip(names, ordered_rows, strict=True)],
        money_short,
    )
    table = [
        {"Quarter": n, label_of("revenue"): money(r["revenue"])}
        for n, (_, _, r) in zip(names, ordered_rows, strict=True)
    ]
    return described(fig, summary, table)


def yearly_revenue(records: Records, *, height: int = 340, theme: Theme = LIGHT) -> go.Figure:
    """Revenue per year; each bar is labelled with its growth vs the year before (like-for-like when the API
    says so), and partial years are marked."""
    if not records:
        return empty_figure(height=height, theme=theme)
    rows = sorted(records, key=lambda r: int(r["year"]))
    names, labels = [], []
    for r in rows:
        name = str(r["year"])
        if r.get("partial") and r.get("period_label"):
            name += f"<br><span style='font-size:11px'>({r['period_label']})</span>"
        names.append(name)
        label = money_short(r["revenue"])
        growth = r.get("growth")
        if growth is not None:
            arrow = "▲" if growth >= 0 else "▼"
            label += f"<br>{arrow} {percent(abs(growth))}"
        labels.append(label)
    colors = [theme.muted if r.get("partial") else theme.primary for r in rows]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[r["revenue"] for r in rows],
            marker={"color": colors},
            text=labels,
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>Revenue: " + hover_money() + "<extra></extra>",
        )
    )
    _layout(fig, height=height, margin={"b": 48 if any(r.get("partial") for r in rows) else 32}, theme=theme)
    fig.update_xaxes(type="category", title=None)
    top = max(r["revenue"] for r in rows)
    lines = 2 if any(r.get("growth") is not None for r in rows) else 1
    fig.update_yaxes(title=None, **value_axis("currency", top, headroom=text_room(lines, plot_height(fig))))
    years = [
        str(r["year"]) + (f" ({r['period_label']})" if r.get("partial") and r.get("period_label") else "")
        for r in rows
    ]
    summary = extremes(
        "Revenue by year", [(y, r["revenue"]) for y, r in zip(years, rows, strict=True)], money_short
    )
    table = [
        {
            "Year": y,
            label_of("revenue"): money(r["revenue"]),
            "Growth": DASH if r.get("growth") is None else f"{r['growth'] * 100:+.1f}%",
        }
        for y, r in zip(years, rows, strict=True)
    ]
    return described(fig, summary, table)


HORIZONTAL_AFTER = 4


def category_bars(
    records: Records,
    category: str,
    metric: str,
    *,
    order: Sequence[str] = (),
    height: int = 300,
    highlight: str | None = None,
    theme: Theme = LIGHT,
) -> go.Figure:
    """Bars for a small, ordered category (order status, deal size), one colour per category: vertical up to
    HORIZONTAL_AFTER categories, else horizontal (one per row, in ``order``) so every name reads on a phone."""
    rows = [r for r in records if r.get(metric) is not None]
    if not rows:
        return empty_figure(height=height, theme=theme)
    rank = {name: i for i, name in enumerate(order)}
    rows = sorted(rows, key=lambda r: (rank.get(str(r[category]), len(rank)), -float(r[metric])))
    names = [str(r[category]) for r in rows]
    colors = [
        (theme.grey if highlight and name == highlight else theme.palette[i % len(theme.palette)])
        for i, name in enumerate(names)
    ]
    if len(names) > HORIZONTAL_AFTER:
        # more categories than fit side by side on a phone ("Shipp", "Resolv" were cut): one per row, in order
        fig = ranked_bars(
            rows, category, metric, height=height, color=PRIMARY, show_share=False, keep_order=True
        )
        fig.update_traces(marker={"color": colors})
        return fig
    label = label_of(metric)
    fmt = _hover_value(metric, "y")
    fig = go.Figure(
        go.Bar(
            x=[plotly_text(name) for name in names],
            y=[r[metric] for r in rows],
            marker={"color": colors},
            text=[_value_text(metric, r[metric]) for r in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>" + label + ": " + fmt + "<extra></extra>",
        )
    )
    _layout(fig, height=height, margin={"l": 50 if metric in CURRENCY_METRICS else 44}, theme=theme)
    fig.update_xaxes(type="category", title=None)
    top = max(float(r[metric]) for r in rows)
    fig.update_yaxes(title=None, **metric_axis(metric, top, headroom=text_room(1, plot_height(fig))))
    return described(fig, *_ranking_text(rows, category, metric))
