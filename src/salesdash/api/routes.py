"""The sales analytics endpoints: thin handlers over the metric layer.

Each handler only reads its (already validated) parameters, names the metric-layer call(s) in a ``compute``
function and hands it to :func:`salesdash.api.respond.data_response`, which runs it in one read snapshot,
caches it and serialises it. No SQL and no arithmetic on metrics here.
"""

from __future__ import annotations

import calendar
from typing import Any

import pandas as pd
from apiflask import APIBlueprint
from flask import Response, g
from sqlalchemy import Connection

from salesdash.api import schemas as s
from salesdash.api.respond import ALL_STATUSES_NOTE, Result, all_statuses, data_response, records
from salesdash.geo import iso3
from salesdash.metrics import (
    CANCELLED,
    Filters,
    breakdown,
    data_date_range,
    filter_options,
    growth,
    kpis,
    month_year_matrix,
    order_line_page,
    over_time,
)
from salesdash.metrics.definitions import BREAKDOWN_METRICS
from salesdash.metrics.trends import trend

bp = APIBlueprint(
    "sales",
    __name__,
    url_prefix="/api",
    tag={
        "name": "Sales analytics",
        "description": "Metrics from the metric layer; every endpoint takes the filters.",
    },
)

ERRORS = [400, 401, 403, 503]
BREAKDOWN_DEFS = [*BREAKDOWN_METRICS, "average_order_value", "average_unit_price", "revenue_share"]
KPI_DEFS = [
    "revenue",
    "order_count",
    "line_count",
    "units",
    "customer_count",
    "country_count",
    "product_line_count",
    "average_order_value",
    "average_unit_price",
    "revenue_share",
]
DEAL_SIZE_ORDER = {"Small": 0, "Medium": 1, "Large": 2}
STATUS_COLUMNS = ["status", *BREAKDOWN_METRICS, "average_order_value", "average_unit_price", "revenue_share"]


def _query(bp_schema: type) -> Any:
    return bp.input(bp_schema, location="query", arg_name="query")


def _options() -> dict[str, Any]:
    options: dict[str, Any] = g.filter_options
    return options


def _with_all_statuses(filters: Filters, options: Any) -> Filters:
    return all_statuses(filters, options)[0]


def _breakdown_result(frame: pd.DataFrame, **meta: Any) -> Result:
    return Result(records(frame), meta={"row_count": len(frame), **meta}, columns=list(frame.columns))


@bp.get("/kpis")
@_query(s.FilterQuery)
@bp.output(s.envelope(s.Kpis), description="Headline metrics, growth and status distribution.")
@bp.doc(summary="Headline KPIs", responses=ERRORS)
def get_kpis(query: dict[str, Any]) -> Response:
    """Revenue, orders, average order value, customers, countries, order lines and units for the filters;
    growth (month over month of the last complete month; year over year like-for-like, with labels); and the
    status distribution (every status, Cancelled included, unless a status filter is given)."""

    def compute(conn: Connection, f: Filters) -> Result:
        first, last = data_date_range(conn, f)
        status_filters, everything = all_statuses(f, _options())
        distribution = breakdown(conn, status_filters, "status")[STATUS_COLUMNS]
        data = kpis(conn, f) | {
            "date_range": {"start": first, "end": last},
            "growth": growth(conn, f),
            "status_distribution": records(distribution),
        }
        meta = {"status_distribution_note": ALL_STATUSES_NOTE} if everything else {}
        return Result(data, meta=meta)

    return data_response("kpis", compute, metrics=KPI_DEFS)


@bp.get("/sales-over-time")
@_query(s.SalesOverTimeQuery)
@bp.output(
    s.envelope(s.PeriodRow, many=True), description="One row per period with order lines, oldest first."
)
@bp.doc(summary="Sales over time", responses=ERRORS)
def get_sales_over_time(query: dict[str, Any]) -> Response:
    """Revenue, orders, lines, units, customers and average order value per day, ISO week (Monday start),
    month, quarter or year. Periods without order lines are absent (not zero)."""
    period = query["period"]
    grain = s.PERIODS[period]

    def compute(conn: Connection, f: Filters) -> Result:
        frame = over_time(conn, f, grain)
        return _breakdown_result(frame, period=period)

    return data_response(
        "sales-over-time",
        compute,
        params={"period": period},
        metrics=[*BREAKDOWN_METRICS, "average_order_value"],
        fmt=query["format"],
        filename=f"sales-over-time-{period}",
    )


@bp.get("/sales-by-category")
@_query(s.TabularQuery)
@bp.output(s.envelope(s.ProductLineRow, many=True), description="One row per product line, by revenue.")
@bp.doc(summary="Sales by product line", responses=ERRORS)
def get_sales_by_category(query: dict[str, Any]) -> Response:
    """Metrics per product line (PRODUCTLINE), highest revenue first, with each line's revenue share."""

    def compute(conn: Connection, f: Filters) -> Result:
        return _breakdown_result(breakdown(conn, f, "product_line"))

    return data_response(
        "sales-by-category",
        compute,
        metrics=BREAKDOWN_DEFS,
        fmt=query["format"],
        filename="sales-by-category",
    )


