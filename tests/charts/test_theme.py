"""The one palette (charts/theme.py) and the charts' text alternatives (charts/describe.py), on hand-made records:
every chart function draws in the theme it is given (light by default, as the exports use), takes no colour of
the other theme, and carries a summary line computed from what it draws plus the table of it."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest

from salesdash.charts import analytics, customers
from salesdash.charts import figures as charts
from salesdash.charts.describe import description, extremes
from salesdash.charts.format import money_short
from salesdash.charts.theme import DARK, LIGHT, OKABE_ITO, THEMES, Theme, theme_named
from tests.charts.test_analytics import BACKTEST, FUTURE, HISTORY
from tests.charts.test_customers import _acquisition_rows, _cells
from tests.charts.test_figures import LINES, MONTHLY

CONFIG = Path(charts.__file__).resolve().parents[1] / "dashboard" / ".streamlit" / "config.toml"
COUNTRIES = [
    {"country": "USA", "iso3": "USA", "revenue": 3000.0, "revenue_share": 0.6},
    {"country": "France", "iso3": "FRA", "revenue": 1500.0, "revenue_share": 0.3},
    {"country": "Ireland", "iso3": "IRL", "revenue": 500.0, "revenue_share": 0.1},
]
SEGMENTS = [
    {"segment": "Champions", "customer_count": 2, "revenue": 900.0, "revenue_share": 0.9},
    {"segment": "Hibernating", "customer_count": 1, "revenue": 100.0, "revenue_share": 0.1},
]
RFM_CUSTOMERS = [
    {"customer_name": "A", "segment": "Champions", "recency_days": 1, "monetary": 500.0, "frequency": 3, "rfm": "555"},
    {"customer_name": "B", "segment": "Hibernating", "recency_days": 300, "monetary": 50.0, "frequency": 1, "rfm": "111"},
]  # fmt: skip
COMPARISON = {
    "current_period": {"label": "2004"},
    "comparison_period": {"label": "2003"},
    "metrics": {"revenue": {"current": 120.0, "previous": 100.0, "change": 20.0, "change_pct": 0.2}},
}
PENETRATION = [
    {"country": "Spain", "revenue_per_customer": 2000.0, "customer_count": 5, "product_lines_bought": 7,
     "product_line_share": 1.0},
    {"country": "Norway", "revenue_per_customer": 500.0, "customer_count": 3, "product_lines_bought": 5,
     "product_line_share": 0.7},
]  # fmt: skip
HEAT = [{"month": 1, "2003": 100.0, "2004": 300.0}, {"month": 11, "2003": 900.0, "2004": None}]
QUARTERS = [
    {"year": 2003, "quarter": 1, "revenue": 100.0},
    {"year": 2003, "quarter": 4, "revenue": 700.0},
    {"year": 2004, "quarter": 1, "revenue": 200.0, "complete": False},
]
YEARS = [{"year": 2003, "revenue": 1000.0}, {"year": 2004, "revenue": 1500.0, "growth": 0.5}]
STATUSES = [{"status": "Shipped", "order_count": 280}, {"status": "Cancelled", "order_count": 4}]

# Every public chart function, drawn with a theme.
CHARTS: dict[str, Callable[[Theme], go.Figure]] = {
    "sales_over_time": lambda t: charts.sales_over_time(MONTHLY, "month", theme=t),
    "ranked_bars": lambda t: charts.ranked_bars(LINES, "product_line", theme=t),
    "share_donut": lambda t: charts.share_donut(LINES, "product_line", theme=t),
    "choropleth": lambda t: charts.choropleth(COUNTRIES, selected=["France"], theme=t),
    "month_year_heatmap": lambda t: charts.month_year_heatmap(HEAT, theme=t),
    "quarterly_comparison": lambda t: charts.quarterly_comparison(QUARTERS, theme=t),
    "yearly_revenue": lambda t: charts.yearly_revenue(YEARS, theme=t),
    "category_bars": lambda t: charts.category_bars(STATUSES, "status", "order_count", highlight="Cancelled", theme=t),
    "forecast_chart": lambda t: analytics.forecast_chart(
        {"history": HISTORY, "forecast": FUTURE, "backtest": BACKTEST}, theme=t
    ),
    "rfm_segments_chart": lambda t: analytics.rfm_segments_chart(SEGMENTS, theme=t),
    "rfm_scatter": lambda t: analytics.rfm_scatter(RFM_CUSTOMERS, theme=t),
    "comparison_bars": lambda t: analytics.comparison_bars(COMPARISON, theme=t),
    "empty_cells_chart": lambda t: analytics.empty_cells_chart({"STATE": 50, "ADDRESSLINE2": 90}, 100, theme=t),
    "acquisition_chart": lambda t: customers.acquisition_chart(_acquisition_rows(6), theme=t),
    "cohort_heatmap": lambda t: customers.cohort_heatmap(*_cells(4), theme=t),
    "penetration_chart": lambda t: customers.penetration_chart(PENETRATION, theme=t),
    "empty_figure": lambda t: charts.empty_figure(theme=t),
}  # fmt: skip


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #RRGGBB colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _colours(fig: go.Figure) -> set[str]:
    """Every colour written in the figure itself (its data and layout, not its template), upper-cased."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and (
            (node.startswith("#") and len(node) == 7) or node in ("white", "black")
        ):
            found.add(node.upper())

    spec = json.loads(fig.to_json())
    spec["layout"].pop("template", None)
    walk(spec)
    return found


