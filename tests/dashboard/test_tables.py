"""Table formats: every share of the dashboard with one decimal ("2.9%", as the charts and cards show it)."""

from __future__ import annotations

from salesdash.dashboard.components.tables import column_config, frame


def test_shares_show_one_decimal_like_every_other_share() -> None:
    rows = [{"country": "Denmark", "revenue_share": 0.029312}, {"country": "USA", "revenue_share": 0.364}]
    df = frame(rows, ["country", "revenue_share"])
    assert [round(v, 4) for v in df["revenue_share"]] == [2.9312, 36.4]  # percentage points
    config = column_config(["revenue_share"])["revenue_share"]
    assert config["type_config"]["format"] == "%.1f%%"
    assert (config["type_config"]["min_value"], config["type_config"]["max_value"]) == (0.0, 100.0)
