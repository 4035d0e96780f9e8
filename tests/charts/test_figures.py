"""Chart functions are pure: hand-made records in, a Plotly figure out (no Streamlit, no API)."""

from __future__ import annotations

import ast
from pathlib import Path

import plotly.graph_objects as go

from salesdash.charts import figures as charts
from salesdash.vocabulary import DEAL_SIZE_ORDER

MONTHLY = [
    {"period": "2004-01", "period_start": "2004-01-01", "revenue": 1000.0, "order_count": 3},
    {"period": "2004-02", "period_start": "2004-02-01", "revenue": 2500.5, "order_count": 5},
    {"period": "2004-03", "period_start": "2004-03-01", "revenue": 800.0, "order_count": 2},
]
LINES = [
    {"product_line": "Ships", "revenue": 300.0, "revenue_share": 0.3, "units": 30, "order_count": 4},
    {"product_line": "Classic Cars", "revenue": 600.0, "revenue_share": 0.6, "units": 50, "order_count": 7},
    {"product_line": "Trains", "revenue": 100.0, "revenue_share": 0.1, "units": 80, "order_count": 1},
]


SRC = Path(charts.__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    return {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }


def test_charts_package_has_no_streamlit_http_or_database() -> None:
    for path in sorted((SRC / "charts").glob("*.py")):
        banned = {
            m for m in _imports(path) if m.split(".")[0] in {"streamlit", "requests", "flask", "sqlalchemy"}
        }
        banned |= {m for m in _imports(path) if m.startswith(("salesdash.dashboard", "salesdash.store"))}
        assert not banned, (path.name, banned)


def test_exports_views_and_api_do_not_import_the_dashboard() -> None:
    """The API server draws PDF and PNG charts without loading the Streamlit dashboard package."""
    for package in ("export", "views", "api"):
        for path in sorted((SRC / package).rglob("*.py")):
            assert not {m for m in _imports(path) if m.startswith("salesdash.dashboard")}, path


def test_sales_over_time_draws_revenue_line_above_order_bars() -> None:
    fig = charts.sales_over_time(MONTHLY, "month")
    bars, line = fig.data
    assert isinstance(bars, go.Bar) and isinstance(line, go.Scatter)
    assert list(line.y) == [1000.0, 2500.5, 800.0]
    assert list(bars.y) == [3, 5, 2]
    # The revenue axis overlays the orders axis, so the line is drawn on top of the bars.
    assert line.yaxis == "y" and bars.yaxis == "y2"
    assert fig.layout.yaxis.overlaying == "y2"
    assert list(fig.layout.yaxis.ticktext) == ["$0", "$500", "$1K", "$1.5K", "$2K", "$2.5K"]


def test_empty_records_give_a_labelled_blank_chart() -> None:
    for fig in (
        charts.sales_over_time([], "month"),
        charts.ranked_bars([], "country"),
        charts.share_donut([], "product_line"),
        charts.choropleth([]),
        charts.month_year_heatmap([]),
        charts.quarterly_comparison([]),
        charts.yearly_revenue([]),
        charts.category_bars([], "status", "order_count"),
    ):
        assert not fig.data
        assert "No" in fig.layout.annotations[0].text


def test_ranked_bars_sorted_limited_and_labelled() -> None:
    fig = charts.ranked_bars(LINES, "product_line", limit=2)
    (bar,) = fig.data
    assert list(bar.y) == ["Classic Cars", "Ships"]
    assert list(bar.x) == [600.0, 300.0]
    assert [t.strip() for t in bar.text] == ["$600 · 60.0%", "$300 · 30.0%"]
    units = charts.ranked_bars(LINES, "product_line", "units")
    assert list(units.data[0].y) == ["Trains", "Classic Cars", "Ships"]
    assert [t.strip() for t in units.data[0].text] == ["80", "50", "30"]


def test_share_donut_uses_colour_blind_safe_palette() -> None:
    fig = charts.share_donut(LINES, "product_line")
    (pie,) = fig.data
    assert list(pie.labels) == ["Classic Cars", "Ships", "Trains"]
    assert list(pie.marker.colors[:3]) == charts.PALETTE[:3]
    assert set(charts.PALETTE) <= set(charts.OKABE_ITO.values())
    assert "$1.00K" in fig.layout.annotations[0].text


def test_choropleth_uses_iso3_and_skips_unmapped() -> None:
    fig = charts.choropleth(
        [
            {"country": "USA", "iso3": "USA", "revenue": 10.0},
            {"country": "UK", "iso3": "GBR", "revenue": 5.0},
            {"country": "Atlantis", "iso3": None, "revenue": 1.0},
        ]
    )
    (geo,) = fig.data
    assert list(geo.locations) == ["USA", "GBR"]
    assert geo.locationmode == "ISO-3"
    assert list(geo.z) == [10.0, 5.0]


def test_heatmap_leaves_missing_months_blank() -> None:
    # The API's shape: one row per month, one key per year, null where the month has no data.
    rows = [{"month": m, "month_name": "x", "2004": None, "2005": None} for m in range(1, 13)]
    rows[0] |= {"2004": 100.0, "2005": 50.0}
    rows[1] |= {"2004": 0.0}
    fig = charts.month_year_heatmap(rows, [2004, 2005])
    (heat,) = fig.data
    assert list(heat.x) == ["2004", "2005"]
    assert len(heat.z) == 12
    assert list(heat.z[0]) == [100.0, 50.0]
    assert list(heat.z[1]) == [0.0, None]  # a real zero stays 0; a month with no data is blank
    assert all(v is None for v in heat.z[11])
    assert heat.text[1][1] == ""
    assert heat.text[0][0] == "$100"
    # Years can also be read from the rows themselves.
    assert list(charts.month_year_heatmap(rows).data[0].x) == ["2004", "2005"]


def test_quarterly_comparison_one_series_per_year_and_marks_partial_quarters() -> None:
    records = [
        {"period": "2003-Q2", "period_start": "2003-04-01", "revenue": 20.0, "complete": True},
        {"period": "2003-Q1", "period_start": "2003-01-01", "revenue": 10.0, "complete": True},
        {"period": "2004-Q1", "period_start": "2004-01-01", "revenue": 15.0, "complete": False},
    ]
    fig = charts.quarterly_comparison(records)
    assert [t.name for t in fig.data] == ["2003", "2004"]
    assert list(fig.data[0].x) == ["Q1", "Q2"]
    assert list(fig.data[0].y) == [10.0, 20.0]
    assert fig.data[1].customdata[0] == "partial quarter"
    assert fig.data[1].marker.pattern.shape[0] == "/"
    assert fig.layout.barmode == "group"


def test_yearly_revenue_labels_growth_from_the_records() -> None:
    records = [
        {"year": 2004, "revenue": 2000.0, "growth": 0.25},
        {"year": 2003, "revenue": 1600.0, "growth": None},
        {"year": 2005, "revenue": 500.0, "growth": -0.1, "partial": True, "period_label": "Jan-May"},
    ]
    fig = charts.yearly_revenue(records)
    (bar,) = fig.data
    assert list(bar.y) == [1600.0, 2000.0, 500.0]
    assert "▲ 25.0%" in bar.text[1]
    assert "▼ 10.0%" in bar.text[2]
    assert "Jan-May" in bar.x[2]


def test_category_bars_follow_the_given_order() -> None:
    records = [
        {"deal_size": "Large", "revenue": 5.0},
        {"deal_size": "Small", "revenue": 1.0},
        {"deal_size": "Medium", "revenue": 3.0},
    ]
    fig = charts.category_bars(records, "deal_size", "revenue", order=DEAL_SIZE_ORDER)
    assert list(fig.data[0].x) == ["Small", "Medium", "Large"]
    assert list(fig.data[0].text) == ["$1", "$3", "$5"]


def test_sales_over_time_marks_partial_periods_and_counts_whole_orders() -> None:
    records = [
        {"period": "2004-02", "period_start": "2004-02-01", "revenue": 900.0, "order_count": 1},
        {"period": "2004-03", "period_start": "2004-03-01", "revenue": 0.0, "order_count": 0},
        {"period": "2004-04", "period_start": "2004-04-01", "revenue": 0.0, "order_count": 0},
        {
            "period": "2004-05",
            "period_start": "2004-05-01",
            "revenue": 700.0,
            "order_count": 1,
            "complete": False,
        },
    ]
    fig = charts.sales_over_time(records, "month")
    bars, line = fig.data
    assert list(line.y) == [900.0, 0.0, 0.0, 700.0]  # the empty months are points at 0, not skipped
    assert list(bars.marker.pattern.shape) == ["", "", "", "/"]
    assert list(line.marker.symbol) == ["circle", "circle", "circle", "circle-open"]
    assert any("partial period" in a.text for a in fig.layout.annotations)
    # an orders axis of 0-1 ticks whole numbers only
    assert list(fig.layout.yaxis2.ticktext) == ["0", "1"]
    whole = charts.sales_over_time(MONTHLY, "month")
    assert not whole.layout.annotations and set(whole.data[0].marker.pattern.shape) == {""}


def test_the_day_grain_is_offered_only_for_short_ranges() -> None:
    assert charts.grains_for(880) == ["week", "month", "quarter", "year"]
    assert charts.grains_for(charts.DAY_GRAIN_MAX_DAYS)[0] == "day"
    assert "day" not in charts.grains_for(None)


def test_many_categories_are_drawn_one_per_row_in_their_order() -> None:
    from salesdash.vocabulary import STATUS_ORDER

    records = [
        {"status": s, "order_count": n} for s, n in zip(STATUS_ORDER, [286, 4, 6, 4, 3, 4], strict=False)
    ]
    fig = charts.category_bars(list(reversed(records)), "status", "order_count", order=STATUS_ORDER)
    (bar,) = fig.data
    assert bar.orientation == "h"  # six names side by side were cut on a phone ("Shipp", "Resolv")
    assert list(bar.y) == list(STATUS_ORDER)[:6]
    assert [t.strip() for t in bar.text] == ["286", "4", "6", "4", "3", "4"]
    assert fig.layout.xaxis.range[1] <= 286 * 1.1


def test_long_bar_names_wrap_onto_two_lines() -> None:
    rows = [
        {"customer_name": "Mini Gifts Distributors Ltd.", "revenue": 2.0},
        {"customer_name": "AV", "revenue": 1.0},
    ]
    fig = charts.ranked_bars(rows, "customer_name")
    assert list(fig.layout.yaxis.ticktext) == ["Mini Gifts<br>Distributors Ltd.", "AV"]
    assert list(fig.data[0].y) == ["Mini Gifts Distributors Ltd.", "AV"]  # the data keeps the whole name
    assert fig.layout.margin.l < 7.4 * len("Mini Gifts Distributors Ltd.")  # a narrower label column
