"""Every view, declared once: its parameters, its metric-layer call, its table, its chart and its notes.

Adding a view is one :class:`~salesdash.views.base.View` in :data:`CATALOG` (plus its chart, its columns'
words in :data:`salesdash.vocabulary.COLUMNS` when new, and its docs/api.md section): it then has an API route
with its OpenAPI document (the row schema made from ``columns``), ``?format=csv``, CSV/Excel/PNG/PDF exports, a
line in ``GET /api/views`` and so the dashboard's Export menus (a test checks every surface). Only a view whose
data is nested objects (kpis, comparisons) names a hand-written schema of :mod:`salesdash.api.schemas`.
"""

from __future__ import annotations

import calendar
import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Connection

from salesdash.charts import analytics, figures
from salesdash.charts.format import period_name
from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.forecast import MAX_HORIZON, forecast
from salesdash.geo import iso3
from salesdash.metrics import (
    METRICS,
    breakdown,
    data_date_range,
    growth,
    headline,
    kpis,
    order_line_page,
)
from salesdash.metrics.compare import change, comparison_view
from salesdash.metrics.customers import (
    ACQUISITION_COLUMNS,
    CELL_COLUMNS,
    COHORT_GRAINS,
    PENETRATION_COLUMNS,
    PENETRATION_DIMENSIONS,
    SMALL_COHORT,
    acquisition,
    cohorts,
    headline_periods,
    new_customers_in,
    penetration,
)
from salesdash.metrics.movers import MOVER_DIMENSIONS, top_movers
from salesdash.metrics.overlap import order_count_overlap
from salesdash.metrics.pricing import list_price_gap
from salesdash.metrics.queries import (
    MAX_SEARCH_LENGTH,
    ORDER_LINE_FIELDS,
    ORDER_LINE_NULLABLE,
    ORDER_SORT_COLUMNS,
    group_count,
)
from salesdash.metrics.rfm import COLUMNS as RFM_COLUMNS
from salesdash.metrics.rfm import DEFINITIONS as RFM_DEFINITIONS
from salesdash.metrics.rfm import SEGMENTS, rfm_answer
from salesdash.metrics.rfm import SORT_COLUMNS as RFM_SORT_COLUMNS
from salesdash.metrics.series import COLUMNS as SERIES_COLUMNS
from salesdash.metrics.series import month_year_grid, partial_note, sales_over_time
from salesdash.metrics.trends import trend
from salesdash.views.base import Param, View, ViewData, records_of
from salesdash.vocabulary import (
    ALL_STATUSES_NOTE,
    BREAKDOWN_DEFINITIONS,
    BREAKDOWN_METRICS,
    DEAL_SIZE_ORDER,
    KPI_ORDER,
    PERIODS,
    STATUS_ORDER,
    label,
)

MAX_EXPORT_LINES = 100_000
# OFFSET paging reads and skips every earlier line: past this many, narrow the filters or search instead
MAX_ORDER_OFFSET = 1_000_000
NEW_CUSTOMER_NOTE = (
    "A customer is new in the period of their first order under the filters (the date range aside); returning "
    "when they order in a period after their first."
)
COHORT_NOTE = (
    "Cohort = customers whose first order (under the filters) falls in that period; each cell is the share of "
    "the cohort ordering N periods later."
)
STATUS_COLUMNS = ["status", *BREAKDOWN_DEFINITIONS]
# the metrics of a table row (View.columns), in the order the metric layer returns them
METRIC_COLUMNS = (*BREAKDOWN_METRICS, "average_order_value")
BREAKDOWN_COLUMNS = (*METRIC_COLUMNS, "average_unit_price")
TREND_COLUMNS = (
    "period",
    "period_start",
    "period_end",
    *METRIC_COLUMNS,
    "revenue_change",
    "revenue_change_pct",
    "revenue_yoy_change",
    "revenue_yoy_change_pct",
    "complete",
)
Options = Mapping[str, Any]

# ---- charts (pure Plotly figures of salesdash.charts) ------------------------------------------------------------


def _chart_over_time(view: ViewData) -> go.Figure:
    return figures.sales_over_time(view.records(), PERIODS.get(view.params.get("period", "monthly"), "month"))


def _chart_ranked(category: str, limit: int | None = None) -> Any:
    def draw(view: ViewData) -> go.Figure:
        return figures.ranked_bars(view.records(), category, "revenue", limit=limit)

    return draw


CHART_BARS = 20  # the most bars an exported chart (a fixed-size image) holds readably


def _chart_top_customers(view: ViewData) -> go.Figure:
    records = view.records()
    fig = figures.ranked_bars(records, "customer_name", "revenue", limit=CHART_BARS)
    if len(records) > CHART_BARS:
        figures.note_below(
            fig,
            f"The {CHART_BARS} largest of the {len(records)} customers; the table holds all of them.",
            xshift=4,
        )
    return fig


def _chart_products(view: ViewData) -> go.Figure:
    dimension = "product_code" if view.params.get("level") == "product" else "product_line"
    return _chart_ranked(dimension, limit=20)(view)


def _chart_quarterly(view: ViewData) -> go.Figure:
    return figures.quarterly_comparison(view.records())


def _chart_heatmap(view: ViewData) -> go.Figure:
    return figures.month_year_heatmap(
        view.records(), view.meta.get("years"), view.params.get("metric", "revenue")
    )


def _chart_category(category: str, metric: str, order: tuple[str, ...]) -> Any:
    def draw(view: ViewData) -> go.Figure:
        return figures.category_bars(view.records(), category, metric, order=list(order))

    return draw


def _chart_forecast(view: ViewData) -> go.Figure:
    return analytics.forecast_chart(view.chart_input["forecast"])