def test_both_themes_are_made_from_the_okabe_ito_palette_and_are_readable():
    for theme in THEMES.values():
        assert set(theme.palette) <= set(OKABE_ITO.values())
        assert OKABE_ITO["black"] not in theme.palette  # it would vanish on the dark page
        assert theme.primary == OKABE_ITO["blue"]
        assert contrast(theme.text, theme.background) >= 7  # body text
        assert contrast(theme.muted_text, theme.background) >= 4.5  # captions, notes on charts
        assert contrast(theme.muted_text, theme.surface) >= 4.5  # captions in the sidebar
        assert contrast(theme.grey, theme.background) >= 3  # a grey bar still stands out from the page
        assert contrast("#FFFFFF", theme.grey) >= 3  # white labels inside a grey bar
    # every categorical colour is a graphic object of 3:1 or more on the dark page
    assert min(contrast(c, DARK.background) for c in DARK.palette) >= 3
    # the map: the lowest value stands out from land without data, on either theme
    assert contrast(DARK.sequential_map[0][1], DARK.land) >= 2
    assert LIGHT.sequential_map[0][1] != LIGHT.land
    # sequential scales are monotone in lightness: pale to dark on white, dark to bright on the dark page
    for theme, rising in ((LIGHT, False), (DARK, True)):
        for scale in (theme.sequential, theme.sequential_map):
            lights = [_luminance(colour) for _, colour in scale]
            assert lights == sorted(lights, reverse=not rising), (theme.name, scale)


def test_streamlit_config_theme_is_the_light_palette():
    """The Streamlit theme in config.toml is not a second definition: it must say what LIGHT says."""
    theme = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["theme"]
    assert theme["base"] == "light"
    assert theme["primaryColor"] == LIGHT.primary
    assert theme["backgroundColor"] == LIGHT.background
    assert theme["secondaryBackgroundColor"] == LIGHT.surface
    assert theme["textColor"] == LIGHT.text
    assert theme["borderColor"] == LIGHT.border
    assert theme["sidebar"]["backgroundColor"] == LIGHT.surface


def test_theme_named_falls_back_to_light():
    assert theme_named("dark") is DARK and theme_named("light") is LIGHT
    assert theme_named("neon") is LIGHT and theme_named(None) is LIGHT


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_draws_in_the_theme_it_is_given(name: str):
    light, dark, default = CHARTS[name](LIGHT), CHARTS[name](DARK), CHARTS[name](LIGHT)
    assert light.layout.template.layout.font.color == LIGHT.text
    assert dark.layout.template.layout.font.color == DARK.text
    assert dark.layout.template.layout.xaxis.gridcolor == DARK.grid
    # axis, grid and text colours come from the template, not from the figure
    for fig in (light, dark):
        assert fig.layout.font.color is None, name
        assert fig.layout.xaxis.gridcolor is None and fig.layout.yaxis.gridcolor is None, name
    # the dark figure holds no colour that only the light theme uses (its text, grid, land, page, scales)
    light_only = {LIGHT.text, LIGHT.grid, LIGHT.land, LIGHT.background, LIGHT.muted, LIGHT.grey}
    light_only |= {c for _, c in LIGHT.sequential + LIGHT.sequential_map}
    light_only -= {DARK.text, DARK.grid, DARK.land, DARK.background, DARK.muted, DARK.grey}
    light_only -= {c for _, c in DARK.sequential + DARK.sequential_map}  # a blue both scales pass through
    assert _colours(dark) & {c.upper() for c in light_only} == set(), name
    assert json.loads(default.to_json()) == json.loads(light.to_json())  # light is the default (exports)


