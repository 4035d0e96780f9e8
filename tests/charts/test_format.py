"""The number, share and period rules of salesdash.charts.format, and that every chart of every view takes its
tick texts, hover and label formats from it (never a d3 tickformat such as "$100k" beside "$49.2K" cards)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from sqlalchemy import Engine

from salesdash.charts import analytics, customers, figures
from salesdash.charts.format import (
    HEADROOM,
    hover_count,
    hover_money,
    log_money_axis,
    money_short,
    money_tick,
    nice_step,
    percent,
    period_name,
    period_text,
    plural,
    text_room,
    value_axis,
)
from salesdash.filters import Filters
from salesdash.ingest import ingest_file
from salesdash.metrics import filter_options
from salesdash.store import make_engine, snapshot
from salesdash.views import CATALOG, run_view
from tests.conftest import SAMPLE_CSV

# every numeric format a template may use: exact money / counts (hover_money, hover_count), a share with one
# decimal (Plotly's %{percent:.1%}) and a month as "Jul 2005" (HOVER_MONTH)
ALLOWED_SPECS = {",.2f", ",", ".1%", "|%b %Y"}
MONEY_TICK = re.compile(r"^-?\$\d{1,3}(,\d{3})*(\.\d{1,2})?[KMB]?$")
COUNT_TICK = re.compile(r"^\d{1,3}(,\d{3})*$")
SHARE_TICK = re.compile(r"^-?\d+(\.\d{1,2})?%$")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "$0"),
        (500, "$500"),
        (1000, "$1K"),
        (100_000, "$100K"),
        (2_500_000, "$2.5M"),
        (1.25e6, "$1.25M"),
        (3e9, "$3B"),
        (-2000, "-$2K"),
        (None, "–"),
    ],
)
def test_money_ticks_are_the_compact_style_without_trailing_zeros(value: Any, expected: str) -> None:
    assert money_tick(value) == expected


def test_compact_money_and_ticks_share_the_suffixes() -> None:
    assert money_short(49_230) == "$49.2K" and money_short(862_300) == "$862.3K"
    assert money_short(9_838_141.37) == "$9.84M" and money_short(3.2e9) == "$3.20B"
    assert all(s[-1] in "KMB" for s in (money_tick(1e3), money_tick(1e6), money_tick(1e9)))
    assert "k" not in money_tick(100_000) and "G" not in money_tick(3e9)


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (1, "customer", "1 customer"),
        (2, "customer", "2 customers"),
        (0, "customer", "0 customers"),
        (1204, "order", "1,204 orders"),
        (3, "country", "3 countries"),
    ],
)
def test_plural(n: int, noun: str, expected: str) -> None:
    assert plural(n, noun, "countries" if noun == "country" else None) == expected


def test_shares_have_one_decimal() -> None:
    assert (percent(0.025), percent(0.19), percent(1)) == ("2.5%", "19.0%", "100.0%")


@pytest.mark.parametrize(
    ("grain", "start", "expected"),
    [
        ("month", date(2005, 7, 1), "Jul 2005"),
        ("quarter", date(2005, 7, 1), "Q3 2005"),
        ("quarter", "2004-10-01", "Q4 2004"),
        ("year", date(2004, 1, 1), "2004"),
        ("week", date(2004, 7, 5), "Week of Jul 5, 2004"),
        ("day", "2005-05-31", "May 31, 2005"),
    ],
)
def test_periods_as_people_read_them(grain: str, start: Any, expected: str) -> None:
    assert period_text(grain, start) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2005-07", "Jul 2005"),
        ("2004-Q3", "Q3 2004"),
        ("2004", "2004"),
        ("2005-05-31", "May 31, 2005"),
        ("2004-W05", "Week of Jan 26, 2004"),
        ("Jan-May 2005", "Jan-May 2005"),
    ],
)
def test_api_period_labels_as_people_read_them(label: str, expected: str) -> None:
    assert period_name(label) == expected


def test_value_axis_ends_near_the_largest_value_with_format_ticks() -> None:
    axis = value_axis("currency", 9_838_141.37)
    assert axis["range"] == [0, pytest.approx(9_838_141.37 * HEADROOM)]
    assert axis["ticktext"] == ["$0", "$2M", "$4M", "$6M", "$8M", "$10M"]
    assert all(v <= axis["range"][1] for v in axis["tickvals"])
    assert value_axis("count", 3)["ticktext"] == ["0", "1", "2", "3"]  # whole numbers only
    assert value_axis("ratio", 0.3)["ticktext"][-1] == "30%"
    assert value_axis("currency", 0)["range"] == [0, HEADROOM]  # nothing to show: still a valid axis
    assert nice_step(2700) == 500


def test_text_room_leaves_exactly_the_label_lines() -> None:
    assert text_room(1, 1000) == HEADROOM  # a tall plot: the 8% headroom already holds one line
    assert text_room(2, 200) == pytest.approx(200 / (200 - 42))


def test_log_money_axis_ticks_only_1_2_5() -> None:
    axis = log_money_axis(900, 250_000)
    assert axis["type"] == "log"
    assert axis["ticktext"] == ["$1K", "$2K", "$5K", "$10K", "$20K", "$50K", "$100K", "$200K"]
    wide = log_money_axis(5, 5e6)  # more than three decades: only the decades
    assert wide["ticktext"] == ["$10", "$100", "$1K", "$10K", "$100K", "$1M"]


def test_hover_templates() -> None:
    assert hover_money("value") == "$%{value:,.2f}" and hover_count("x") == "%{x:,}"


# ---- every figure ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('format')) / 'sample.db'}")
    ingest_file(engine, SAMPLE_CSV)
    return engine


def _view_figures(engine: Engine) -> dict[str, go.Figure]:
    out: dict[str, go.Figure] = {}
    with snapshot(engine) as conn:
        options = filter_options(conn)
        for view in CATALOG:
            if view.chart is None:
                continue
            fig = run_view(conn, view, Filters(), {}, options).figure()
            if fig is not None:
                out[view.name] = fig
    return out


def _other_figures() -> dict[str, go.Figure]:
    lines = [
        {"product_line": "Ships", "revenue": 300.0, "revenue_share": 0.3, "iso3": "FRA", "country": "France"},
        {"product_line": "Cars", "revenue": 600.0, "revenue_share": 0.6, "iso3": "USA", "country": "USA"},
    ]
    years = [
        {"year": 2003, "revenue": 3_516_979.54, "growth": None},
        {"year": 2004, "revenue": 4_724_162.6, "growth": 0.343},
    ]
    comparison = {
        "metrics": {"revenue": {"previous": 1_267_959.53, "current": 1_791_486.71, "change_pct": 0.413}},
        "current_period": {"label": "Jan-May 2005"},
        "comparison_period": {"label": "Jan-May 2004"},
    }
    rfm = [
        {"customer_name": "A", "segment": "Champions", "recency_days": 3, "monetary": 900.0, "frequency": 3}
        | {"rfm": "555"},
        {"customer_name": "B", "segment": "Lost", "recency_days": 300, "monetary": 250_000.0, "frequency": 1}
        | {"rfm": "111"},
    ]
    penetration = [
        {"country": "USA", "revenue_per_customer": 90_000.0, "customer_count": 35, "product_lines_bought": 7}
        | {"product_line_share": 1.0},
        {"country": "Japan", "revenue_per_customer": 45_000.0, "customer_count": 2, "product_lines_bought": 4}
        | {"product_line_share": 0.57},
    ]
    return {
        "share_donut": figures.share_donut(lines, "product_line"),
        "choropleth": figures.choropleth(lines),
        "yearly_revenue": figures.yearly_revenue(years),
        "comparison_bars": analytics.comparison_bars(comparison),
        "rfm_scatter": analytics.rfm_scatter(rfm),
        "empty_cells": analytics.empty_cells_chart({"STATE": 1486, "ADDRESSLINE2": 2521}, 2823),
        "penetration": customers.penetration_chart(penetration),
    }


def _templates(fig: go.Figure) -> list[str]:
    found = []
    for trace in fig.data:
        for name in ("hovertemplate", "texttemplate"):
            value = getattr(trace, name, None)
            values = value if isinstance(value, list | tuple) else [value]
            found += [str(v) for v in values if v]
    return found


def _value_axes(fig: go.Figure) -> list[tuple[str, Any]]:
    """The axes and colour bars that carry values (not categories or dates)."""
    found: dict[str, Any] = {}
    for trace in fig.data:
        if trace.type in ("bar", "scatter"):
            x_name = "xaxis" + (trace.xaxis or "x")[1:]
            y_name = "yaxis" + (trace.yaxis or "y")[1:]
            horizontal = getattr(trace, "orientation", None) == "h"
            found[x_name if horizontal else y_name] = None
            numeric_x = all(isinstance(v, int | float) for v in (trace.x or ["text"]))
            if trace.type == "scatter" and numeric_x:
                found[x_name] = None
    axes = [(name, fig.layout[name]) for name in found]
    return axes + [(f"colorbar {i}", t.colorbar) for i, t in enumerate(fig.data) if hasattr(t, "colorbar")]


def test_every_chart_takes_its_formats_from_charts_format(sample: Engine) -> None:
    built = _view_figures(sample) | _other_figures()
    assert {"sales-over-time", "heatmap", "quarterly-analysis", "rfm", "status-distribution"} <= set(built)
    problems = []
    for name, fig in built.items():
        for template in _templates(fig):
            for spec in re.findall(r"%\{[^}:|]+([:|][^}]*)\}", template):
                if spec.lstrip(":") not in ALLOWED_SPECS and spec not in ALLOWED_SPECS:
                    problems.append(f"{name}: template format {spec!r} in {template!r}")
        for axis_name, axis in _value_axes(fig):
            for attribute in ("tickformat", "tickprefix", "exponentformat"):
                if getattr(axis, attribute, None):
                    problems.append(f"{name} {axis_name}: {attribute}={getattr(axis, attribute)!r}")
            texts = list(axis.ticktext or [])
            if not texts:
                problems.append(f"{name} {axis_name}: ticks left to Plotly, not written by charts.format")
            for text in texts:
                if not (MONEY_TICK.match(text) or COUNT_TICK.match(text) or SHARE_TICK.match(text)):
                    problems.append(f"{name} {axis_name}: tick text {text!r}")
    assert problems == []


def test_bar_axes_end_near_the_largest_bar(sample: Engine) -> None:
    built = _view_figures(sample)
    for name in ("sales-by-category", "sales-by-country", "top-customers", "quarterly-analysis"):
        fig = built[name]
        bar = fig.data[0]
        values = bar.x if bar.orientation == "h" else [v for t in fig.data for v in t.y]
        axis = fig.layout.xaxis if bar.orientation == "h" else fig.layout.yaxis
        assert axis.range[1] <= max(values) * 1.1, (
            f"{name}: {axis.range[1] / max(values):.2f}x the largest bar"
        )