def _chart_rfm(view: ViewData) -> go.Figure:
    return analytics.rfm_segments_chart(records_of(view.extra["Segments"]))


def _chart_comparison(view: ViewData) -> go.Figure | None:
    data = view.data or {}
    chosen = data.get("year_earlier") or data.get("previous_period")
    return analytics.comparison_bars(chosen) if chosen else None


def _chart_acquisition(view: ViewData) -> go.Figure:
    from salesdash.charts.customers import acquisition_chart

    return acquisition_chart(view.records())


def _chart_cohorts(view: ViewData) -> go.Figure:
    from salesdash.charts.customers import cohort_heatmap

    return cohort_heatmap(view.records(), records_of(view.extra["Cohorts"]))


def _chart_penetration(view: ViewData) -> go.Figure:
    from salesdash.charts.customers import penetration_chart

    return penetration_chart(view.records(), view.params.get("dimension", "country"))


# ---- computations ------------------------------------------------------------------------------------------------


def _table(name: str, title: str, frame: pd.DataFrame, **extra: Any) -> ViewData:
    meta = {"row_count": len(frame), **extra.pop("meta", {})}
    return ViewData(name, title, frame, meta=meta, **extra)


KPI_COLUMNS = [
    "metric",
    "label",
    "unit",
    "period",
    "value",
    "compared_with",
    "previous_value",
    "change_pct",
    "in_view_period",
    "in_view_value",
    "month",
    "month_value",
    "month_compared_with",
    "month_previous_value",
    "month_change_pct",
]


def _label(period: dict[str, Any] | None) -> str | None:
    return period["label"] if period else None


