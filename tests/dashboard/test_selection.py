"""Cross-filtering, pure (salesdash.dashboard.selection): selection payloads as Streamlit hands them to the
``on_select`` callback -> filter changes, and the "Filtered by" chips.

The payloads below were recorded from ``st.plotly_chart(..., on_select=..., selection_mode=...)`` in Chromium
over the project's own chart functions (a click on the second bar of ``ranked_bars``, a horizontal brush over
the last two months of ``sales_over_time``); the map point is Plotly's choropleth point (its ``location``)."""

from __future__ import annotations

from datetime import date

import pytest

from salesdash.charts import figures
from salesdash.dashboard.selection import (
    CALENDAR_PERIODS,
    calendar_period,
    category_change,
    chips,
    filter_of,
    highlighted,
    period_change,
    period_end,
    quarter_change,
    row_change,
    without,
)
from salesdash.filters import BY_PARAM, FILTERS, Filter, Filters

COUNTRIES = [
    {"country": "Spain", "revenue": 100.0, "revenue_share": 0.5, "iso3": "ESP"},
    {"country": "A&B <i>x</i>", "revenue": 50.0, "revenue_share": 0.25, "iso3": None},
]
BAR_CLICK = {
    "points": [
        {
            "curve_number": 0,
            "point_number": 1,
            "point_index": 1,
            "x": 50,
            "y": "A&B &lt;i&gt;x&lt;/i&gt;",
            "label": "A&B &lt;i&gt;x&lt;/i&gt;",
            "value": 50,
            "text": "\u2002$50 \u00b7 25.0%\u2002",
        }
    ],
    "point_indices": [1],
    "box": [],
    "lasso": [],
}
SERIES = [
    {"period": "2004-01", "period_start": "2004-01-01", "period_end": "2004-01-31", "complete": True,
     "order_count": 3, "revenue": 10.0},
    {"period": "2004-02", "period_start": "2004-02-01", "period_end": "2004-02-29", "complete": True,
     "order_count": 4, "revenue": 12.0},
    {"period": "2004-03", "period_start": "2004-03-01", "period_end": "2004-03-31", "complete": True,
     "order_count": 2, "revenue": 8.0},
]  # fmt: skip
BRUSH = {
    "points": [
        {"curve_number": 0, "point_number": 1, "point_index": 1, "x": "2004-02-01", "y": 4, "label": "2004-02-01",
         "value": 4, "customdata": ["2004-02", ""], "marker_pattern.shape": ""},
        {"curve_number": 0, "point_number": 2, "point_index": 2, "x": "2004-03-01", "y": 2, "label": "2004-03-01",
         "value": 2, "customdata": ["2004-03", ""], "marker_pattern.shape": ""},
        {"curve_number": 1, "point_number": 1, "point_index": 1, "x": "2004-02-01", "y": 12,
         "customdata": ["2004-02", ""], "marker_symbol": "circle", "marker_size": 6},
        {"curve_number": 1, "point_number": 2, "point_index": 2, "x": "2004-03-01", "y": 8,
         "customdata": ["2004-03", ""], "marker_symbol": "circle", "marker_size": 6},
    ],
    "point_indices": [1, 2],
    "box": [{"xref": "x", "yref": "y2", "x": ["2004-01-13 02:35:52.5773", "2004-03-06 11:27:50.1031"],
             "y": [4.32, 0]}],
    "lasso": [],
}  # fmt: skip


def test_every_chart_dimension_finds_its_filter_in_the_registry() -> None:
    # the dimensions the dashboard's charts are drawn by; each is the column of one declared filter
    found = {c: filter_of(c) for c in ("country", "product_line", "deal_size", "status", "customer_name")}
    assert {c: f.param if f else None for c, f in found.items()} == {
        "country": "country",
        "product_line": "productline",
        "deal_size": "dealsize",
        "status": "status",
        "customer_name": "customer",
    }
    assert filter_of("product_code").param == "productcode"  # type: ignore[union-attr]
    assert filter_of("order_date") is None  # the dates are set by time series, never by a category


def test_a_bar_click_sets_the_filter_of_the_unescaped_value() -> None:
    # the chart escapes names for Plotly (markup.plotly_text); the filter gets the name as the data spells it
    drawn = figures.ranked_bars(COUNTRIES, "country")
    assert list(drawn.data[0].y) == ["Spain", "A&B &lt;i&gt;x&lt;/i&gt;"]
    assert category_change(BAR_CLICK["points"], COUNTRIES, "country") == {"country": ["A&B <i>x</i>"]}


def test_a_map_click_is_matched_by_its_iso3_code() -> None:
    point = {"curve_number": 0, "point_number": 0, "point_index": 0, "location": "ESP", "z": 100.0}
    assert category_change([point], COUNTRIES, "country") == {"country": ["Spain"]}


