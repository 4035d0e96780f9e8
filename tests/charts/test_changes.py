"""The comparison charts are pure: hand-made records in, a Plotly figure out (year overlay, top movers,
list-price gap)."""

from __future__ import annotations

import pytest

from salesdash.charts.changes import (
    GAIN,
    LOSS,
    gap_label,
    list_price_gap_chart,
    movers_chart,
    overlay_has_partial,
    year_overlay,
)


def _month(year: int, month: int, revenue: float, *, complete: bool = True) -> dict:
    return {
        "period": f"{year}-{month:02d}",
        "period_start": f"{year}-{month:02d}-01",
        "revenue": revenue,
        "order_count": 1,
        "complete": complete,
    }


WHOLE_2004 = [_month(2004, m, 1000.0 + m) for m in range(1, 13)]
PART_2005 = [_month(2005, m, 2000.0 + m) for m in range(1, 6)]


def test_year_overlay_draws_one_line_per_year_on_the_same_months() -> None:
    fig = year_overlay(WHOLE_2004 + PART_2005, "month")
    newest, older = fig.data
    assert newest.name == "2005 (Jan-May, partial)"  # a partial year says which months it holds
    assert older.name == "2004"
    assert list(newest.x) == ["Jan", "Feb", "Mar", "Apr", "May"]  # stops where the data stops
    assert list(older.x)[:5] == list(newest.x)  # the same month axis
    assert list(older.y) == [r["revenue"] for r in WHOLE_2004]
    assert newest.line.dash == "dot" and older.line.dash == "solid"
    assert list(fig.layout.xaxis.categoryarray) == [
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ]
    assert overlay_has_partial(WHOLE_2004 + PART_2005) and not overlay_has_partial(WHOLE_2004)
    assert fig.layout.xaxis.tickangle == 0  # upright month names


def test_year_overlay_marks_a_partial_month_and_takes_quarters() -> None:
    cut = [*WHOLE_2004[:11], _month(2004, 12, 50.0, complete=False)]
    fig = year_overlay(cut, "month")
    assert fig.data[0].name == "2004 (Jan-Dec, partial)"
    assert list(fig.data[0].marker.symbol)[-1] == "circle-open"
    quarters = [
        {
            "period": f"2004-Q{q}",
            "period_start": f"2004-{3 * q - 2:02d}-01",
            "revenue": 10.0 * q,
            "complete": True,
        }
        for q in range(1, 5)
    ]
    fig = year_overlay(quarters, "quarter")
    assert list(fig.data[0].x) == ["Q1", "Q2", "Q3", "Q4"] and fig.data[0].name == "2004"
    assert not fig.layout.annotations  # nothing partial, nothing to say
    with pytest.raises(ValueError, match="per month or quarter"):
        year_overlay(quarters, "week")
    assert year_overlay([], "month").layout.annotations[0].text == "No data for these filters"


MOVERS = [
    {
        "customer_name": "Up Co",
        "current_revenue": 300.0,
        "previous_revenue": 100.0,
        "revenue_change": 200.0,
        "revenue_change_pct": 2.0,
    },
    {
        "customer_name": "New Co",
        "current_revenue": 150.0,
        "previous_revenue": 0.0,
        "revenue_change": 150.0,
        "revenue_change_pct": None,
    },
    {
        "customer_name": "Down <b>Ltd</b>",
        "current_revenue": 0.0,
        "previous_revenue": 400.0,
        "revenue_change": -400.0,
        "revenue_change_pct": -1.0,
    },
]


def test_movers_chart_diverges_from_zero_and_says_new() -> None:
    fig = movers_chart(MOVERS, "customer_name")
    bars = fig.data[0]
    assert list(bars.x) == [200.0, 150.0, -400.0]  # gains at the top, losses at the bottom
    assert list(bars.marker.color) == [GAIN, GAIN, LOSS]
    assert [c[0] for c in bars.customdata] == [
        "Up Co",
        "New Co",
        "Down &lt;b&gt;Ltd&lt;/b&gt;",
    ]  # never markup
    assert list(bars.text) == ["+$200", "+$150 new", "-$400"]  # "new": nothing a year earlier
    assert "(+200.0%)" in bars.customdata[0][1] and "(-100.0%)" in bars.customdata[2][1]
    assert list(bars.y) == sorted(bars.y, reverse=True)  # the first row at the top
    low, high = fig.layout.xaxis.range
    assert low < -400 and high > 200  # room for the labels either side
    names = [a.text for a in fig.layout.annotations if a.xref == "paper"]
    assert names == [c[0] for c in bars.customdata]  # each name on its own line, from the left edge
    labels = [(a.text, a.xanchor) for a in fig.layout.annotations if a.xref != "paper"]
    assert labels == [("+$200", "left"), ("+$150 new", "left"), ("-$400", "right")]  # beyond each bar's end
    assert movers_chart([], "customer_name").layout.annotations[0].text.startswith("No comparison period")


GAPS = [
    {
        "product_line": "Classic Cars",
        "list_price_revenue": 1000.0,
        "revenue": 960.0,
        "list_price_gap": -40.0,
        "list_price_gap_pct": -0.04,
    },
    {
        "product_line": "Trains",
        "list_price_revenue": 100.0,
        "revenue": 115.0,
        "list_price_gap": 15.0,
        "list_price_gap_pct": 0.15,
    },
    {
        "product_line": "Nothing",
        "list_price_revenue": 0.0,
        "revenue": 0.0,
        "list_price_gap": 0.0,
        "list_price_gap_pct": None,
    },
]


def test_list_price_gap_chart_is_a_gap_not_a_margin() -> None:
    fig = list_price_gap_chart(GAPS, "product_line")
    bars = fig.data[0]
    # above list first; a row without a list price is left out
    assert [c[0] for c in bars.customdata] == ["Trains", "Classic Cars"]
    assert list(bars.x) == [0.15, -0.04]
    assert list(bars.marker.color) == [GAIN, LOSS]
    assert gap_label(GAPS[0]) == "-4.0%" and "$40 (4.0%) below list price" in bars.customdata[1][1]
    assert "Not a profit margin" in fig.layout.annotations[-1].text
    assert "0%" in fig.layout.xaxis.ticktext and all(t.endswith("%") for t in fig.layout.xaxis.ticktext)
    many = [
        {
            "product_code": f"S{i:02d}",
            "list_price_revenue": 100.0,
            "revenue": 100.0 + i,
            "list_price_gap": float(i),
            "list_price_gap_pct": i / 100,
        }
        for i in range(1, 31)
    ]
    top = list_price_gap_chart(many, "product_code", limit=20)
    shown = [c[0] for c in top.data[0].customdata]
    assert len(shown) == 20 and "S01" not in shown  # the largest gaps in money