def _kpis(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    """Every KPI as the cards show it (docs/metrics.md, the headline period): the headline period's value beside
    the same dates a year earlier, both named; everything in view named and without a change; and the last
    complete month beside the month before."""
    values = kpis(conn, f)
    first, last = data_date_range(conn, f)
    if p.get("detail") == "summary":  # the default: the figures in view only (exports: always the full view)
        table = {
            "metric": list(KPI_ORDER),
            "label": [METRICS[n].label for n in KPI_ORDER],
            "unit": [METRICS[n].unit for n in KPI_ORDER],
            "in_view_value": [values[n] for n in KPI_ORDER],
        }
        data = values | {"date_range": {"start": first, "end": last}}
        return ViewData("kpis", "Headline KPIs", pd.DataFrame(table), data=data)
    memo = {f: values}  # each period's figures once: the year to date is in both the growth and the headline
    g = growth(conn, f, memo)
    head = headline(conn, f, memo)
    everything = not f.statuses
    status_filters = dataclasses.replace(f, statuses=tuple(options.get("statuses", []))) if everything else f
    distribution = breakdown(conn, status_filters, "status")[STATUS_COLUMNS]
    mom = g["month_over_month"]
    rows = []
    for name in KPI_ORDER:
        metric = METRICS[name]
        now = (head["metrics"].get(name) or {}) if head else {}
        month = (mom["metrics"].get(name) or {}) if mom else {}
        rows.append(
            {
                "metric": name,
                "label": metric.label,
                "unit": metric.unit,
                "period": _label(head["current_period"]) if head else None,
                "value": now.get("current"),
                "compared_with": _label(head["comparison_period"]) if head else None,
                "previous_value": now.get("previous"),
                "change_pct": now.get("change_pct"),
                "in_view_period": _label(head["in_view_period"]) if head else None,
                "in_view_value": values[name],
                "month": _label(mom["current_period"]) if mom else None,
                "month_value": month.get("current"),
                "month_compared_with": _label(mom["comparison_period"]) if mom else None,
                "month_previous_value": month.get("previous"),
                "month_change_pct": month.get("change_pct"),
            }
        )
    notes = []
    if head:
        notes.append(
            f"Headline period (the latest year to date in view): {head['label']}; value is "
            f"{head['current_period']['label']}"
            + (
                f", previous_value {head['comparison_period']['label']}, change_pct between them."
                if head["comparison_period"]
                else f". {head['note']}"
            )
        )
        notes.append(
            f"in_view_value = everything in view, {head['in_view_period']['label']}, without a change."
        )
    if mom:
        notes.append(f"month = the last complete month in view: {mom['label']}.")
    data = values | {
        "date_range": {"start": first, "end": last},
        "headline": head,
        "growth": g,
        "status_distribution": records_of(distribution),
    }
    return ViewData(
        "kpis",
        "Headline KPIs",
        pd.DataFrame(rows, columns=KPI_COLUMNS),
        notes=notes,
        data=data,
        meta={"status_distribution_note": ALL_STATUSES_NOTE} if everything else {},
    )


def _sales_over_time(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    period = p["period"]
    grain = PERIODS[period]
    frame = sales_over_time(conn, f, grain)
    return _series_table("sales-over-time", f"Sales over time ({period})", frame, grain)


def _series_table(
    name: str, title: str, frame: pd.DataFrame, grain: str, params: dict[str, Any] | None = None
) -> ViewData:
    """A table of every period in view (metrics.series), with the partial periods in meta and in a note."""
    partial = [p for p, whole in zip(frame["period"], frame["complete"], strict=True) if not whole]
    note = partial_note(frame, grain, period_name)
    period = next(name for name, g in PERIODS.items() if g == grain)
    return _table(
        name,
        title,
        frame,
        notes=[note] if note else [],
        meta={"period": period, "partial_periods": partial, "partial_note": note},
        params=params or {},
    )


def _overlap(conn: Connection, f: Filters, frame: pd.DataFrame, dimension: str) -> dict[str, Any]:
    """Whether the breakdown's order counts add up (API meta) and the sentence the exports print when not."""
    found = order_count_overlap(conn, f, frame, dimension)
    note = found["order_count_note"]
    return {"meta": found, "notes": [note] if note else []}


def _sales_by_category(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    frame = breakdown(conn, f, "product_line")
    return _table(
        "sales-by-category", "Sales by product line", frame, **_overlap(conn, f, frame, "product_line")
    )


def _product_performance(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    level, sort, order = p["level"], p["sort"], p["order"]
    dimension = "product_code" if level == "product" else "product_line"
    limit = p.get("limit")  # None: an export, every row
    offset = 0 if limit is None else p["offset"]
    frame = breakdown(conn, f, dimension, limit=limit, offset=offset, sort=sort, descending=order == "desc")
    frame.insert(0, "rank", range(offset + 1, offset + len(frame) + 1))
    title = "Product codes by revenue" if level == "product" else "Product lines by revenue"
    overlap = _overlap(conn, f, frame, dimension)
    meta = {"level": level, "sort": sort, "order": order, **overlap["meta"]}
    if limit is not None:
        following = offset + len(frame)
        # a short page that is not past the end tells the total; otherwise count the rows in view
        short = len(frame) < limit and (len(frame) > 0 or offset == 0)
        total = following if short else group_count(conn, f, dimension)
        meta |= {
            "total": total,
            "limit": limit,
            "offset": offset,
            "returned": len(frame),
            "next_offset": following if following < total else None,
        }
    return _table("product-performance", title, frame, meta=meta, notes=overlap["notes"])


def _sales_by_country(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    frame = breakdown(conn, f, "country")
    frame.insert(1, "iso3", [iso3(c) for c in frame["country"]])
    return _table("sales-by-country", "Sales by country", frame, **_overlap(conn, f, frame, "country"))


def _top_customers(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    limit = p["limit"]
    frame = breakdown(conn, f, "customer", limit=limit)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    overlap = _overlap(conn, f, frame, "customer")
    meta = {"limit": limit, **overlap["meta"]}
    return _table("top-customers", f"Top {limit} customers", frame, meta=meta, notes=overlap["notes"])


def _trend(name: str, title: str, grain: str) -> Any:
    def compute(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
        period = {"month": "monthly", "quarter": "quarterly"}[grain]
        return _series_table(name, title, trend(conn, f, grain), grain, params={"period": period})

    return compute


def _heatmap(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    metric = p["metric"]
    matrix = month_year_grid(conn, f, metric)
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
        metrics=[metric],
        notes=["A month in view without order lines is 0; a month outside the dates in view is empty."],
        meta={"metric": metric, "years": years},
    )


def _status_distribution(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    frame = breakdown(conn, f, "status")[STATUS_COLUMNS]
    return _table("status-distribution", "Orders by status", frame, **_overlap(conn, f, frame, "status"))


def _deal_sizes(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    frame = breakdown(conn, f, "deal_size")
    rank = {name: i for i, name in enumerate(DEAL_SIZE_ORDER)}
    frame = frame.sort_values("deal_size", key=lambda c: c.map(lambda v: rank.get(v, 99)), kind="stable")
    frame = frame.reset_index(drop=True)
    return _table("deal-sizes", "Sales by deal size", frame, **_overlap(conn, f, frame, "deal_size"))


def _orders(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    sort, order, q = p["sort"], p["order"], p.get("q")
    if p.get("limit") is None:  # an export: every line, up to MAX_EXPORT_LINES
        frame, total = order_line_page(
            conn, f, limit=MAX_EXPORT_LINES + 1, offset=0, sort=sort, descending=order == "desc", q=q
        )
        if total > MAX_EXPORT_LINES:
            raise InvalidParameter(
                f"{total:,} order lines match these filters; an export holds at most {MAX_EXPORT_LINES:,}. "
                "Narrow the filters, or page through GET /api/orders.",
                details=[
                    {
                        "parameter": "view",
                        "value": "orders",
                        "message": f"more than {MAX_EXPORT_LINES:,} lines",
                    }
                ],
            )
        return ViewData("orders", "Order lines", frame, meta={"total": total})
    limit, offset = p["limit"], p["offset"]
    frame, total = order_line_page(
        conn, f, limit=limit, offset=offset, sort=sort, descending=order == "desc", q=q
    )
    following = offset + len(frame)
    meta = {
        "total": total,
        "limit": limit,
        "offset": offset,
        "returned": len(frame),
        "next_offset": following if following < total else None,
        "sort": sort,
        "order": order,
        "q": q,
    }
    return ViewData("orders", "Order lines", frame, meta=meta)


FORECAST_COLUMNS = [
    "period",
    "period_start",
    "kind",
    "revenue",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
]


def _forecast(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    result = forecast(conn, f, p["horizon"])
    frame = pd.DataFrame(
        [{c: r.get(c) for c in FORECAST_COLUMNS} for r in result.records()], columns=FORECAST_COLUMNS
    )
    backtest = pd.DataFrame(
        result.backtest["points"], columns=["period", "actual", "forecast", "abs_pct_error"]
    )
    mape = result.backtest["mape"]
    verdict = result.reliability
    notes = [
        (
            f"Reliable forecast: {verdict['reason']}"
            if verdict["verdict"] == "reliable"
            else f"Not a reliable forecast, read it as a rough guess: {verdict['reason']}"
        ),
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
    meta = {
        "model": result.model,
        "model_label": result.model_label,
        "model_reason": result.model_reason,
        "horizon": result.horizon,
        "history_months": result.history_months,
        "history_start": result.history_start,
        "history_end": result.history_end,
        "mape": result.backtest["mape"],
        "wape": result.backtest["wape"],
        "backtest": result.backtest,
        "reliability": result.reliability,
        "intervals": list(result.intervals),
        "notes": result.notes,
    }
    return ViewData(
        "forecast",
        f"Revenue forecast, next {result.horizon} month(s)",
        frame,
        params={"horizon": result.horizon},
        definitions={
            "lower_80/upper_80": "80% prediction interval of the month's revenue.",
            "lower_95/upper_95": "95% prediction interval of the month's revenue.",
            "mape": "Mean absolute percentage error of the backtest (0.2 = 20%).",
            "wape": "Backtest: sum of absolute errors / sum of actual revenue (0.2 = 20%).",
        },
        notes=notes,
        extra={"Backtest": backtest},
        meta=meta,
        chart_input={"forecast": result.to_dict()},
    )


def _comparisons(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    data = comparison_view(conn, f)
    rows = []
    for key in ("previous_period", "year_earlier"):
        cmp = data.get(key)
        if not cmp:
            continue
        for metric, values in cmp["metrics"].items():
            rows.append({"comparison": key, "label": cmp["label"], "metric": metric, **values})
    notes = [f"{k}: {v}" for k, v in data.get("notes", {}).items()]
    frame = pd.DataFrame(
        rows, columns=["comparison", "label", "metric", "current", "previous", "change", "change_pct"]
    )
    return ViewData("comparisons", "Period comparisons", frame, notes=notes, data=data)


def _acquisition(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    period = p["period"]
    frame = acquisition(conn, f, PERIODS[period])
    card: dict[str, Any] = {"current_period": None, "comparison_period": None, **change(None, None)}
    periods = headline_periods(conn, f)
    if periods is not None:
        now, before = periods
        counts = new_customers_in(conn, f, [(x.start, x.end) for x in periods])
        card = {"current_period": now.to_dict(), "comparison_period": before.to_dict(), **change(*counts)}
    notes = [NEW_CUSTOMER_NOTE]
    if card["current_period"]:
        cur, prev = card["current_period"], card["comparison_period"]
        notes.append(
            f"New customers {cur['label']}: {card['current']:,} vs {prev['label']}: {card['previous']:,}."
        )
    return _table(
        "acquisition",
        f"New and returning customers ({period})",
        frame,
        meta={"period": period, "grain": PERIODS[period], "new_customers": card},
        notes=notes,
        definitions={"new_customers": NEW_CUSTOMER_NOTE},
    )


def _cohorts(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    grain = p["grain"]
    result = cohorts(conn, f, grain)
    sizes = result["cohorts"]
    small = int(sizes["small"].sum())
    notes = [COHORT_NOTE]
    if small:
        notes.append(
            f"{small} of {len(sizes)} cohorts have fewer than {SMALL_COHORT} customers (marked small)."
        )
    if bool(result["cells"]["partial"].any()):
        notes.append("* = a period the data covers only partly (its share is not final).")
    return ViewData(
        "cohorts",
        f"Retention cohorts ({grain})",
        result["cells"],
        notes=notes,
        extra={"Cohorts": sizes},
        meta={"grain": grain, "cohorts": records_of(sizes), "small_cohort": SMALL_COHORT},
    )


def _penetration(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    dimension = p["dimension"]
    result = penetration(conn, f, dimension)
    periods = result["periods"]
    notes = [
        f"Product lines bought: of the {result['product_lines_in_view']} product lines with sales in view.",
        f"Growth: {periods['current']['label']} vs {periods['previous']['label']} (the KPI cards' periods)."
        if periods
        else "Growth: no earlier period of the same dates is covered by the data.",
    ]
    return _table(
        "market-penetration",
        f"Market penetration by {dimension}",
        result["rows"],
        meta={
            "dimension": dimension,
            "product_lines_in_view": result["product_lines_in_view"],
            "periods": periods,
        },
        notes=notes,
        summary_columns=[
            dimension,
            "customer_count",
            "revenue_per_customer",
            "product_lines_bought",
            "revenue_share",
            "revenue_change_pct",
        ],
    )


def _rfm(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    everything = p.get("limit") is None  # an export: every customer (of the segment), in the order asked
    offset = 0 if everything else p["offset"]
    answer = rfm_answer(
        conn,
        f,
        segment=p.get("segment"),
        sort=p["sort"],
        descending=p["order"] == "desc",
        limit=None if everything else p["limit"],
        offset=offset,
    )
    page, total, summary, as_of = answer.customers, answer.total, answer.segments, answer.as_of
    limit = len(page) if everything else p["limit"]
    following = offset + len(page)
    paging = (
        {}
        if everything
        else {
            "total": total,
            "limit": limit,
            "offset": offset,
            "returned": len(page),
            "next_offset": following if following < total else None,
            "sort": p["sort"],
            "order": p["order"],
        }
    )
    return ViewData(
        "rfm",
        "Customer RFM segments",
        page,
        definitions=dict(RFM_DEFINITIONS),
        notes=[f"Recency is counted to {as_of.isoformat()}, the last day the data covers."] if as_of else [],
        extra={"Segments": summary},
        meta={
            "as_of": as_of.isoformat() if as_of else None,
            "segments": records_of(summary),
            "segment_definitions": dict(SEGMENTS),
            **paging,
        },
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


MAX_PAGE = 1000  # the largest page of a paginated view (`limit`)


# ---- top movers and the list-price gap (issue #13, manager's additions) ------------------------------------------

MOVEMENT_NOTE = (
    "movement: new = no revenue in the comparison period (change % is null, not infinite); lost = no revenue "
    "in the current period; up, down or flat otherwise."
)


def _top_movers(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    dimension, limit = p["dimension"], p["limit"]
    result = top_movers(conn, f, dimension, limit)
    current, previous = result["current_period"], result["comparison_period"]
    notes = [result["note"]] if result["note"] else []
    if current and previous:
        notes.append(
            f"Current: {current['label']}; compared with {previous['label']} (the KPI cards' periods). Ranked by "
            f"the size of the revenue change; {len(result['rows'])} of {result['candidates']} shown."
        )
    notes.append(MOVEMENT_NOTE)
    return _table(
        "top-movers",
        f"Top movers by {label(result['key']).lower()}",
        result["rows"],
        meta={
            "dimension": dimension,
            "limit": limit,
            "current_period": current,
            "comparison_period": previous,
            "candidates": result["candidates"],
            "note": result["note"],
        },
        notes=notes,
        definitions={"movement": MOVEMENT_NOTE},
        chart_input={"key": result["key"]},
    )


def _chart_movers(view: ViewData) -> go.Figure:
    from salesdash.charts.changes import movers_chart

    return movers_chart(view.records(), view.chart_input["key"])


def _list_price_gap(conn: Connection, f: Filters, p: dict[str, Any], options: Options) -> ViewData:
    level = p["level"]
    result = list_price_gap(conn, f, "product" if level == "product" else "product_line")
    total = result["total"]
    notes = [result["rule"]]
    if total["list_price_gap_pct"] is not None:
        notes.append(
            f"In view: revenue {total['revenue']:,.2f} vs {total['list_price_revenue']:,.2f} at list price, "
            f"a gap of {total['list_price_gap']:,.2f} ({total['list_price_gap_pct'] * 100:+.1f}%)."
        )
    if result["lines_without_msrp"]:
        notes.append(
            f"{result['lines_without_msrp']:,} order lines without an MSRP (revenue "
            f"{result['revenue_without_msrp']:,.2f}) are left out."
        )
    return _table(
        "list-price-gap",
        "List-price gap by product code" if level == "product" else "List-price gap by product line",
        result["rows"],
        meta={
            "level": level,
            "total": total,
            "lines_without_msrp": result["lines_without_msrp"],
            "revenue_without_msrp": result["revenue_without_msrp"],
            "rule": result["rule"],
        },
        notes=notes,
        definitions={
            "list_price_revenue": "Sum of MSRP x QUANTITYORDERED over the order lines in view with an MSRP.",
            "list_price_gap": "revenue - list_price_revenue (positive: sold above list price).",
            "list_price_gap_pct": "list_price_gap / list_price_revenue (null when that is 0).",
        },
    )


def _chart_list_price_gap(view: ViewData) -> go.Figure:
    from salesdash.charts.changes import list_price_gap_chart

    key = "product_code" if view.params.get("level") == "product" else "product_line"
    return list_price_gap_chart(view.records(), key)


# ---- the declarations --------------------------------------------------------------------------------------------

TREND_DEFS = (*BREAKDOWN_METRICS, "average_order_value")
PRODUCT_LEVEL = Param(
    "level",
    "product_line (default) or product (one row per PRODUCTCODE).",
    "product_line",
    choices=("product_line", "product"),
)


def offset_param(noun: str) -> Param:
    """Where a page of a paged view starts (the API's only: an export holds every row)."""
    return Param(
        "offset",
        f"{noun} to skip (default 0); use meta.next_offset for the next page.",
        0,
        low=0,
        high=2**53,
        export=False,
    )


def order_param(default: str) -> Param:
    """The sort direction of a ranked or paged view."""
    return Param("order", "asc or desc.", default, choices=("asc", "desc"))


PERIOD_PARAM = Param(
    "period", "Time grain: " + ", ".join(PERIODS) + " (default monthly).", "monthly", choices=tuple(PERIODS)
)

CATALOG: tuple[View, ...] = (
    View(
        "kpis",
        "Headline KPIs",
        "Headline KPIs",
        "Revenue, orders, average order value, customers, countries, order lines and units for everything the "
        "filters select (`date_range`). With `detail=full` also `headline`: every KPI for the latest year to "
        "date in view beside the same dates a year earlier (current and previous values, both periods' bounds "
        "and labels: what the KPI cards show); growth (month over month of the last complete month; year over "
        "year like-for-like, with labels); and the status distribution (every status, Cancelled included, "
        "unless a status filter is given).",
        _kpis,
        "Kpis",
        "Headline metrics; with `detail=full` also the headline period, growth and status distribution.",
        params=(
            Param(
                "detail",
                "summary (default): the figures in view and their date range; full: also `headline`, `growth` "
                "and `status_distribution` (what the KPI cards show). Exports always hold the full view.",
                "summary",
                choices=("summary", "full"),
                export=False,
            ),
        ),
        many=False,
        metrics=(*KPI_ORDER, "revenue_share"),
        tabular=False,
    ),
    View(
        "sales-over-time",
        "Sales over time",
        "Sales over time",
        "Revenue, orders, lines, units, customers and average order value per day, ISO week (Monday start), "
        "month, quarter or year: every period from the first to the last date in view, a period without order "
        "lines as 0 (average order value null), each with its first and last day. `complete` is false for a "
        "period the dates in view cover only in part (the data's last year, a month cut by a date filter); "
        "`meta.partial_periods` lists them and `meta.partial_note` says so in words.",
        _sales_over_time,
        "SeriesRow",
        "One row per period in view, oldest first.",
        columns=tuple(SERIES_COLUMNS),
        params=(PERIOD_PARAM,),
        metrics=TREND_DEFS,
        filename=lambda p: f"sales-over-time-{p['period']}",
        chart=_chart_over_time,
    ),
    View(
        "sales-by-category",
        "Sales by product line",
        "Sales by product line",
        "Metrics per product line (PRODUCTLINE), highest revenue first, with each line's revenue share.",
        _sales_by_category,
        "ProductLineRow",
        "One row per product line, by revenue.",
        columns=("product_line", *BREAKDOWN_COLUMNS, "country_count", "product_code_count", "revenue_share"),
        metrics=BREAKDOWN_DEFINITIONS,
        chart=_chart_ranked("product_line"),
    ),
    View(
        "product-performance",
        "Product performance",
        "Product performance",
        "Units, revenue, average unit price, orders, customers and (per product line) countries and product "
        "codes; `level=product` ranks the product codes instead. Rows are ranked by `sort` (default revenue), "
        f"then by name; `data` is one page (`limit` 1-{MAX_PAGE}, default 100; `offset`), `meta.total` counts "
        "the rows in view and `meta.next_offset` is the next page's offset (null on the last page). An export "
        "holds every row.",
        _product_performance,
        "BreakdownRow",
        "Product lines (level=product_line) or product codes (level=product), ranked.",
        columns=(
            "rank",
            "product_line",
            "product_code",
            *BREAKDOWN_COLUMNS,
            "msrp",
            "country_count",
            "product_code_count",
            "revenue_share",
        ),
        optional=("product_code", "msrp", "country_count", "product_code_count"),  # by level
        params=(
            PRODUCT_LEVEL,
            Param(
                "sort",
                "Metric to rank by: " + ", ".join(BREAKDOWN_METRICS) + ".",
                "revenue",
                choices=BREAKDOWN_METRICS,
            ),
            order_param("desc"),
            Param(
                "limit", f"Page size, 1-{MAX_PAGE} (default 100).", 100, low=1, high=MAX_PAGE, export=False
            ),
            offset_param("Rows"),
        ),
        metrics=BREAKDOWN_DEFINITIONS,
        filename=lambda p: f"product-performance-{p['level']}",
        chart=_chart_products,
    ),
    View(
        "sales-by-country",
        "Sales by country",
        "Sales by country",
        "Metrics per country, highest revenue first, with the ISO 3166 alpha-3 code (`iso3`, for maps; null "
        "when the name is not a known country) and the sales territory.",
        _sales_by_country,
        "CountryRow",
        "One row per country, with its ISO-3 code.",
        columns=("country", "iso3", *BREAKDOWN_COLUMNS, "territory", "revenue_share"),
        metrics=BREAKDOWN_DEFINITIONS,
        chart=_chart_ranked("country", limit=20),
    ),
    View(
        "top-customers",
        "Top customers",
        "Top customers",
        "The `limit` customers (1-100, default 10) with the highest revenue, with their country and first and "
        "last order dates; `revenue_share` is their share of all revenue in view.",
        _top_customers,
        "CustomerRow",
        "The top customers by revenue.",
        columns=(
            "rank",
            "customer_name",
            *BREAKDOWN_COLUMNS,
            "country",
            "first_order_date",
            "last_order_date",
            "revenue_share",
        ),
        nullable=("country",),
        params=(Param("limit", "Number of customers, 1-100 (default 10).", 10, low=1, high=100),),
        metrics=BREAKDOWN_DEFINITIONS,
        chart=_chart_top_customers,
    ),
    View(
        "monthly-trends",
        "Monthly trends",
        "Monthly trends",
        "Metrics for every month in view (a month without order lines as 0, average order value null), each "
        "with its first and last day, with the revenue change vs the previous month and vs the same month a "
        "year earlier (null when that month is not in view; the percentage null when it had no revenue). "
        "`complete` is false for a month the dates in view cover only in part; `meta.partial_periods` lists "
        "them.",
        _trend("monthly-trends", "Monthly trends", "month"),
        "TrendRow",
        "One row per month in view, oldest first, with changes.",
        columns=TREND_COLUMNS,
        metrics=TREND_DEFS,
        chart=_chart_over_time,
    ),
    View(
        "quarterly-analysis",
        "Quarterly analysis",
        "Quarterly analysis",
        "Metrics for every quarter in view (0 without order lines), with the revenue change vs the previous "
        "quarter and vs the same quarter a year earlier (null when that quarter is not in view). A quarter "
        "the dates in view cover only partly is flagged with `complete: false` and named in "
        "`meta.partial_periods`.",
        _trend("quarterly-analysis", "Quarterly analysis", "quarter"),
        "TrendRow",
        "One row per quarter in view, oldest first, with changes.",
        columns=TREND_COLUMNS,
        metrics=TREND_DEFS,
        chart=_chart_quarterly,
    ),
    View(
        "heatmap",
        "Month x year heatmap",
        "Month x year heatmap",
        '`metric` (default revenue) per month (rows 1-12) and year (one key per year, e.g. "2004"). A month '
        "in view without order lines is 0; a month outside the dates in view (after the data ends, outside the "
        "date filter) is null. `meta.years` lists the year keys in order.",
        _heatmap,
        "HeatmapRow",
        "Rows = months 1-12; one column per year (0 where a month in view has no order lines, null outside "
        "the dates in view).",
        columns=("month", "month_name"),  # and one column per year
        params=(
            Param(
                "metric",
                "Metric in the cells: " + ", ".join(BREAKDOWN_METRICS) + " (default revenue).",
                "revenue",
                choices=BREAKDOWN_METRICS,
            ),
        ),
        chart=_chart_heatmap,
    ),
    View(
        "status-distribution",
        "Orders by status",
        "Order status distribution",
        "Metrics per order status. Without a status filter EVERY status is shown, Cancelled included (unlike "
        "the other endpoints, which leave Cancelled out by default); `meta.all_statuses` says so.",
        _status_distribution,
        "StatusRow",
        "One row per order status.",
        columns=("status", *BREAKDOWN_COLUMNS, "revenue_share"),
        metrics=BREAKDOWN_DEFINITIONS,
        all_statuses=True,
        chart=_chart_category("status", "order_count", STATUS_ORDER),
    ),
    View(
        "deal-sizes",
        "Sales by deal size",
        "Sales by deal size",
        "Metrics per DEALSIZE, in the order Small, Medium, Large.",
        _deal_sizes,
        "DealSizeRow",
        "One row per deal size (Small, Medium, Large).",
        columns=("deal_size", *BREAKDOWN_COLUMNS, "revenue_share"),
        metrics=BREAKDOWN_DEFINITIONS,
        chart=_chart_category("deal_size", "revenue", DEAL_SIZE_ORDER),
    ),
    View(
        "orders",
        "Order lines",
        "Order lines",
        "The order lines behind any view (same filters), one page at a time: `limit` (1-1000, default 100), "
        f"`offset` (at most {MAX_ORDER_OFFSET:,}), `sort` (any column), `order` (asc/desc) and `q` (lines whose "
        "order number, customer name or product code contains the text, any case; `%` and `_` are plain "
        "characters). Lines that tie on `sort` come by order number, then order line number, so pages never "
        "repeat or skip a line. `meta.total` counts every matching line and `meta.next_offset` is the offset "
        f"of the next page (null on the last page). An export holds every line (at most {MAX_EXPORT_LINES:,}); "
        "`GET /api/orders/{ordernumber}` gives one order.",
        _orders,
        "OrderLineRow",
        "One page of order lines.",
        columns=ORDER_LINE_FIELDS,
        nullable=ORDER_LINE_NULLABLE,
        meta_schema="PageMeta",
        params=(
            Param("limit", "Page size, 1-1000 (default 100).", 100, low=1, high=1000, export=False),
            Param(
                "offset",
                f"Lines to skip (default 0, at most {MAX_ORDER_OFFSET:,}); use meta.next_offset for the next "
                "page (past that, narrow the filters or search).",
                0,
                low=0,
                high=MAX_ORDER_OFFSET,
                export=False,
            ),
            Param(
                "sort",
                "Column to sort by: " + ", ".join(ORDER_SORT_COLUMNS) + ".",
                "order_date",
                choices=ORDER_SORT_COLUMNS,
            ),
            order_param("asc"),
            Param(
                "q",
                "Only lines whose order number, customer name or product code contains this text (any case; "
                f"% and _ are literal; at most {MAX_SEARCH_LENGTH} characters).",
                max_length=MAX_SEARCH_LENGTH,
            ),
        ),
        metrics=("revenue",),
    ),
    View(
        "forecast",
        "Revenue forecast",
        "Revenue forecast",
        f"Monthly revenue for the filters, forecast `horizon` (1-{MAX_HORIZON}) months past the last complete "
        "month, with 80% and 95% prediction intervals; `meta` names the model (Holt-Winters with 24+ months of "
        "history, else Holt), why, its backtest error (MAPE and weighted error over the last 6 known "
        "months) and `reliability`, the verdict people are shown (reliable, unreliable or insufficient_history, "
        "with the reason). 422 when the view has fewer than 12 complete months.",
        _forecast,
        "ForecastRow",
        "Monthly revenue: the history (kind=actual) then the forecast with 80% and 95% intervals.",
        columns=tuple(FORECAST_COLUMNS),
        meta_schema="ForecastMeta",
        params=(
            Param(
                "horizon",
                f"Months to forecast, 1-{MAX_HORIZON} (default 3).",
                3,
                low=1,
                high=MAX_HORIZON,
            ),
        ),
        metrics=("revenue",),
        errors=(400, 401, 403, 503, 422),
        filename=lambda p: f"forecast-{p['horizon']}m",
        chart=_chart_forecast,
    ),
    View(
        "comparisons",
        "Period comparisons",
        "Period comparisons",
        "The filtered date range (clipped to the data) vs the previous period of the same length and vs the "
        "same dates a year earlier, for every KPI, aligned like-for-like; null (with `notes` saying why) when "
        "the other period is not covered by the data or overlaps. `headline` is the KPI cards' period (the "
        "latest year to date in view) with its current and previous values; `growth` holds the headline "
        "month-over-month and year-over-year (like-for-like) comparisons.",
        _comparisons,
        "ComparisonsData",
        "Every KPI vs the previous period and vs a year earlier.",
        many=False,
        metrics=KPI_ORDER,
        tabular=False,
        chart=_chart_comparison,
    ),
    View(
        "rfm",
        "Customer RFM segments",
        "Customer RFM segments",
        "RFM per customer in view: recency (days from the last order to the end of the data), frequency "
        "(order_count) and monetary value (revenue), each scored 1-5 by quintile (ties share a score), and a "
        "named segment. `meta.segments` summarises every segment (customers, revenue, averages); `data` is one "
        f"page of the customers (`limit` 1-{MAX_PAGE}, default 100; `offset`; `sort`, `order`), of one "
        "`segment` when given; `meta.total` counts them and `meta.next_offset` is the next page's offset (null "
        "on the last page). An export holds every customer (of the segment) in the order asked.",
        _rfm,
        "RfmCustomer",
        "One page of scored customers; `meta.segments` sums up every segment.",
        columns=RFM_COLUMNS,
        nullable=("country",),
        meta_schema="RfmMeta",
        params=(
            Param(
                "segment",
                "Only the customers of this segment: " + ", ".join(SEGMENTS) + ".",
                choices=tuple(SEGMENTS),
            ),
            Param(
                "limit", f"Page size, 1-{MAX_PAGE} (default 100).", 100, low=1, high=MAX_PAGE, export=False
            ),
            offset_param("Customers"),
            Param(
                "sort",
                "Sort the customers by: "
                + ", ".join(RFM_SORT_COLUMNS)
                + " (segment: segment order, then revenue, highest first; the default).",
                "segment",
                choices=RFM_SORT_COLUMNS,
            ),
            order_param("asc"),
        ),
        metrics=("revenue", "order_count"),
        filename=lambda p: "rfm-segments",
        chart=_chart_rfm,
    ),
    View(
        "acquisition",
        "New and returning customers",
        "Customer acquisition",
        "Per period of the grain: customers, new customers (their first order under the filters, the date range "
        "aside, falls in the period), returning customers and the revenue of each. `meta.new_customers` is the "
        "headline comparison: new customers of the latest year to date in view vs the same dates a year "
        "earlier, both periods named (null when that earlier period is not covered).",
        _acquisition,
        "AcquisitionRow",
        "One row per period with customers, oldest first.",
        columns=tuple(ACQUISITION_COLUMNS),
        meta_schema="AcquisitionMeta",
        params=(PERIOD_PARAM,),
        metrics=("customer_count",),
        filename=lambda p: f"acquisition-{p['period']}",
        chart=_chart_acquisition,
    ),
    View(
        "cohorts",
        "Retention cohorts",
        "Retention cohorts",
        "Customers grouped by the month (or quarter) of their first order in the date range; for each cohort "
        "and each period since (0 = the first), the customers still ordering, their share of the cohort "
        f"(`retention`) and their revenue. `partial` marks periods the data covers only partly; `meta.cohorts` "
        f"lists each cohort's size, `small` when under {SMALL_COHORT} customers.",
        _cohorts,
        "CohortCell",
        "One row per cohort and period since its first order (periods with no active customer are absent).",
        columns=tuple(CELL_COLUMNS),
        meta_schema="CohortMeta",
        params=(
            Param("grain", "Cohort period: month (default) or quarter.", "month", choices=COHORT_GRAINS),
        ),
        metrics=("customer_count",),
        filename=lambda p: f"cohorts-{p['grain']}",
        chart=_chart_cohorts,
    ),
    View(
        "market-penetration",
        "Market penetration",
        "Market penetration by country or territory",
        "Per country (or territory): customers, revenue, revenue per customer, share of revenue, how many of the "
        "product lines on sale in view it buys (and that share), and revenue growth over the KPI cards' "
        "periods (latest year to date vs the same dates a year earlier; named in `meta.periods`).",
        _penetration,
        "PenetrationRow",
        "One row per market, by revenue.",
        columns=("country", "territory", *PENETRATION_COLUMNS),
        optional=("country", "territory"),  # by dimension
        meta_schema="PenetrationMeta",
        params=(
            Param(
                "dimension",
                "Market: country (default) or territory.",
                "country",
                choices=PENETRATION_DIMENSIONS,
            ),
        ),
        metrics=("revenue", "customer_count", "revenue_share"),
        filename=lambda p: f"market-penetration-{p['dimension']}",
        chart=_chart_penetration,
    ),
    # ---- manager's additions (issue #13): top movers and the list-price gap --------------------------------------
    View(
        "top-movers",
        "Top movers",
        "Top movers: largest revenue changes",
        "The `limit` customers, countries or product lines (`dimension`) whose revenue changed most between the "
        "KPI cards' periods: the latest year to date in view (with a date filter, the filtered range in the last "
        "year it reaches) vs the same dates a year earlier. Each row: `current_revenue`, `previous_revenue`, "
        "`revenue_change`, `revenue_change_pct` (null, not infinite, when the previous revenue is 0) and "
        "`movement` (new, lost, up, down, flat), ranked by the size of the change. `meta.current_period` and "
        "`meta.comparison_period` bound both periods; with no comparison period (the data does not cover the "
        "year earlier) `data` is empty, `meta.comparison_period` null and `meta.note` says why.",
        _top_movers,
        "MoverRow",
        "The groups with the largest revenue change, largest first.",
        meta_schema="MoversMeta",
        params=(
            Param(
                "dimension",
                "Group by: " + ", ".join(MOVER_DIMENSIONS) + " (default customer).",
                "customer",
                choices=tuple(MOVER_DIMENSIONS),
            ),
            Param("limit", "Number of movers, 1-100 (default 10).", 10, low=1, high=100),
        ),
        metrics=("revenue",),
        filename=lambda p: f"top-movers-{p['dimension']}",
        chart=_chart_movers,
    ),
    View(
        "list-price-gap",
        "List-price gap",
        "List-price gap (revenue vs MSRP)",
        "Per product line (or `level=product`: per product code, with its MSRP): revenue (SALES) beside the "
        "revenue the same units would bring at list price (`list_price_revenue` = MSRP x QUANTITYORDERED), the "
        "gap (`list_price_gap` = revenue - list-price revenue; positive = sold above list) and `list_price_gap_pct`"
        " (of the list-price revenue). NOT a profit margin: the data has no cost. SALES is the revenue because "
        "PRICEEACH is capped at 100.00 in the source. Only lines with an MSRP count; `meta.lines_without_msrp` "
        "counts the others, `meta.total` sums every line with one.",
        _list_price_gap,
        "ListPriceGapRow",
        "One row per product line (or product code), by revenue.",
        meta_schema="ListPriceGapMeta",
        params=(PRODUCT_LEVEL,),
        metrics=("revenue",),
        filename=lambda p: f"list-price-gap-{p['level']}",
        chart=_chart_list_price_gap,
    ),
)
