"""Monthly revenue forecast with prediction intervals, an honest backtest error and a reliability verdict.

The history is the metric layer's monthly revenue (:func:`salesdash.metrics.over_time`, the one revenue
definition) on the calendar the data set covers: months without order lines in view count as 0, and a month
the data covers only in part (the data ends on 10 May, or a start filter cuts a month) is left out rather
than read as a slump.

Models (exponential smoothing with additive errors, ETS in Hyndman et al.'s notation):

- 24 months or more: ETS(A,A,A), additive trend and 12-month seasonality (Holt-Winters);
- 12 to 23 months: ETS(A,A,N), additive trend without seasonality (Holt): two seasons are needed to tell a
  season from a trend;
- fewer than 12 months: refused with :class:`InsufficientData` (6 months to fit and 6 to measure the error).

The fit is deterministic by design, the same to the last digit on any CPU: the starting states are closed-form
(:func:`initial_states`), the smoothing parameters are chosen on a fixed 0.05 grid by the smallest sum of squared
one-step errors (no optimiser, no random start), and the forecasts and their intervals follow from the state
recursion in closed form (normal errors with the fitted one-step variance).

The backtest refits the same model on the history minus its last 6 months, forecasts those 6 months and reports
the mean absolute percentage error (months with no revenue have no percentage error and are skipped), and the
weighted error (sum of absolute errors / sum of revenue), which a month with tiny revenue cannot dominate. The
verdict (:func:`reliability`) says when the forecast should not be read as one.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from salesdash.errors import InsufficientData, InvalidParameter
from salesdash.metrics import Filters, over_time
from salesdash.metrics.compare import coverage

MIN_MONTHS = 12
SEASONAL_MONTHS = 24
BACKTEST_MONTHS = 6
SEASON = 12
MAX_HORIZON = 12
LEVELS = (80, 95)
# The reliability verdict (docs/metrics.md "Forecast reliability"): a forecast is shown as reliable only with
# two full seasons of history, at least this many of the 6 backtest months with revenue, and a backtest weighted
# error (WAPE) at most MAX_WAPE.
RELIABLE_HISTORY_MONTHS = SEASONAL_MONTHS
MIN_BACKTEST_MONTHS_WITH_REVENUE = 4
MAX_WAPE = 0.25
VERDICTS = ("reliable", "unreliable", "insufficient_history")


@dataclass(frozen=True)
class Model:
    name: str
    label: str
    trend: str | None
    seasonal: str | None


HOLT_WINTERS = Model(
    "holt_winters", "ETS(A,A,A): additive trend and 12-month seasonality (Holt-Winters)", "add", "add"
)
HOLT = Model("holt", "ETS(A,A,N): additive trend, no seasonality (Holt)", "add", None)


@dataclass(frozen=True)
class Forecast:
    """A forecast and how far to trust it. Money rounded to cents; ``mape`` is a ratio (0.2 = 20%)."""

    model: str
    model_label: str
    model_reason: str
    horizon: int
    history_months: int
    history_start: str
    history_end: str
    history: list[dict[str, Any]]
    forecast: list[dict[str, Any]]
    backtest: dict[str, Any]
    reliability: dict[str, Any] = field(default_factory=dict)
    intervals: tuple[int, ...] = LEVELS
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["intervals"] = list(self.intervals)
        return out

    def records(self) -> list[dict[str, Any]]:
        """History and forecast as one table (for CSV/Excel exports): one row per month."""
        rows = [
            {
                "period": h["period"],
                "period_start": h["period_start"],
                "kind": "actual",
                "revenue": h["revenue"],
            }
            for h in self.history
        ]
        rows += [{"period": f["period"], "kind": "forecast"} | f for f in self.forecast]
        return rows


def check_horizon(horizon: int) -> int:
    if not 1 <= horizon <= MAX_HORIZON:
        raise InvalidParameter(
            f"horizon must be between 1 and {MAX_HORIZON} months, got {horizon}.",
            details=[{"parameter": "horizon", "message": f"must be 1..{MAX_HORIZON}", "value": horizon}],
        )
    return horizon


def _month_label(month: pd.Period) -> str:
    return f"{month.year}-{month.month:02d}"


def monthly_history(frame: pd.DataFrame, first: pd.Period, last: pd.Period) -> pd.Series:
    """Monthly revenue from ``first`` to ``last`` (inclusive), months without a row in ``frame`` as 0.

    ``frame`` has ``period_start`` (a date) and ``revenue`` columns, as :func:`over_time` returns them.
    """
    index = pd.period_range(first, last, freq="M")
    if frame.empty:
        return pd.Series(0.0, index=index, name="revenue")
    months = pd.PeriodIndex([pd.Period(d, freq="M") for d in frame["period_start"]], freq="M")
    series = pd.Series(frame["revenue"].astype(float).to_numpy(), index=months, name="revenue")
    return series.groupby(level=0).sum().reindex(index, fill_value=0.0)


def choose_model(months: int) -> tuple[Model, str]:
    if months < MIN_MONTHS:
        raise InsufficientData(
            f"A forecast needs at least {MIN_MONTHS} complete months of history (6 to fit the model and 6 to "
            f"measure its error); the data in view covers {months}. Widen the date range or the filters.",
            details=[
                {
                    "parameter": "filters",
                    "message": f"{months} month(s) of history; at least {MIN_MONTHS} needed",
                    "months_available": months,
                    "months_needed": MIN_MONTHS,
                }
            ],
        )
    if months >= SEASONAL_MONTHS:
        return HOLT_WINTERS, f"{months} months of history: trend and 12-month seasonality are estimated."
    return HOLT, (
        f"{months} months of history: fewer than {SEASONAL_MONTHS} (two seasons), so no seasonality is "
        "estimated; the model follows the level and trend only."
    )


GRID_STEP = 0.05  # smoothing parameters are chosen on this grid (exact multiples: k / 20)


@dataclass(frozen=True)
class Fit:
    """A fitted additive-error ETS model: its smoothing parameters, initial and final states, and the one-step
    error variance. ``forecast`` and ``intervals`` are closed-form (Hyndman et al. 2008, class 1 models)."""

    model: Model
    alpha: float
    beta: float
    gamma: float
    initial_level: float
    initial_trend: float
    initial_seasonal: tuple[float, ...]
    level: float
    trend: float
    seasonal: tuple[float, ...]  # the last SEASON seasonal states, oldest first (empty without seasonality)
    sse: float
    sigma2: float  # SSE / n, the maximum-likelihood variance of the one-step errors

    def forecast(self, horizon: int) -> np.ndarray:
        h = np.arange(1, horizon + 1)
        mean = self.level + h * self.trend
        if self.model.seasonal:
            mean = mean + np.asarray(self.seasonal)[(h - 1) % SEASON]
        return np.asarray(mean, dtype=float)

    def variances(self, horizon: int) -> np.ndarray:
        """Forecast error variance h = 1..horizon: sigma2 * (1 + sum_{j<h} c_j^2), c_j = alpha + beta j (+ gamma
        when j is a whole number of seasons)."""
        j = np.arange(1, horizon)
        c = self.alpha + self.beta * j
        if self.model.seasonal:
            c = c + self.gamma * (j % SEASON == 0)
        return self.sigma2 * (1.0 + np.concatenate([[0.0], np.cumsum(c**2)]))

    def intervals(self, horizon: int, level: int) -> tuple[np.ndarray, np.ndarray]:
        z = NormalDist().inv_cdf(0.5 + level / 200)
        mean, spread = self.forecast(horizon), z * np.sqrt(self.variances(horizon))
        return mean - spread, mean + spread


def initial_states(y: np.ndarray, model: Model) -> tuple[float, float, np.ndarray]:
    """Closed-form starting states (level and trend at time 0, seasonal states for months 1..12).

    Seasonal: the trend is the average same-month change from the first season to the next (over the months
    there are), the level at time 0 is the first season's mean moved back half a season along that trend, and the
    seasonal states are the first season's values above the trend line (they sum to 0). Holt: the least-squares
    line through the first (up to 12) months."""
    if model.seasonal:
        first = y[:SEASON]
        overlap = min(len(y) - SEASON, SEASON)
        trend = float(np.mean((y[SEASON : SEASON + overlap] - y[:overlap]) / SEASON)) if overlap > 0 else 0.0
        level = float(first.mean()) - (SEASON + 1) / 2 * trend
        seasonal = first - (level + trend * np.arange(1, SEASON + 1))
        return level, trend, seasonal
    k = min(len(y), SEASON)
    t = np.arange(1, k + 1, dtype=float)
    trend = float(((t - t.mean()) * (y[:k] - y[:k].mean())).sum() / ((t - t.mean()) ** 2).sum())
    level = float(y[:k].mean()) - trend * float(t.mean())
    return level, trend, np.zeros(0)


def parameter_grid(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (alpha, beta, gamma) on the GRID_STEP grid in the usual admissible region: 0 < alpha < 1,
    0 <= beta <= alpha, 0 <= gamma <= 1 - alpha (gamma = 0 without seasonality). Grid order: alpha, then beta,
    then gamma, ascending; a tie in SSE goes to the first."""
    steps = round(1 / GRID_STEP)
    combos = []
    for a in range(1, steps):
        for b in range(0, a + 1):
            for g in range(0, steps - a + 1) if model.seasonal else (0,):
                combos.append((a / steps, b / steps, g / steps))
    grid = np.array(combos, dtype=float)
    return grid[:, 0], grid[:, 1], grid[:, 2]


