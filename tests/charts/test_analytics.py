"""Pure analytics figures: hand-made records in, Plotly figures out (no Streamlit, no HTTP)."""

from salesdash.charts.analytics import (
    comparison_bars,
    empty_cells_chart,
    forecast_chart,
    rfm_scatter,
    rfm_segments_chart,
)

HISTORY = [
    {"period": f"2004-{m:02d}", "period_start": f"2004-{m:02d}-01", "revenue": 100.0 * m}
    for m in range(1, 13)
]
FUTURE = [
    {
        "period": "2005-01",
        "period_start": "2005-01-01",
        "revenue": 1300.0,
        "lower_80": 1100.0,
        "upper_80": 1500.0,
        "lower_95": 1000.0,
        "upper_95": 1600.0,
    }
]
BACKTEST = {"months": 6, "mape": 0.125, "wape": 0.1, "points": [{"period": "2004-12", "forecast": 1150.0}]}


def test_forecast_chart_draws_bands_history_forecast_and_backtest():
    fig = forecast_chart({"history": HISTORY, "forecast": FUTURE, "backtest": BACKTEST})
    names = [t.name for t in fig.data]
    assert names == ["95% interval", "80% interval", "Actual revenue", "Forecast", "Backtest forecast"]
    band95 = fig.data[0]
    # the band starts at the last actual month and closes on itself: upper edge out, lower edge back
    assert list(band95.y) == [1200.0, 1600.0, 1000.0, 1200.0]
    assert list(fig.data[3].y) == [1200.0, 1300.0]
    notes = [a.text for a in fig.layout.annotations]
    assert any("MAPE 12.5%" in n and "weighted 10.0%" in n for n in notes)
    assert not forecast_chart(
        {"history": HISTORY, "forecast": FUTURE, "backtest": BACKTEST}, error_note=False
    ).layout.annotations


def test_a_forecast_that_is_not_reliable_is_grey_with_the_reason():
    reason = "Only 12 complete months of history: at least 24 <b>are</b> needed."
    fig = forecast_chart(
        {
            "history": HISTORY,
            "forecast": FUTURE,
            "backtest": BACKTEST,
            "reliability": {"verdict": "insufficient_history", "reason": reason},
        }
    )
    line = next(t for t in fig.data if t.name == "Rough guess (not reliable)")
    reliable = forecast_chart({"history": HISTORY, "forecast": FUTURE, "backtest": BACKTEST})
    assert line.line.color != next(t for t in reliable.data if t.name == "Forecast").line.color
    assert fig.data[0].fillcolor != reliable.data[0].fillcolor
    (note,) = [a.text for a in fig.layout.annotations]
    assert note.startswith("Not a reliable forecast: Only 12 complete months")
    assert "&lt;b&gt;are&lt;/b&gt;" in note and "<b>" not in note  # text, never markup
    assert "MAPE" not in note


def test_forecast_chart_without_data_says_so():
    fig = forecast_chart({"history": [], "forecast": []})
    assert fig.layout.annotations[0].text == "No forecast for these filters"


def test_rfm_charts_skip_empty_segments():
    segments = [
        {"segment": "Champions", "customer_count": 2, "revenue": 900.0, "revenue_share": 0.9},
        {"segment": "New", "customer_count": 0, "revenue": 0.0, "revenue_share": 0.0},
        {"segment": "Hibernating", "customer_count": 1, "revenue": 100.0, "revenue_share": 0.1},
    ]
    fig = rfm_segments_chart(segments)
    assert list(fig.data[0].y) == ["Champions", "Hibernating"]
    assert [t.strip() for t in fig.data[0].text] == ["2 customers", "1 customer"]  # the plural rule
    assert "90.0% of revenue" in fig.layout.yaxis.ticktext[0]  # the share under the name, never cut
    customers = [
        {
            "customer_name": "A",
            "segment": "Champions",
            "recency_days": 1,
            "monetary": 500.0,
            "frequency": 3,
            "rfm": "555",
        },
        {
            "customer_name": "B",
            "segment": "Hibernating",
            "recency_days": 300,
            "monetary": 50.0,
            "frequency": 1,
            "rfm": "111",
        },
    ]
    assert [t.name for t in rfm_scatter(customers).data] == ["Champions", "Hibernating"]


def test_empty_cells_chart_shows_only_columns_with_gaps():
    fig = empty_cells_chart({"STATE": 50, "CITY": 0, "ADDRESSLINE2": 90}, 100)
    assert list(fig.data[0].y) == ["ADDRESSLINE2", "STATE"]
    assert list(fig.data[0].x) == [0.9, 0.5]
    assert empty_cells_chart({"CITY": 0}, 100).layout.annotations[0].text.startswith("No empty cells")


def test_comparison_bars_label_the_change():
    comparison = {
        "current_period": {"label": "2004"},
        "comparison_period": {"label": "2003"},
        "metrics": {"revenue": {"current": 120.0, "previous": 100.0, "change": 20.0, "change_pct": 0.2}},
    }
    fig = comparison_bars(comparison)
    assert list(fig.data[0].x) == ["2003", "2004"]
    assert fig.layout.title.text == "▲ 20.0% vs 2003"