def test_exports_draw_light_without_a_theme_argument():
    assert charts.ranked_bars(LINES, "product_line").layout.template.layout.font.color == LIGHT.text
    assert (
        analytics.forecast_chart({"history": HISTORY, "forecast": FUTURE}).layout.template == LIGHT.template
    )


def test_the_map_colours_land_without_data_and_its_scale_from_the_theme():
    fig = CHARTS["choropleth"](DARK)
    assert fig.layout.template.layout.geo.landcolor == DARK.land
    assert fig.layout.template.layout.geo.countrycolor == DARK.country_lines
    assert [list(step) for step in fig.data[0].colorscale] == DARK.sequential_map
    outline = list(fig.data[0].marker.line.color)
    assert outline == [DARK.background, DARK.text, DARK.background]  # France, selected, in the text colour


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_has_a_summary_line_and_a_table(name: str):
    summary, table = description(CHARTS[name](LIGHT))
    assert summary and "\n" not in summary, name
    if name != "empty_figure":
        assert table and all(isinstance(row, dict) and row for row in table), name
        assert len({tuple(row) for row in table}) == 1, name  # one set of columns


def test_summary_lines_say_what_the_chart_shows():
    said = {name: description(draw(LIGHT))[0] for name, draw in CHARTS.items()}
    assert said["ranked_bars"] == (
        "Revenue by product line: Classic Cars highest at $600 (60.0%), Trains lowest at $100 (10.0%)"
    )
    assert said["share_donut"] == (
        "Share of revenue by product line ($1.00K in all): Classic Cars largest at 60.0% ($600), "
        "Trains smallest at 10.0% ($100)"
    )
    assert said["sales_over_time"] == (
        "Revenue by month, Jan 2004 to Mar 2004: Feb 2004 highest at $2.50K, Mar 2004 lowest at $800; 10 orders"
    )
    assert said["choropleth"].startswith("Revenue by country: USA highest at $3.00K (60.0%), Ireland lowest")
    assert (
        said["month_year_heatmap"]
        == "Revenue by month and year: Nov 2003 highest at $900, Jan 2003 lowest at $100"
    )
    assert said["quarterly_comparison"].endswith("Q4 2003 highest at $700, Q1 2003 lowest at $100")
    assert said["category_bars"] == "Orders by status: Shipped highest at 280, Cancelled lowest at 4"
    assert said["rfm_segments_chart"] == (
        "Customers by RFM segment: Champions largest at 2 customers (90.0% of revenue), "
        "Hibernating smallest at 1 customer (10.0% of revenue)"
    )
    assert said["comparison_bars"] == "Revenue 2004: $120 against $100 in 2003 (up 20.0%)"
    assert said["forecast_chart"] == (
        "Forecast of monthly revenue, 2005-01 ($1.30K in all): only 2005-01, at $1.30K; "
        "last actual month 2004-12 at $1.20K"
    )
    assert said["empty_figure"] == "No data for these filters"


def test_tables_hold_the_drawn_numbers():
    table = description(CHARTS["ranked_bars"](LIGHT))[1]
    assert table[0] == {"Product line": "Classic Cars", "Revenue": "$600.00", "Share of revenue": "60.0%"}
    assert [row["Product line"] for row in table] == ["Classic Cars", "Ships", "Trains"]  # as drawn
    heat = description(CHARTS["month_year_heatmap"](LIGHT))[1]
    assert len(heat) == 12 and heat[10] == {"Month": "Nov", "2003": "$900", "2004": "–"}  # blank, never 0


def test_extremes_of_one_value_and_of_none():
    assert extremes("Revenue by country", [("France", 10.0)], money_short) == (
        "Revenue by country: only France, at $10"
    )
    assert extremes("Revenue by country", [("France", None)], money_short) == (
        "Revenue by country: no data for these filters"
    )