@bp.get("/product-performance")
@_query(s.ProductPerformanceQuery)
@bp.output(
    s.envelope(s.BreakdownRow, many=True),
    description="Product lines (level=product_line) or product codes (level=product), ranked.",
)
@bp.doc(summary="Product performance", responses=ERRORS)
def get_product_performance(query: dict[str, Any]) -> Response:
    """Units, revenue, average unit price, orders, customers and (per product line) countries and product
    codes; `level=product` ranks the product codes instead. Rows are ranked by `sort` (default revenue)."""
    level, sort, order, limit = query["level"], query["sort"], query["order"], query.get("limit")
    dimension = "product_code" if level == "product" else "product_line"

    def compute(conn: Connection, f: Filters) -> Result:
        frame = breakdown(conn, f, dimension, limit=limit, sort=sort, descending=order == "desc")
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return _breakdown_result(frame, level=level, sort=sort, order=order)

    return data_response(
        "product-performance",
        compute,
        params={"level": level, "sort": sort, "order": order, "limit": limit},
        metrics=BREAKDOWN_DEFS,
        fmt=query["format"],
        filename=f"product-performance-{level}",
    )


@bp.get("/sales-by-country")
@_query(s.TabularQuery)
@bp.output(s.envelope(s.CountryRow, many=True), description="One row per country, with its ISO-3 code.")
@bp.doc(summary="Sales by country", responses=ERRORS)
def get_sales_by_country(query: dict[str, Any]) -> Response:
    """Metrics per country, highest revenue first, with the ISO 3166 alpha-3 code (`iso3`, for maps; null
    when the name is not a known country) and the sales territory."""

    def compute(conn: Connection, f: Filters) -> Result:
        frame = breakdown(conn, f, "country")
        frame.insert(1, "iso3", [iso3(c) for c in frame["country"]])
        return _breakdown_result(frame)

    return data_response(
        "sales-by-country", compute, metrics=BREAKDOWN_DEFS, fmt=query["format"], filename="sales-by-country"
    )


@bp.get("/top-customers")
@_query(s.TopCustomersQuery)
@bp.output(s.envelope(s.CustomerRow, many=True), description="The top customers by revenue.")
@bp.doc(summary="Top customers", responses=ERRORS)
def get_top_customers(query: dict[str, Any]) -> Response:
    """The `limit` customers (1-100, default 10) with the highest revenue, with their country and first and
    last order dates; `revenue_share` is their share of all revenue in view."""
    limit = query["limit"]

    def compute(conn: Connection, f: Filters) -> Result:
        frame = breakdown(conn, f, "customer", limit=limit)
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return _breakdown_result(frame, limit=limit)

    return data_response(
        "top-customers",
        compute,
        params={"limit": limit},
        metrics=BREAKDOWN_DEFS,
        fmt=query["format"],
        filename="top-customers",
    )


def _trend_endpoint(name: str, grain: str, fmt: str) -> Response:
    def compute(conn: Connection, f: Filters) -> Result:
        frame = trend(conn, f, grain)
        return _breakdown_result(frame, period={"month": "monthly", "quarter": "quarterly"}[grain])

    return data_response(
        name,
        compute,
        metrics=[*BREAKDOWN_METRICS, "average_order_value"],
        fmt=fmt,
        filename=name,
    )


@bp.get("/monthly-trends")
@_query(s.TabularQuery)
@bp.output(s.envelope(s.TrendRow, many=True), description="One row per month with data, with changes.")
@bp.doc(summary="Monthly trends", responses=ERRORS)
def get_monthly_trends(query: dict[str, Any]) -> Response:
    """Metrics per month, with the revenue change vs the previous month and vs the same month a year
    earlier (null when that month has no data in view)."""
    return _trend_endpoint("monthly-trends", "month", query["format"])


@bp.get("/quarterly-analysis")
@_query(s.TabularQuery)
@bp.output(s.envelope(s.TrendRow, many=True), description="One row per quarter with data, with changes.")
@bp.doc(summary="Quarterly analysis", responses=ERRORS)
def get_quarterly_analysis(query: dict[str, Any]) -> Response:
    """Metrics per quarter, with the revenue change vs the previous quarter and vs the same quarter a year
    earlier (null when that quarter has no data in view). A quarter the data covers only partly is flagged
    with `complete: false`."""
    return _trend_endpoint("quarterly-analysis", "quarter", query["format"])


