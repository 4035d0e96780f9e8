"""Monthly revenue forecast with prediction intervals and an honest backtest error.

The history is the metric layer's monthly revenue (:func:`salesdash.metrics.over_time`, the one revenue
definition) on the calendar the data set covers: months without order lines in view count as 0, and a month
the data covers only in part (the data ends on 10 May, or a start filter cuts a month) is left out rather
than read as a slump.

Models (statsmodels ``ETSModel``, additive errors, so the intervals are exact rather than simulated and the
result is deterministic):

- 24 months or more: ETS(A,A,A), additive trend and 12-month seasonality (Holt-Winters);
- 12 to 23 months: ETS(A,A,N), additive trend without seasonality (Holt): two seasons are needed to tell a
  season from a trend;
- fewer than 12 months: refused with :class:`InsufficientData` (6 months to fit and 6 to measure the error).

The backtest refits the same model on the history minus its last 6 months, forecasts those 6 months and reports
the mean absolute percentage error (months with no revenue have no percentage error and are skipped), and the
weighted error (sum of absolute errors / sum of revenue), which a month with tiny revenue cannot dominate.
"""

from __future__ import annotations

import calendar
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel, ETSResults

from salesdash.errors import InsufficientData, InvalidParameter
from salesdash.metrics import Filters, over_time
from salesdash.metrics.compare import coverage

MIN_MONTHS = 12
SEASONAL_MONTHS = 24
BACKTEST_MONTHS = 6
SEASON = 12
MAX_HORIZON = 12
LEVELS = (80, 95)


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


def _known_seasonal_start(y: np.ndarray) -> dict[str, Any]:
    """Initial states for a seasonal model with fewer than two seasons (statsmodels' own initialisation needs
    two): level = mean of the first season, trend = the average same-month change from the first season to the
    next (over the months there are), seasonal = the first season minus its mean."""
    level = float(y[:SEASON].mean())
    overlap = min(len(y) - SEASON, SEASON)
    trend = float(np.mean((y[SEASON : SEASON + overlap] - y[:overlap]) / SEASON)) if overlap > 0 else 0.0
    return {
        "initialization_method": "known",
        "initial_level": level,
        "initial_trend": trend,
        "initial_seasonal": y[:SEASON] - level,
    }


def fit(y: np.ndarray, model: Model) -> ETSResults:
    """Fit ``model`` to the monthly values ``y`` (deterministic: no random starts, exact intervals)."""
    options: dict[str, Any] = {"initialization_method": "estimated"}
    if model.seasonal and len(y) < 2 * SEASON:
        options = _known_seasonal_start(y)
    ets = ETSModel(
        # a plain integer index: statsmodels then needs no date frequency (and warns about none)
        pd.Series(np.asarray(y, dtype=float)),
        error="add",
        trend=model.trend,
        seasonal=model.seasonal,
        seasonal_periods=SEASON if model.seasonal else None,
        **options,
    )
    # A flat series fits perfectly (log of a zero error variance) and a tiny one can stop the optimiser early;
    # the fit is still usable and the backtest says how good it is.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ets.fit(disp=False, maxiter=2000)


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
    prediction = result.get_prediction(start=months, end=months + horizon - 1)
    bands = {level: prediction.summary_frame(alpha=1 - level / 100) for level in LEVELS}
    mean = bands[LEVELS[0]]["mean"].to_numpy()
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
            frame = bands[level]
            low, high = float(frame["pi_lower"].iloc[i]), float(frame["pi_upper"].iloc[i])
            clipped = clipped or low < 0 or mean[i] < 0
            row[f"lower_{level}"] = round(max(low, 0.0), 2)
            row[f"upper_{level}"] = round(max(high, 0.0), 2)
        rows.append(row)
    if clipped:
        notes.append("Revenue cannot be negative: forecasts and interval bounds below 0 are shown as 0.")
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
        backtest=backtest(y, model),
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
