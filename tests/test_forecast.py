"""The monthly revenue forecast: model choice, intervals, backtest, determinism, and its history on every engine."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.errors import InsufficientData, InvalidParameter
from salesdash.forecast import (
    HOLT,
    HOLT_WINTERS,
    MAX_WAPE,
    MIN_MONTHS,
    Model,
    fit,
    forecast,
    forecast_series,
    mape,
    wape,
)
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


# ---- the fit, checked against values computed independently -------------------------------------------------


def textbook_sse_and_forecast(
    y: list[float],
    alpha: float,
    beta: float,
    gamma: float,
    level: float,
    trend: float,
    season: list[float],
    h: int,
) -> tuple[float, list[float]]:
    """Holt-Winters with additive errors written out the textbook way, one scalar at a time (Hyndman &
    Athanasopoulos, "Forecasting: principles and practice", 8.3): the sum of squared one-step errors and the
    forecasts 1..h. ``season`` is empty for Holt (no seasonality)."""
    s = list(season)
    sse = 0.0
    for t, value in enumerate(y):
        s_old = s[t % 12] if s else 0.0
        error = value - (level + trend + s_old)
        sse += error**2
        level, trend = level + trend + alpha * error, trend + beta * error
        if s:
            s[t % 12] = s_old + gamma * error
    n = len(y)
    ahead = [level + k * trend + (s[(n + k - 1) % 12] if s else 0.0) for k in range(1, h + 1)]
    return sse, ahead


def state_space_variances(alpha: float, beta: float, gamma: float, seasonal: bool, sigma2: float, h: int):
    """Forecast variances from the state-space form x_t = F x_{t-1} + g e_t, y_t = w x_{t-1} + e_t: the h-step
    error is e + sum_j (w F^(j-1) g) e, so var_h = sigma2 (1 + sum_{j<h} (w F^(j-1) g)^2)."""
    if seasonal:  # state: level, trend, s_t, s_{t-1}, ..., s_{t-11}
        size = 14
        F = np.zeros((size, size))
        F[0, :2] = [1, 1]
        F[1, 1] = 1
        F[2, size - 1] = 1  # the new seasonal state starts from the one a season ago
        for i in range(3, size):
            F[i, i - 1] = 1
        g = np.zeros(size)
        g[:3] = [alpha, beta, gamma]
        w = np.zeros(size)
        w[:2] = 1
        w[size - 1] = 1
    else:
        F = np.array([[1.0, 1.0], [0.0, 1.0]])
        g = np.array([alpha, beta])
        w = np.array([1.0, 1.0])
    out, power, total = [], np.eye(len(g)), 0.0
    for _ in range(h):
        out.append(sigma2 * (1 + total))
        total += float(w @ power @ g) ** 2
        power = F @ power
    return np.array(out)


GRID = [k / 20 for k in range(21)]


@pytest.mark.parametrize(
    ("y", "model"), [(seasonal(29, noise=25), HOLT_WINTERS), (seasonal(20, noise=25), HOLT)]
)
def test_the_fit_is_the_best_grid_point_by_an_independent_recursion(y: pd.Series, model: Model):
    """Every admissible grid point run through the scalar textbook recursion: the fit's parameters have the
    smallest SSE, and its SSE and forecasts are the textbook ones for those parameters."""
    values = [float(v) for v in y]
    result = fit(y.to_numpy(), model)
    season = list(result.initial_seasonal)
    start = (result.initial_level, result.initial_trend, season)
    best = min(
        (textbook_sse_and_forecast(values, a, b, g, *start, 1)[0], (a, b, g))
        for a in GRID[1:-1]
        for b in GRID
        if b <= a
        for g in (GRID if model.seasonal else [0.0])
        if g <= 1 - a
    )
    assert (result.alpha, result.beta, result.gamma) == best[1]
    sse, ahead = textbook_sse_and_forecast(values, result.alpha, result.beta, result.gamma, *start, 12)
    assert result.sse == pytest.approx(sse, rel=1e-9)
    assert result.forecast(12) == pytest.approx(ahead, rel=1e-9)
    assert result.sigma2 == pytest.approx(sse / len(values), rel=1e-9)
    variances = state_space_variances(
        result.alpha, result.beta, result.gamma, bool(model.seasonal), result.sigma2, 12
    )
    assert result.variances(12) == pytest.approx(variances, rel=1e-9)


def test_the_starting_states_are_the_first_season_detrended():
    """A series that is exactly level + trend + a zero-sum season: the starting states recover them, the fit
    makes no error, and the forecast is the exact continuation with intervals of no width."""
    t = np.arange(1, 31)
    y = 500 + 7 * t + SEASON[(t - 1) % 12]
    result = fit(y, HOLT_WINTERS)
    assert result.initial_level == pytest.approx(500)
    assert result.initial_trend == pytest.approx(7)
    assert result.initial_seasonal == pytest.approx(list(SEASON))
    assert result.sse == pytest.approx(0, abs=1e-12)
    future = np.arange(31, 43)
    assert result.forecast(12) == pytest.approx(500 + 7 * future + SEASON[(future - 1) % 12])
    rows = forecast_series(series(y), 12).forecast
    assert all(r["lower_95"] == r["revenue"] == r["upper_95"] for r in rows)


def test_holt_starts_on_the_least_squares_line():
    y = np.array([100.0, 112, 118, 133, 139, 148, 163, 170, 178, 190, 201, 207, 222, 230])
    slope, intercept = np.polyfit(np.arange(1, 13), y[:12], 1)
    result = fit(y, HOLT)
    assert (result.initial_level, result.initial_trend) == pytest.approx((intercept, slope))
    assert result.initial_seasonal == ()


def test_intervals_are_normal_quantiles_of_the_forecast_variance():
    y = seasonal(27, noise=30)
    result = fit(y.to_numpy(), HOLT_WINTERS)
    rows = forecast_series(y, 6).forecast
    for h, row in enumerate(rows):
        sd = np.sqrt(result.variances(6)[h])
        mean = result.forecast(6)[h]
        assert row["upper_80"] == pytest.approx(mean + 1.2815515655446004 * sd, abs=0.01)
        assert row["upper_95"] == pytest.approx(mean + 1.959963984540054 * sd, abs=0.01)


# ---- the reliability verdict -----------------------------------------------------------------------------------


def test_a_clean_two_year_history_is_reliable():
    verdict = forecast_series(seasonal(30, noise=10), 3).reliability
    assert verdict["verdict"] == "reliable"
    assert verdict["threshold"] == MAX_WAPE
    assert "within the 25% allowed" in verdict["reason"]


def test_under_two_years_of_history_is_insufficient():
    verdict = forecast_series(seasonal(20, noise=10), 3).reliability
    assert verdict["verdict"] == "insufficient_history"
    assert "Only 20 complete months" in verdict["reason"]


def test_a_backtest_without_revenue_is_insufficient_not_none():
    verdict = forecast_series(series([1000.0 + i for i in range(24)] + [0.0] * 5 + [10.0]), 3).reliability
    assert verdict["verdict"] == "insufficient_history"
    assert "Only 1 of the last 6 known months have revenue" in verdict["reason"]
    assert "None" not in verdict["reason"]


def test_a_forecast_that_missed_its_backtest_is_unreliable():
    y = seasonal(30, noise=10)
    y.iloc[-6:] = [5000, 100, 4000, 50, 3000, 200]  # the last 6 months: nothing like the history
    verdict = forecast_series(y, 3).reliability
    assert verdict["verdict"] == "unreliable"
    assert "more than the 25%" in verdict["reason"]


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
        result = forecast(conn, Filters(customers=("Fading Ltd",)), 3)
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
