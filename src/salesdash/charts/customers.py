"""Customer analytics charts (pure Plotly): new vs returning customers, the retention cohort heatmap and market
penetration. Records in (the API's rows), ``go.Figure`` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from salesdash.charts.describe import described, extremes
from salesdash.charts.figures import (
    Records,
    _layout,
    colorbar_ticks,
    empty_figure,
)
from salesdash.charts.format import (
    DASH,
    count,
    hover_count,
    hover_money,
    money,
    money_short,
    percent,
    period_name,
    plural,
    value_axis,
)
from salesdash.charts.theme import LIGHT, Theme
from salesdash.markup import plotly_text
from salesdash.vocabulary import label, territory_name

MAX_LABELLED_COLUMNS = 14


def acquisition_chart(records: Records, *, height: int = 340, theme: Theme = LIGHT) -> go.Figure:
    """Customers per period, stacked: new (first order ever, under the filters) and returning."""
    if not records:
        return empty_figure(height=height, theme=theme)
    starts = [str(r["period_start"]) for r in records]
    periods = [period_name(r["period"]) for r in records]
    fig = go.Figure()
    for name, color in (("new_customers", theme.primary), ("returning_customers", theme.muted)):
        fig.add_bar(
            x=starts,  # a date axis: Plotly spaces its ticks ("Jan 2004"), where 29 period labels would collide
            y=[r[name] for r in records],
            customdata=periods,
            name=label(name),
            marker={"color": color},
            hovertemplate="%{customdata}<br>" + label(name) + ": " + hover_count() + "<extra></extra>",
        )
    _layout(fig, height=height, legend=True, hovermode="x unified", theme=theme)
    # legend entries sized up front (a web font can load after Plotly measured the text)
    fig.update_layout(barmode="stack", legend={"entrywidth": 190, "traceorder": "normal"})
    fig.update_xaxes(type="date", title=None)
    largest = max((r["new_customers"] or 0) + (r["returning_customers"] or 0) for r in records)
    fig.update_yaxes(title=label("customer_count"), **value_axis("count", largest, whole=True))
    summary = extremes(
        f"{label('new_customers')} by period",
        [(p, r["new_customers"]) for p, r in zip(periods, records, strict=True)],
        count,
        span=True,
        words=("most", "fewest"),
    )
    summary += f"; {count(sum(r['new_customers'] or 0 for r in records))} new customers in all"
    table = [
        {
            "Period": p,
            label("new_customers"): count(r["new_customers"]),
            label("returning_customers"): count(r["returning_customers"]),
        }
        for p, r in zip(periods, records, strict=True)
    ]
    return described(fig, summary, table)


def cohort_label(cohort: Mapping[str, Any]) -> str:
    """A cohort's row label: its period and size, with small cohorts said so (their shares swing widely)."""
    text = f"{period_name(cohort['cohort'])} (n={count(cohort['customers'])})"
    return text + " small" if cohort.get("small") else text


def cohort_heatmap(
    cells: Records, cohorts: Sequence[Mapping[str, Any]], *, height: int | None = None, theme: Theme = LIGHT
) -> go.Figure:
    """Retention: cohorts (rows, oldest first) x periods since their first order (columns). A cell shows the
    share of the cohort still ordering; a partial period is marked with an asterisk, a small cohort in its
    label; a period in which no member ordered is blank."""
    if not cells or not cohorts:
        return empty_figure(height=height or 300, theme=theme)
    rows = [str(c["cohort"]) for c in cohorts]
    names = {str(c["cohort"]): cohort_label(c) for c in cohorts}
    width = max(int(c["periods_since_first"]) for c in cells) + 1
    grid: dict[tuple[str, int], Mapping[str, Any]] = {
        (str(c["cohort"]), int(c["periods_since_first"])): c for c in cells
    }
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for cohort in rows:
        z_row: list[float | None] = []
        t_row: list[str] = []
        for offset in range(width):
            cell = grid.get((cohort, offset))
            share = None if cell is None else cell.get("retention")
            z_row.append(None if share is None else float(share))
            t_row.append("" if share is None else percent(share) + ("*" if cell and cell["partial"] else ""))
        z.append(z_row)
        text.append(t_row)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(width)),
            y=[names[c] for c in rows],
            text=text,
            # the shares fit in the cells up to about 14 columns; beyond, colour and hover say them
            texttemplate="%{text}" if width <= MAX_LABELLED_COLUMNS else None,
            textfont={"size": 11},
            colorscale=theme.sequential,
            zmin=0,
            zmax=1,
            hoverongaps=False,
            xgap=2,
            ygap=2,
            colorbar={
                "thickness": 12,
                "title": {"text": label("retention")},
                **colorbar_ticks("retention", 1),
            },
            hovertemplate="%{y}<br>%{x} period(s) later: %{text}<extra></extra>",
        )
    )
    longest = max(len(n) for n in names.values())
    _layout(
        fig,
        height=height or max(260, 22 * len(rows) + 80),
        margin={"l": int(min(260, 7.2 * longest + 16)), "r": 8, "t": 30, "b": 40},
        theme=theme,
    )
    fig.update_xaxes(
        title=label("periods_since_first"), side="bottom", showgrid=False, dtick=1 if width <= 12 else 3
    )
    fig.update_yaxes(autorange="reversed", showgrid=False, title=None, type="category")
    later = [(names[c], z[i][1]) for i, c in enumerate(rows) if width > 1]
    summary = extremes(f"{label('retention')} one period after the first order, by cohort", later, percent)
    summary += f" ({len(rows)} cohort{'' if len(rows) == 1 else 's'}, up to {width - 1} periods later)"
    table = [
        {"Cohort": names[c], **{str(k): text[i][k] or DASH for k in range(width)}} for i, c in enumerate(rows)
    ]
    return described(fig, summary, table)


