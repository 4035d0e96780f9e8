"""What can be exported: every view of the API/dashboard as a table (and usually a chart), computed by the same
metric-layer calls the API makes, so an exported number is the number on the screen.

A view is computed inside the caller's read snapshot (``conn``) for validated :class:`Filters` and its own
parameters (period, limit, level, metric, horizon), each checked here with a message naming it.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.geo import iso3
from salesdash.metrics import (
    METRICS,
    Filters,
    breakdown,
    comparisons,
    filter_options,
    growth,
    kpis,
    month_year_matrix,
    order_line_page,
    over_time,
)
from salesdash.metrics.definitions import BREAKDOWN_METRICS
from salesdash.metrics.rfm import DEFINITIONS as RFM_DEFINITIONS
from salesdash.metrics.rfm import rfm, summarise
from salesdash.metrics.trends import trend

PERIODS = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}
DEAL_SIZE_ORDER = ("Small", "Medium", "Large")
STATUS_ORDER = ("Shipped", "Resolved", "In Process", "On Hold", "Disputed", "Cancelled")
BREAKDOWN_DEFS = [*BREAKDOWN_METRICS, "average_order_value", "average_unit_price", "revenue_share"]
KPI_ORDER = (
    "revenue",
    "order_count",
    "average_order_value",
    "customer_count",
    "units",
    "line_count",
    "country_count",
    "product_line_count",
    "average_unit_price",
)
MAX_EXPORT_LINES = 100_000

Chart = Callable[["ViewData"], go.Figure]


@dataclass
class ViewData:
    """One computed view: its table (and extra tables), how to draw it, and what it means."""

    name: str
    title: str
    frame: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # more sheets (Excel) / tables (PDF)
    meta: dict[str, Any] = field(default_factory=dict)
    chart: Chart | None = None
    summary_columns: list[str] | None = None  # the columns a printed (PDF) table shows; None = the first 7
    filters: Filters | None = None  # the filters applied (set by compute_view)

    def records(self) -> list[dict[str, Any]]:
        """The table as JSON-ready records (what the charts take, like the API's ``data``)."""
        return records_of(self.frame)

    def figure(self) -> go.Figure | None:
        return self.chart(self) if self.chart else None


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out.append({str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
    return out


@dataclass(frozen=True)
class ViewSpec:
    name: str
    title: str
    compute: Callable[[Connection, Filters, dict[str, Any]], ViewData]
    params: dict[str, Callable[[str], Any]]  # accepted parameters -> parser (raises InvalidParameter)
    defaults: dict[str, Any]
    has_chart: bool


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise InvalidParameter(
                f"{name}={value!r} is not allowed; use one of {', '.join(choices)}.",
                details=[{"parameter": name, "value": value, "message": f"one of {', '.join(choices)}"}],
            )
        return value

    return parse


def _int_range(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise InvalidParameter(
                f"{name} must be a whole number from {low} to {high}, got {value!r}.",
                details=[{"parameter": name, "value": value, "message": f"a whole number {low}-{high}"}],
            )
        return number

    return parse


# ---- charts (pure Plotly, from the dashboard's chart functions) -------------------------------------------


def _chart_over_time(view: ViewData) -> go.Figure:
    from salesdash.dashboard.charts import sales_over_time

    return sales_over_time(view.records(), PERIODS.get(view.params.get("period", "monthly"), "month"))


def _chart_ranked(category: str, limit: int | None = None) -> Chart:
    def draw(view: ViewData) -> go.Figure:
        from salesdash.dashboard.charts import ranked_bars

        return ranked_bars(view.records(), category, "revenue", limit=limit)

    return draw


def _chart_quarterly(view: ViewData) -> go.Figure:
    from salesdash.dashboard.charts import quarterly_comparison

    return quarterly_comparison(view.records())


def _chart_heatmap(view: ViewData) -> go.Figure:
    from salesdash.dashboard.charts import month_year_heatmap

    return month_year_heatmap(view.records(), view.meta.get("years"), view.params.get("metric", "revenue"))


def _chart_category(category: str, metric: str, order: tuple[str, ...]) -> Chart:
    def draw(view: ViewData) -> go.Figure:
        from salesdash.dashboard.charts import category_bars

        return category_bars(view.records(), category, metric, order=order)

    return draw


def _chart_forecast(view: ViewData) -> go.Figure:
    from salesdash.dashboard.analytics_charts import forecast_chart

    return forecast_chart(view.meta["forecast"])


def _chart_rfm(view: ViewData) -> go.Figure:
    from salesdash.dashboard.analytics_charts import rfm_segments_chart

    return rfm_segments_chart(records_of(view.extra["Segments"]))


def _chart_comparison(view: ViewData) -> go.Figure:
    from salesdash.dashboard.analytics_charts import comparison_bars

    data = view.meta["comparisons"]
    chosen = data.get("year_earlier") or data.get("previous_period") or {}
    return comparison_bars(chosen)


# ---- views --------------------------------------------------------------------------------------------------


def _breakdown_view(
    name: str, title: str, frame: pd.DataFrame, chart: Chart | None, **extra: Any
) -> ViewData:
    return ViewData(name, title, frame, metrics=list(BREAKDOWN_DEFS), chart=chart, **extra)


def view_kpis(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    values = kpis(conn, f)
    g = growth(conn, f)
    yoy, mom = g["year_over_year"], g["month_over_month"]
    rows = []
    for name in KPI_ORDER:
        metric = METRICS[name]
        row: dict[str, Any] = {
            "metric": name,
            "label": metric.label,
            "unit": metric.unit,
            "value": values[name],
        }
        for key, cmp in (("yoy", yoy), ("mom", mom)):
            change = cmp["metrics"].get(name) if cmp else None
            row[f"{key}_previous"] = change["previous"] if change else None
            row[f"{key}_change_pct"] = change["change_pct"] if change else None
        rows.append(row)
    notes = []
    if yoy:
        notes.append(f"yoy = year over year like-for-like: {yoy['label']}.")
    if mom:
        notes.append(f"mom = month over month (last complete month): {mom['label']}.")
    return ViewData(
        "kpis",
        "Headline KPIs",
        pd.DataFrame(rows),
        metrics=list(KPI_ORDER),
        notes=notes,
        meta={"growth": g},
    )


def view_sales_over_time(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    period = p["period"]
    return _breakdown_view(
        "sales-over-time",
        f"Sales over time ({period})",
        over_time(conn, f, PERIODS[period]),
        _chart_over_time,
        params={"period": period},
    )


def view_sales_by_category(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    return _breakdown_view(
        "sales-by-category",
        "Sales by product line",
        breakdown(conn, f, "product_line"),
        _chart_ranked("product_line"),
    )


def view_product_performance(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    level = p["level"]
    dimension = "product_code" if level == "product" else "product_line"
    frame = breakdown(conn, f, dimension)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    title = "Product codes by revenue" if level == "product" else "Product lines by revenue"
    return _breakdown_view(
        "product-performance", title, frame, _chart_ranked(dimension, limit=20), params={"level": level}
    )


def view_sales_by_country(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    frame = breakdown(conn, f, "country")
    frame.insert(1, "iso3", [iso3(c) for c in frame["country"]])
    return _breakdown_view("sales-by-country", "Sales by country", frame, _chart_ranked("country", limit=20))


def view_top_customers(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    limit = p["limit"]
    frame = breakdown(conn, f, "customer", limit=limit)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return _breakdown_view(
        "top-customers",
        f"Top {limit} customers",
        frame,
        _chart_ranked("customer_name"),
        params={"limit": limit},
    )


def view_monthly_trends(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    view = _breakdown_view("monthly-trends", "Monthly trends", trend(conn, f, "month"), _chart_over_time)
    view.params = {"period": "monthly"}
    return view


def view_quarterly_analysis(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    return _breakdown_view(
        "quarterly-analysis", "Quarterly analysis", trend(conn, f, "quarter"), _chart_quarterly
    )


def view_heatmap(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    metric = p["metric"]
    matrix = month_year_matrix(conn, f, metric)
    years = [int(y) for y in matrix.columns]
    frame = pd.DataFrame(
        [
            {"month": int(m), "month_name": calendar.month_name[int(m)]} | {str(y): values[y] for y in years}
            for m, values in matrix.iterrows()
        ],
        columns=["month", "month_name", *[str(y) for y in years]],
    )
    return ViewData(
        "heatmap",
        f"{METRICS[metric].label} by month and year",
        frame,
        params={"metric": metric},
        metrics=[metric],
        notes=["A month without order lines in view is empty, not 0."],
        meta={"years": years},
        chart=_chart_heatmap,
    )


STATUS_COLUMNS = ["status", *BREAKDOWN_METRICS, "average_order_value", "average_unit_price", "revenue_share"]


def view_status_distribution(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    notes = []
    applied = f
    if not f.statuses:
        applied = dataclasses.replace(f, statuses=tuple(filter_options(conn)["statuses"]))
        notes.append("No status filter was given, so every status is shown, Cancelled included.")
    view = _breakdown_view(
        "status-distribution",
        "Orders by status",
        breakdown(conn, applied, "status")[STATUS_COLUMNS],
        _chart_category("status", "order_count", STATUS_ORDER),
        notes=notes,
    )
    view.filters = applied
    return view


def view_deal_sizes(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    frame = breakdown(conn, f, "deal_size")
    order = {name: i for i, name in enumerate(DEAL_SIZE_ORDER)}
    frame = frame.sort_values("deal_size", key=lambda c: c.map(lambda v: order.get(v, 99)), kind="stable")
    return _breakdown_view(
        "deal-sizes",
        "Sales by deal size",
        frame.reset_index(drop=True),
        _chart_category("deal_size", "revenue", DEAL_SIZE_ORDER),
    )


def view_orders(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    frame, total = order_line_page(conn, f, limit=MAX_EXPORT_LINES + 1, offset=0)
    if total > MAX_EXPORT_LINES:
        raise InvalidParameter(
            f"{total:,} order lines match these filters; an export holds at most {MAX_EXPORT_LINES:,}. "
            "Narrow the filters, or page through GET /api/orders.",
            details=[
                {"parameter": "view", "value": "orders", "message": f"more than {MAX_EXPORT_LINES:,} lines"}
            ],
        )
    return ViewData("orders", "Order lines", frame, metrics=["revenue"], meta={"total": total})


def view_forecast(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    from salesdash.forecast import forecast

    result = forecast(conn, f, p["horizon"])
    frame = pd.DataFrame(
        result.records(),
        columns=["period", "kind", "revenue", "lower_80", "upper_80", "lower_95", "upper_95"],
    )
    backtest = pd.DataFrame(
        result.backtest["points"], columns=["period", "actual", "forecast", "abs_pct_error"]
    )
    mape = result.backtest["mape"]
    notes = [
        f"Model: {result.model_label}. {result.model_reason}",
        f"Backtest: refitted on the first {result.backtest['train_months']} months, the model's forecasts of the "
        f"last {result.backtest['months']} months were off by "
        + (
            f"{mape * 100:.1f}% on average (MAPE); weighted by revenue {result.backtest['wape'] * 100:.1f}%."
            if mape is not None
            else "an unmeasurable amount (no revenue)."
        ),
        *result.notes,
    ]
    return ViewData(
        "forecast",
        f"Revenue forecast, next {result.horizon} month(s)",
        frame,
        params={"horizon": result.horizon},
        metrics=["revenue"],
        definitions={
            "lower_80/upper_80": "80% prediction interval of the month's revenue.",
            "lower_95/upper_95": "95% prediction interval of the month's revenue.",
            "mape": "Mean absolute percentage error of the backtest (0.2 = 20%).",
            "wape": "Backtest: sum of absolute errors / sum of actual revenue (0.2 = 20%).",
        },
        notes=notes,
        extra={"Backtest": backtest},
        meta={"forecast": result.to_dict()},
        chart=_chart_forecast,
    )


def view_comparisons(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    data = comparisons(conn, f)
    rows = []
    for key in ("previous_period", "year_earlier"):
        cmp = data.get(key)
        if not cmp:
            continue
        for metric, values in cmp["metrics"].items():
            rows.append(
                {
                    "comparison": key,
                    "label": cmp["label"],
                    "metric": metric,
                    **values,
                }
            )
    notes = [f"{k}: {v}" for k, v in data.get("notes", {}).items()]
    return ViewData(
        "comparisons",
        "Period comparisons",
        pd.DataFrame(
            rows, columns=["comparison", "label", "metric", "current", "previous", "change", "change_pct"]
        ),
        metrics=list(KPI_ORDER),
        notes=notes,
        meta={"comparisons": data},
        chart=_chart_comparison if data.get("year_earlier") or data.get("previous_period") else None,
    )


def view_rfm(conn: Connection, f: Filters, p: dict[str, Any]) -> ViewData:
    scored, as_of = rfm(conn, f)
    return ViewData(
        "rfm",
        "Customer RFM segments",
        scored,
        metrics=["revenue", "order_count"],
        definitions=dict(RFM_DEFINITIONS),
        notes=[f"Recency is counted to {as_of.isoformat()}, the last day the data covers."] if as_of else [],
        extra={"Segments": summarise(scored)},
        meta={"as_of": as_of.isoformat() if as_of else None},
        chart=_chart_rfm,
        summary_columns=[
            "customer_name",
            "country",
            "recency_days",
            "frequency",
            "monetary",
            "rfm",
            "segment",
        ],
    )


def _spec(
    name: str,
    title: str,
    compute: Callable[[Connection, Filters, dict[str, Any]], ViewData],
    *,
    chart: bool = True,
    params: Mapping[str, tuple[Callable[[str], Any], Any]] | None = None,
) -> ViewSpec:
    params = params or {}
    return ViewSpec(
        name,
        title,
        compute,
        {k: v[0] for k, v in params.items()},
        {k: v[1] for k, v in params.items()},
        chart,
    )


VIEWS: dict[str, ViewSpec] = {
    s.name: s
    for s in (
        _spec("kpis", "Headline KPIs", view_kpis, chart=False),
        _spec(
            "sales-over-time",
            "Sales over time",
            view_sales_over_time,
            params={"period": (_choice("period", tuple(PERIODS)), "monthly")},
        ),
        _spec("sales-by-category", "Sales by product line", view_sales_by_category),
        _spec(
            "product-performance",
            "Product performance",
            view_product_performance,
            params={"level": (_choice("level", ("product_line", "product")), "product_line")},
        ),
        _spec("sales-by-country", "Sales by country", view_sales_by_country),
        _spec(
            "top-customers",
            "Top customers",
            view_top_customers,
            params={"limit": (_int_range("limit", 1, 100), 10)},
        ),
        _spec("monthly-trends", "Monthly trends", view_monthly_trends),
        _spec("quarterly-analysis", "Quarterly analysis", view_quarterly_analysis),
        _spec(
            "heatmap",
            "Month x year heatmap",
            view_heatmap,
            params={"metric": (_choice("metric", BREAKDOWN_METRICS), "revenue")},
        ),
        _spec("status-distribution", "Orders by status", view_status_distribution),
        _spec("deal-sizes", "Sales by deal size", view_deal_sizes),
        _spec("orders", "Order lines", view_orders, chart=False),
        _spec(
            "forecast",
            "Revenue forecast",
            view_forecast,
            params={"horizon": (_int_range("horizon", 1, 12), 3)},
        ),
        _spec("comparisons", "Period comparisons", view_comparisons),
        _spec("rfm", "Customer RFM segments", view_rfm),
    )
}


def view_params(view: str, given: Mapping[str, str | None]) -> dict[str, Any]:
    """The view's parameters from ``given`` (text, None = not given): parsed, defaulted; a parameter the view
    does not take is refused with the views that take it."""
    spec = get_view(view)
    out = dict(spec.defaults)
    for name, value in given.items():
        if value is None or value == "":
            continue
        if name not in spec.params:
            takers = sorted(v.name for v in VIEWS.values() if name in v.params)
            raise InvalidParameter(
                f"{name} does not apply to view={view}; it applies to view={' or '.join(takers)}.",
                details=[{"parameter": name, "message": f"only for view={', '.join(takers)}"}],
            )
        out[name] = spec.params[name](value)
    return out


def get_view(view: str) -> ViewSpec:
    if view not in VIEWS:
        raise InvalidParameter(
            f"Unknown view {view!r}; use one of {', '.join(VIEWS)}.",
            details=[
                {"parameter": "view", "value": view, "message": "unknown view", "accepted": list(VIEWS)}
            ],
        )
    return VIEWS[view]


def compute_view(
    conn: Connection, filters: Filters, view: str, params: Mapping[str, Any] | None = None
) -> ViewData:
    """Compute ``view`` for ``filters`` in the snapshot ``conn`` (``params`` as :func:`view_params` returns
    them; missing ones take their defaults)."""
    spec = get_view(view)
    parsed = dict(spec.defaults)
    parsed.update(params or {})
    data = spec.compute(conn, filters, parsed)
    data.filters = data.filters or filters
    data.params = {**parsed, **data.params}
    return data