def fit(y: np.ndarray, model: Model) -> Fit:
    """Fit ``model`` to the monthly values ``y``: closed-form starting states, then the smoothing parameters on a
    fixed grid by the smallest sum of squared one-step errors.

    Deterministic by construction: no optimiser and no random start; the recursion runs over the whole grid at
    once with element-wise IEEE operations only (no reductions whose order could change with the CPU)."""
    y = np.asarray(y, dtype=float)
    level0, trend0, seasonal0 = initial_states(y, model)
    alpha, beta, gamma = parameter_grid(model)
    size = len(alpha)
    level = np.full(size, level0)
    trend = np.full(size, trend0)
    seasonal = np.tile(seasonal0, (size, 1)) if model.seasonal else np.zeros((size, 0))
    sse = np.zeros(size)
    for t, value in enumerate(y):
        season = seasonal[:, t % SEASON] if model.seasonal else 0.0
        error = value - (level + trend + season)
        sse = sse + error * error
        level = level + trend + alpha * error
        trend = trend + beta * error
        if model.seasonal:
            seasonal[:, t % SEASON] = season + gamma * error
    best = int(np.argmin(sse))
    n = len(y)
    last = [float(v) for v in seasonal[best]]
    ordered = tuple(last[(n + i) % SEASON] for i in range(SEASON)) if model.seasonal else ()
    return Fit(
        model=model,
        alpha=float(alpha[best]),
        beta=float(beta[best]),
        gamma=float(gamma[best]),
        initial_level=level0,
        initial_trend=trend0,
        initial_seasonal=tuple(float(v) for v in seasonal0),
        level=float(level[best]),
        trend=float(trend[best]),
        seasonal=ordered,
        sse=float(sse[best]),
        sigma2=float(sse[best]) / n,
    )


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error as a ratio, over the months with non-zero actual revenue."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mask = actual != 0
    if not mask.any():
        return None
    return float(np.mean(np.abs((actual[mask] - predicted[mask]) / actual[mask])))


