"""The monthly revenue forecast: model choice, intervals, backtest, determinism, and its history on every engine."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.errors import InsufficientData, InvalidParameter
from salesdash.forecast import HOLT_WINTERS, MIN_MONTHS, fit, forecast, forecast_series, mape, wape
from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, over_time
from salesdash.store import snapshot
from tests.orderlines import aligned_csv

SEASON = np.array([-30, -20, -10, 0, 5, 10, 0, -5, 10, 40, 120, -120], dtype=float)


def series(values: np.ndarray | list[float], start: str = "2003-01") -> pd.Series:
    return pd.Series(
        np.asarray(values, dtype=float), index=pd.period_range(start, periods=len(values), freq="M")
    )


def seasonal(months: int, noise: float = 0.0) -> pd.Series:
    """Level 1,000, +10 a month, a fixed 12-month pattern, and (seeded) noise."""
    t = np.arange(months)
    rng = np.random.default_rng(7)
    return series(1000 + 10 * t + SEASON[t % 12] + noise * rng.standard_normal(months))


def test_mape_is_the_mean_of_absolute_percentage_errors_skipping_zero_months():
    assert mape(np.array([100.0, 200.0, 0.0]), np.array([110.0, 150.0, 5.0])) == pytest.approx(
        (0.1 + 0.25) / 2
    )
    assert mape(np.array([0.0, 0.0]), np.array([1.0, 2.0])) is None


def test_wape_weighs_errors_by_revenue():
    # |100-110| + |200-150| + |0-5| = 65 over 300 of revenue
    assert wape(np.array([100.0, 200.0, 0.0]), np.array([110.0, 150.0, 5.0])) == pytest.approx(65 / 300)
    assert wape(np.array([0.0]), np.array([3.0])) is None


def test_the_backtest_fits_without_the_last_six_months_and_scores_them():
    """Changing the last 6 months changes the error but not the backtest's forecasts (no leakage), and the
    MAPE is the mean of the per-month errors against what happened."""
    base = seasonal(30, noise=15)
    changed = base.copy()
    changed.iloc[-6:] = [900, 1500, 1200, 1300, 1250, 1400]
    a = forecast_series(base, 3).backtest
    b = forecast_series(changed, 3).backtest
    assert [p["forecast"] for p in a["points"]] == [p["forecast"] for p in b["points"]]
    assert (a["train_months"], a["train_end"]) == (24, "2004-12")
    expected = np.mean(
        [abs(a_ - f) / a_ for a_, f in zip(changed.iloc[-6:], [p["forecast"] for p in b["points"]])]
    )
    assert b["mape"] == pytest.approx(expected, abs=1e-5)
    assert b["mape"] != a["mape"]
    # the forecasts are the model refitted on the first 24 months
    direct = fit(base.iloc[:-6].to_numpy(), HOLT_WINTERS)
    assert [p["forecast"] for p in a["points"]] == [round(max(v, 0.0), 2) for v in direct.forecast(6)]


def test_a_clean_seasonal_series_is_forecast_closely_and_the_backtest_says_so():
    y = seasonal(36)
    result = forecast_series(y, 12)
    truth = 1000 + 10 * np.arange(36, 48) + SEASON[np.arange(36, 48) % 12]
    predicted = np.array([row["revenue"] for row in result.forecast])
    assert result.model == "holt_winters"
    assert np.max(np.abs(predicted - truth) / truth) < 0.02
    assert result.backtest["mape"] < 0.02


@pytest.mark.parametrize(("months", "model"), [(24, "holt_winters"), (23, "holt"), (MIN_MONTHS, "holt")])
def test_model_depends_on_the_history_length_and_says_why(months: int, model: str):
    result = forecast_series(seasonal(months, noise=10), 3)
    assert result.model == model
    assert result.model_label.startswith("ETS(")
    assert f"{months} months" in result.model_reason
    assert result.backtest["train_months"] == months - 6
    assert result.backtest["mape"] is not None


def test_too_little_history_says_how_much_is_needed():
    with pytest.raises(InsufficientData) as info:
        forecast_series(seasonal(MIN_MONTHS - 1), 3)
    assert "at least 12 complete months" in info.value.message
    assert "covers 11" in info.value.message
    assert info.value.details[0]["months_needed"] == 12
    assert info.value.http_status == 422


@pytest.mark.parametrize("horizon", [0, 13, -1])
def test_horizon_is_one_to_twelve(horizon: int):
    with pytest.raises(InvalidParameter) as info:
        forecast_series(seasonal(30), horizon)
    assert info.value.details[0]["parameter"] == "horizon"


@pytest.mark.parametrize(
    "y", [seasonal(30, noise=40), seasonal(18, noise=40), series([0.0] * 10 + [50.0] * 10)]
)
def test_intervals_nest_and_never_go_below_zero(y: pd.Series):
    result = forecast_series(y, 12)
    assert len(result.forecast) == 12
    for row in result.forecast:
        assert 0 <= row["lower_95"] <= row["lower_80"] <= row["revenue"] <= row["upper_80"] <= row["upper_95"]
    assert result.forecast[0]["upper_95"] > result.forecast[0]["upper_80"]


def test_the_forecast_is_deterministic():
    y = seasonal(29, noise=25)
    assert forecast_series(y, 12).to_dict() == forecast_series(y.copy(), 12).to_dict()


def test_forecast_months_follow_the_history():
    result = forecast_series(seasonal(26, noise=5), 3)
    assert result.history_end == "2005-02"
    assert [row["period"] for row in result.forecast] == ["2005-03", "2005-04", "2005-05"]
    assert [r["kind"] for r in result.records()].count("forecast") == 3


@pytest.fixture
def aligned_engine(fresh_engine: Engine, tmp_path: Path) -> Engine:
    ingest_file(fresh_engine, aligned_csv(tmp_path / "aligned.csv"))
    return fresh_engine


def test_history_is_the_metric_layer_revenue_on_complete_months(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        result = forecast(conn, Filters(), 3)
        monthly = over_time(conn, Filters(), "month")
    # the data ends on 10 May 2005: May is left out, April is the last month of history
    assert (result.history_start, result.history_end, result.history_months) == ("2003-01", "2005-04", 28)
    assert any("2005-05 is left out" in note for note in result.notes)
    expected = dict(zip(monthly["period"], monthly["revenue"], strict=True))
    assert {h["period"]: h["revenue"] for h in result.history} == {
        p: v for p, v in expected.items() if p != "2005-05"
    }
    assert result.forecast[0]["period"] == "2005-05"


def test_a_customer_who_stopped_ordering_has_zero_months_not_a_shorter_history(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        result = forecast(conn, Filters(customer="Fading Ltd"), 3)
    assert result.history_end == "2005-04"
    assert result.history[-1] == {"period": "2005-04", "period_start": "2005-04-01", "revenue": 0.0}
    assert result.history[-2]["revenue"] == 500.0


def test_a_start_filter_inside_a_month_leaves_that_month_out(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        result = forecast(conn, Filters(start=date(2003, 6, 15)), 1)
    assert result.history_start == "2003-07"
    assert any("2003-06 is left out" in note for note in result.notes)


def test_too_few_months_in_view_is_a_clear_error(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        with pytest.raises(InsufficientData) as info:
            forecast(conn, Filters(start=date(2004, 9, 1)), 3)
        with pytest.raises(InsufficientData):
            forecast(conn, Filters(countries=("Nowhere",)), 3)
    assert "covers 8" in info.value.message  # Sep 2004 - Apr 2005