@bp.get("/heatmap")
@_query(s.HeatmapQuery)
@bp.output(
    s.envelope(s.HeatmapRow, many=True),
    description="Rows = months 1-12; one column per year (null where the month has no data).",
)
@bp.doc(summary="Month x year heatmap", responses=ERRORS)
def get_heatmap(query: dict[str, Any]) -> Response:
    """`metric` (default revenue) per month (rows 1-12) and year (one key per year, e.g. "2004"). A month
    without order lines in view is null, not 0. `meta.years` lists the year keys in order."""
    metric = query["metric"]

    def compute(conn: Connection, f: Filters) -> Result:
        matrix = month_year_matrix(conn, f, metric)
        years = [int(y) for y in matrix.columns]
        rows = []
        for month, values in matrix.iterrows():
            row: dict[str, Any] = {"month": int(month), "month_name": calendar.month_name[int(month)]}
            row |= {str(y): values[y] for y in years}
            rows.append(row)
        return Result(
            rows,
            meta={"metric": metric, "years": years},
            columns=["month", "month_name", *[str(y) for y in years]],
        )

    return data_response(
        "heatmap",
        compute,
        params={"metric": metric},
        metrics=[metric],
        fmt=query["format"],
        filename="heatmap",
    )


@bp.get("/status-distribution")
@_query(s.TabularQuery)
@bp.output(s.envelope(s.StatusRow, many=True), description="One row per order status.")
@bp.doc(summary="Order status distribution", responses=ERRORS)
def get_status_distribution(query: dict[str, Any]) -> Response:
    """Metrics per order status. Without a status filter EVERY status is shown, Cancelled included (unlike
    the other endpoints, which leave Cancelled out by default); `meta.all_statuses` says so."""

    def compute(conn: Connection, f: Filters) -> Result:
        frame = breakdown(conn, f, "status")[STATUS_COLUMNS]
        everything = g.all_statuses
        meta = {"all_statuses": everything}
        if everything:
            meta["note"] = ALL_STATUSES_NOTE
        return _breakdown_result(frame, **meta)

    def prepare(f: Filters, options: Any) -> Filters:
        f, g.all_statuses = all_statuses(f, options)
        return f

    return data_response(
        "status-distribution",
        compute,
        metrics=BREAKDOWN_DEFS,
        fmt=query["format"],
        filename="status-distribution",
        prepare=prepare,
    )


@bp.get("/deal-sizes")
@_query(s.TabularQuery)
@bp.output(s.envelope(s.DealSizeRow, many=True), description="One row per deal size (Small, Medium, Large).")
@bp.doc(summary="Sales by deal size", responses=ERRORS)
def get_deal_sizes(query: dict[str, Any]) -> Response:
    """Metrics per DEALSIZE, in the order Small, Medium, Large."""

    def compute(conn: Connection, f: Filters) -> Result:
        frame = breakdown(conn, f, "deal_size")
        frame = frame.sort_values(
            "deal_size", key=lambda col: col.map(lambda v: DEAL_SIZE_ORDER.get(v, 99)), kind="stable"
        ).reset_index(drop=True)
        return _breakdown_result(frame)

    return data_response(
        "deal-sizes", compute, metrics=BREAKDOWN_DEFS, fmt=query["format"], filename="deal-sizes"
    )


@bp.get("/filters")
@_query(s.NoQuery)
@bp.output(s.envelope(s.FilterOptions), description="Every value each filter can take.")
@bp.doc(summary="Filter values", responses=[400, 401, 403, 503])
def get_filters(query: dict[str, Any]) -> Response:
    """The values each filter can take in the current data (countries, product lines, statuses, deal sizes,
    customers, the date range), for building a UI. `default_statuses` is what "no status filter" means."""

    def compute(conn: Connection, f: Filters) -> Result:
        data = filter_options(conn)
        data["default_statuses"] = [v for v in data["statuses"] if v != CANCELLED]
        data["periods"] = list(s.PERIODS)
        return Result(data)

    return data_response("filters", compute, use_filters=False)


@bp.get("/orders")
@_query(s.OrdersQuery)
@bp.output(s.envelope(s.OrderLineRow, many=True, meta=s.PageMeta), description="One page of order lines.")
@bp.doc(summary="Order lines", responses=ERRORS)
def get_orders(query: dict[str, Any]) -> Response:
    """The order lines behind any view (same filters), one page at a time: `limit` (1-1000, default 100),
    `offset`, `sort` (a column) and `order` (asc/desc). `meta.total` counts every matching line and
    `meta.next_offset` is the offset of the next page (null on the last page)."""
    limit, offset, sort, order = query["limit"], query["offset"], query["sort"], query["order"]

    def compute(conn: Connection, f: Filters) -> Result:
        frame, total = order_line_page(
            conn, f, limit=limit, offset=offset, sort=sort, descending=order == "desc"
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
        }
        return Result(records(frame), meta=meta, columns=list(frame.columns))

    return data_response(
        "orders",
        compute,
        params={"limit": limit, "offset": offset, "sort": sort, "order": order},
        metrics=["revenue"],
        fmt=query["format"],
        filename="orders",
    )