def wape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Weighted absolute percentage error: sum of absolute errors / sum of actual revenue (a ratio). Unlike
    MAPE it is not dominated by a month with tiny revenue."""
    actual = np.asarray(actual, dtype=float)
    total = float(np.abs(actual).sum())
    if total == 0:
        return None
    return float(np.abs(actual - np.asarray(predicted, dtype=float)).sum() / total)


def backtest(y: pd.Series, model: Model) -> dict[str, Any]:
    """Refit ``model`` on ``y`` minus its last 6 months and compare its forecast with what happened."""
    train, test = y.iloc[:-BACKTEST_MONTHS], y.iloc[-BACKTEST_MONTHS:]
    predicted = np.maximum(fit(train.to_numpy(), model).forecast(BACKTEST_MONTHS), 0.0)
    error = mape(test.to_numpy(), predicted)
    weighted = wape(test.to_numpy(), predicted)
    points = []
    for month, actual, pred in zip(test.index, test.to_numpy(), predicted, strict=True):
        ape = abs(actual - pred) / actual if actual else None
        points.append(
            {
                "period": _month_label(month),
                "actual": round(float(actual), 2),
                "forecast": round(float(pred), 2),
                "abs_pct_error": round(ape, 6) if ape is not None else None,
            }
        )
    skipped = sum(1 for p in points if p["abs_pct_error"] is None)
    note = None
    if error is None:
        note = "the last 6 months have no revenue, so there is no percentage error to measure"
    elif skipped:
        note = f"{skipped} month(s) without revenue are left out of the MAPE"
    return {
        "months": BACKTEST_MONTHS,
        "train_months": len(train),
        "train_end": _month_label(train.index[-1]),
        "mape": round(error, 6) if error is not None else None,
        "wape": round(weighted, 6) if weighted is not None else None,
        "points": points,
        "note": note,
    }


def reliability(history_months: int, backtest: dict[str, Any]) -> dict[str, Any]:
    """The verdict on a forecast, for people: ``reliable``, ``insufficient_history`` (too little history, or too
    few backtest months with revenue, to measure it) or ``unreliable`` (the backtest's weighted error is above
    MAX_WAPE), with one sentence saying why and the thresholds it was judged by."""
    with_revenue = sum(1 for p in backtest["points"] if p["actual"])
    wape_value = backtest["wape"]
    out: dict[str, Any] = {
        "threshold": MAX_WAPE,
        "min_history_months": RELIABLE_HISTORY_MONTHS,
        "min_backtest_months_with_revenue": MIN_BACKTEST_MONTHS_WITH_REVENUE,
    }
    if history_months < RELIABLE_HISTORY_MONTHS:
        return out | {
            "verdict": "insufficient_history",
            "reason": f"Only {history_months} complete months of history: at least {RELIABLE_HISTORY_MONTHS} "
            "(two years) are needed to tell the seasonal pattern from a trend, so this forecast is a rough "
            "guess. Widen the date range or the filters.",
        }
    if with_revenue < MIN_BACKTEST_MONTHS_WITH_REVENUE or wape_value is None:
        return out | {
            "verdict": "insufficient_history",
            "reason": f"Only {with_revenue} of the last {backtest['months']} known months have revenue, so the "
            f"forecast's error cannot be measured (at least {MIN_BACKTEST_MONTHS_WITH_REVENUE} are needed). "
            "Widen the filters.",
        }
    if wape_value > MAX_WAPE:
        return out | {
            "verdict": "unreliable",
            "reason": f"Tested on the last {backtest['months']} known months, the model was off by "
            f"{wape_value * 100:.1f}% of revenue (weighted error), more than the {MAX_WAPE * 100:.0f}% a "
            "forecast may miss by to be shown as reliable: read it as a rough guess.",
        }
    return out | {
        "verdict": "reliable",
        "reason": f"Tested on the last {backtest['months']} known months, the model was off by "
        f"{wape_value * 100:.1f}% of revenue (weighted error), within the {MAX_WAPE * 100:.0f}% allowed.",
    }


def forecast_series(y: pd.Series, horizon: int) -> Forecast:
    """Forecast the monthly series ``y`` (a monthly PeriodIndex, no gaps) ``horizon`` months ahead."""
    check_horizon(horizon)
    months = len(y)
    model, reason = choose_model(months)
    if not (y != 0).any():
        raise InsufficientData(
            "There is no revenue in view to forecast.",
            details=[{"parameter": "filters", "message": "no revenue in the history"}],
        )
    result = fit(y.to_numpy(), model)
    mean = result.forecast(horizon)
    bands = {level: result.intervals(horizon, level) for level in LEVELS}
    notes: list[str] = []
    rows = []
    clipped = False
    future = pd.period_range(y.index[-1] + 1, periods=horizon, freq="M")
    for i, month in enumerate(future):
        row: dict[str, Any] = {
            "period": _month_label(month),
            "period_start": month.start_time.date().isoformat(),
        }
        row["revenue"] = round(max(float(mean[i]), 0.0), 2)
        for level in LEVELS:
            low, high = float(bands[level][0][i]), float(bands[level][1][i])
            clipped = clipped or low < 0 or mean[i] < 0
            row[f"lower_{level}"] = round(max(low, 0.0), 2)
            row[f"upper_{level}"] = round(max(high, 0.0), 2)
        rows.append(row)
    if clipped:
        notes.append("Revenue cannot be negative: forecasts and interval bounds below 0 are shown as 0.")
    tested = backtest(y, model)
    history = [
        {
            "period": _month_label(month),
            "period_start": month.start_time.date().isoformat(),
            "revenue": round(float(value), 2),
        }
        for month, value in y.items()
    ]
    return Forecast(
        model=model.name,
        model_label=model.label,
        model_reason=reason,
        horizon=horizon,
        history_months=months,
        history_start=_month_label(y.index[0]),
        history_end=_month_label(y.index[-1]),
        history=history,
        forecast=rows,
        backtest=tested,
        reliability=reliability(months, tested),
        notes=notes,
    )


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def history_for(conn: Connection, filters: Filters) -> tuple[pd.Series, list[str]]:
    """The monthly revenue history in view (complete months of the data set's calendar) and notes on what was
    left out."""
    covered = coverage(conn, filters)
    frame = over_time(conn, filters, "month")
    if covered is None or frame.empty:
        raise InsufficientData(
            "There is no revenue in view to forecast.",
            details=[{"parameter": "filters", "message": "no order lines match the filters"}],
        )
    notes: list[str] = []
    first = pd.Period(min(frame["period_start"]), freq="M")
    if covered.start.day != 1 and first == pd.Period(covered.start, freq="M"):
        notes.append(
            f"{_month_label(first)} is left out: the date range starts on {covered.start.isoformat()}."
        )
        first += 1
    last = pd.Period(covered.end, freq="M")
    if covered.end != _month_end(covered.end):
        notes.append(
            f"{_month_label(last)} is left out: the data covers it only to {covered.end.isoformat()}."
        )
        last -= 1
    if last < first:
        raise InsufficientData(
            f"A forecast needs at least {MIN_MONTHS} complete months of history; the data in view covers none.",
            details=[
                {"parameter": "filters", "message": "no complete month in view", "months_needed": MIN_MONTHS}
            ],
        )
    return monthly_history(frame, first, last), notes


def forecast(conn: Connection, filters: Filters, horizon: int = 3) -> Forecast:
    """Forecast monthly revenue in view ``horizon`` (1-12) months past the last complete month."""
    check_horizon(horizon)
    history, notes = history_for(conn, filters)
    result = forecast_series(history, horizon)
    return replace(result, notes=notes + result.notes)