def penetration_chart(
    records: Records, dimension: str = "country", *, height: int | None = None, theme: Theme = LIGHT
) -> go.Figure:
    """Revenue per customer per market (bars), labelled with how many of the product lines in view each
    market buys: a market with few lines bought is under-penetrated."""
    rows = sorted(
        (r for r in records if r.get("revenue_per_customer") is not None),
        key=lambda r: r["revenue_per_customer"],
        reverse=True,
    )
    if not rows:
        return empty_figure(height=height or 260, theme=theme)
    names = [str(territory_name(r[dimension]) if dimension == "territory" else r[dimension]) for r in rows]
    # the value on the bar (short: it fits inside or beside the bar at any width); customers and product
    # lines bought under the market's name, in the label column reserved for the names
    details = [
        f"{plural(r['customer_count'], 'customer')} · {plural(r['product_lines_bought'], 'line')}"
        for r in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[r["revenue_per_customer"] for r in rows],
            y=[plotly_text(name) for name in names],  # names from data: shown as written, never as markup
            orientation="h",
            marker={
                "color": [
                    theme.primary if (r.get("product_line_share") or 0) >= 1 else theme.muted for r in rows
                ]
            },
            text=[f"\u2002{money_short(r['revenue_per_customer'])}\u2002" for r in rows],
            textposition="auto",
            insidetextanchor="end",
            insidetextfont={"color": "white", "size": 12},
            outsidetextfont={"size": 12},  # the template's text colour
            constraintext="none",
            cliponaxis=False,
            customdata=details,
            hovertemplate="%{y}<br>"
            + label("revenue_per_customer")
            + ": "
            + hover_money("x")
            + "<br>%{customdata}<extra></extra>",
        )
    )
    _layout(fig, height=height or max(220, 40 * len(rows) + 40), theme=theme)
    longest = max(max(len(n) for n in names), *(0.85 * len(d) for d in details))
    fig.update_layout(margin={"l": int(min(240, 7.2 * longest + 22)), "r": 12, "t": 8, "b": 28})
    fig.update_yaxes(
        autorange="reversed",
        showgrid=False,
        title=None,
        ticksuffix="  ",
        tickmode="array",
        tickvals=[plotly_text(name) for name in names],
        ticktext=[
            f"{plotly_text(name)}<br><span style='font-size:11px;color:{theme.grey}'>{d}</span>"
            for name, d in zip(names, details, strict=True)
        ],
    )
    top = max(float(r["revenue_per_customer"]) for r in rows)
    fig.update_xaxes(title=None, **value_axis("currency", top))
    summary = extremes(
        f"{label('revenue_per_customer')} by {label(dimension).lower()}",
        [(n, r["revenue_per_customer"]) for n, r in zip(names, rows, strict=True)],
        money_short,
    )
    table = [
        {
            label(dimension): n,
            label("revenue_per_customer"): money(r["revenue_per_customer"]),
            label("customer_count"): count(r["customer_count"]),
            "Product lines bought": count(r["product_lines_bought"]),
        }
        for n, r in zip(names, rows, strict=True)
    ]
    return described(fig, summary, table)