def test_a_vertical_bar_click_and_a_one_value_filter() -> None:
    statuses = [{"status": "Shipped", "order_count": 5}, {"status": "On Hold", "order_count": 1}]
    point = {
        "curve_number": 0,
        "point_number": 1,
        "point_index": 1,
        "x": "On Hold",
        "y": 1,
        "label": "On Hold",
    }
    assert category_change([point], statuses, "status") == {"status": ["On Hold"]}
    customers = [{"customer_name": "Euro Shopping Channel", "revenue": 9.0}]
    click = {"point_index": 0, "x": 9.0, "y": "Euro Shopping Channel"}
    # the customer filter keeps one value (a filter of several values would get a list: FILTERS decides)
    expected = ["Euro Shopping Channel"] if BY_PARAM["customer"].many else "Euro Shopping Channel"
    assert category_change([click], customers, "customer_name") == {"customer": expected}


def test_nothing_matched_changes_nothing() -> None:
    assert category_change([], COUNTRIES, "country") is None
    assert category_change([{"point_index": 0, "x": 1.0, "y": "Atlantis"}], COUNTRIES, "country") is None
    assert category_change(BAR_CLICK["points"], COUNTRIES, "product_code") is None


def test_the_filtered_bars_are_highlighted_among_the_others() -> None:
    labels = list(figures.ranked_bars(COUNTRIES, "country").data[0].y)
    assert highlighted(labels, ["A&B <i>x</i>"]) == [1]  # matched as drawn (escaped)
    assert highlighted(labels, []) is None  # no filter: nothing faded
    assert highlighted(labels, ["Spain", "A&B <i>x</i>"]) is None  # every bar is in the filter


def test_a_table_row_sets_the_filter_of_its_column() -> None:
    assert row_change([0], COUNTRIES, "country") == {"country": ["Spain"]}
    assert row_change([7], COUNTRIES, "country") is None  # a stale row index
    assert row_change([], COUNTRIES, "country") is None


def test_a_brush_sets_the_date_range_to_the_selected_periods_bounds() -> None:
    assert period_change(BRUSH["points"], SERIES, "month") == {
        "start": date(2004, 2, 1),
        "end": date(2004, 3, 31),
    }
    # kept inside the data's dates: the sidebar's date inputs accept nothing outside them
    within = (date(2004, 2, 10), date(2004, 3, 15))
    assert period_change(BRUSH["points"], SERIES, "month", within) == {"start": within[0], "end": within[1]}
    assert period_change([], SERIES, "month") is None


def test_period_ends_without_period_end() -> None:
    # trend rows (quarterly analysis) give only period_start: the grain says where the period ends
    assert period_end(date(2004, 1, 1), "month") == date(2004, 1, 31)
    assert period_end(date(2004, 2, 1), "month") == date(2004, 2, 29)
    assert period_end(date(2004, 10, 1), "quarter") == date(2004, 12, 31)
    assert period_end(date(2004, 1, 1), "year") == date(2004, 12, 31)
    assert period_end(date(2004, 3, 1), "week") == date(2004, 3, 7)
    years = [{"period_start": "2003-01-01"}, {"period_start": "2004-01-01"}]
    assert period_change([{"point_index": 1, "x": "2004"}], years, "year") == {
        "start": date(2004, 1, 1),
        "end": date(2004, 12, 31),
    }


def test_a_quarter_bar_and_the_heatmap_control() -> None:
    fig = figures.quarterly_comparison(
        [{"year": 2003, "quarter": 4, "revenue": 1.0}, {"year": 2004, "quarter": 1, "revenue": 2.0}]
    )
    names = [str(t.name) for t in fig.data]
    click = {"curve_number": 1, "point_number": 0, "point_index": 0, "x": "Q1", "y": 2.0}
    assert quarter_change([click], names) == {"start": date(2004, 1, 1), "end": date(2004, 3, 31)}
    assert quarter_change([{"curve_number": 5, "x": "Q1"}], names) is None
    assert calendar_period(2004, "Whole year") == (date(2004, 1, 1), date(2004, 12, 31))
    assert calendar_period(2004, "Q3") == (date(2004, 7, 1), date(2004, 9, 30))
    assert calendar_period(2004, "February") == (date(2004, 2, 1), date(2004, 2, 29))
    assert len(CALENDAR_PERIODS) == 17


def test_one_chip_per_restricting_filter_in_the_registrys_words() -> None:
    assert chips(Filters()) == []
    found = chips(
        Filters(
            start=date(2004, 1, 1),
            end=date(2004, 3, 31),
            countries=("France", "Spain", "Italy", "Japan"),
            product_lines=("Motorcycles",),
        )
    )
    assert [(c.text, c.clears) for c in found] == [
        ("Order dates: 2004-01-01 to 2004-03-31", ("start", "end")),
        ("Countries: France, Italy, Japan +1 more", ("country",)),
        ("Product lines: Motorcycles", ("productline",)),
    ]
    assert without(("start", "end")) == {"start": None, "end": None}
    assert without(("country",)) == {"country": []}


@pytest.mark.parametrize("declared", [f for f in FILTERS if f.param not in ("start", "end")])
def test_every_filter_has_a_chip_and_a_removal(declared: Filter) -> None:
    value = ("X",) if declared.many else "X"
    (chip,) = chips(Filters(**{declared.attr: value}))
    assert chip.text == f"{declared.label}: X" and chip.clears == (declared.param,)
    assert without(chip.clears) == {declared.param: [] if declared.many else None}
