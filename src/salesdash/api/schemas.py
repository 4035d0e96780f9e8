"""Request (query) and response schemas. They drive validation and the OpenAPI document.

Query schemas check the form of each parameter (types, ranges, choices); filter VALUES (a country that is not
in the data, say) are checked against the data by :mod:`salesdash.api.respond`. Unknown parameter names are
refused for every endpoint by :func:`salesdash.api.http.check_query`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import EXCLUDE, INCLUDE

from salesdash.export import FORMATS as EXPORT_FORMATS
from salesdash.filters import FILTERS, DateBound, Filter
from salesdash.forecast import VERDICTS
from salesdash.ingest.uploads import MODES
from salesdash.views import VIEWS, Param, export_parameters

ISO_DATE = Regexp(r"^\d{4}-\d{2}-\d{2}$", error="not an ISO date (YYYY-MM-DD)")
FORMATS = ("json", "csv")


def _list(description: str) -> List:
    # No "example": Swagger UI's "Try it out" would send it, filtering every request down to one value.
    return List(
        String(), metadata={"description": description + " Repeat the parameter or comma-separate values."}
    )


class QuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # unknown names are refused earlier, with the accepted names listed


class NoQuery(QuerySchema):
    """Endpoints without parameters (still refuse unknown ones)."""


def _filter_field(f: Filter) -> String | List:
    if isinstance(f, DateBound):
        return String(validate=ISO_DATE, metadata={"description": f.description, "format": "date"})
    if f.many:
        return _list(f.description)
    return String(metadata={"description": f.description})


# The filters every data endpoint takes, one query field per declared filter (salesdash.filters.FILTERS).
if TYPE_CHECKING:
    FilterQuery = QuerySchema
else:
    FilterQuery = type("FilterQuery", (QuerySchema,), {f.param: _filter_field(f) for f in FILTERS})


class MetricQuery(FilterQuery):
    definitions = Boolean(
        load_default=False,
        metadata={
            "description": "true: add `meta.definitions` (metric -> definition) to the answer. Left out by "
            "default to keep answers small; GET /api/definitions lists every definition once."
        },
    )


class TabularQuery(MetricQuery):
    format = String(
        load_default="json",
        validate=OneOf(FORMATS),
        metadata={"description": "json (default) or csv (the `data` records as text/csv)."},
    )


MAX_CUSTOMER_MATCHES = 50


class CustomerSearchQuery(QuerySchema):
    q = String(
        load_default="",
        validate=Length(max=200),
        metadata={"description": "Text the customer name starts with or contains, any case (empty: all)."},
    )
    limit = Integer(
        load_default=20,
        validate=Range(min=1, max=MAX_CUSTOMER_MATCHES),
        metadata={"description": f"How many names, 1-{MAX_CUSTOMER_MATCHES} (default 20)."},
    )


class RefreshQuery(QuerySchema):
    on_error = String(
        load_default="strict",
        validate=OneOf(("strict", "skip")),
        metadata={
            "description": "strict (default): refuse the file if any row is invalid; "
            "skip: load the valid rows and report the others."
        },
    )


class RefreshFiles(Schema):
    class Meta:
        unknown = EXCLUDE

    file = File(
        required=True,
        metadata={
            "description": "A CSV of order lines. Send no body at all to reload the configured source instead."
        },
    )


# ---- responses (documentation and schemathesis conformance; handlers build the JSON themselves) ----


class Open(Schema):
    class Meta:
        unknown = INCLUDE


def money(**kw: object) -> Float:
    return Float(required=True, allow_none=bool(kw.pop("nullable", False)), metadata=dict(kw))


class Meta(Open):
    data_version = String(required=True, metadata={"description": "The data version the numbers come from."})
    filters = Dict(required=True, metadata={"description": "The filters applied, normalised."})
    definitions = Dict(
        keys=String(),
        values=String(),
        metadata={"description": "Metric -> definition; only with `definitions=true`."},
    )
    generated_at = String(required=True, metadata={"format": "date-time"})


class Metrics(Open):
    revenue = money()
    order_count = Integer(required=True)
    line_count = Integer(required=True)
    units = Integer(required=True)
    customer_count = Integer(required=True)
    average_order_value = money(nullable=True)


class BreakdownRow(Metrics):
    average_unit_price = money(nullable=True)
    revenue_share = Float(required=True, allow_none=True)


class ProductLineRow(BreakdownRow):
    product_line = String(required=True)
    country_count = Integer(required=True)
    product_code_count = Integer(required=True)


class ProductRow(BreakdownRow):
    product_code = String(required=True)
    product_line = String(required=True, allow_none=True)
    msrp = Integer(required=True, allow_none=True)


class CountryRow(BreakdownRow):
    country = String(required=True)
    iso3 = String(required=True, allow_none=True)
    territory = String(required=True, allow_none=True)


class CustomerRow(BreakdownRow):
    rank = Integer(required=True)
    customer_name = String(required=True)
    country = String(required=True, allow_none=True)
    first_order_date = String(required=True, metadata={"format": "date"})
    last_order_date = String(required=True, metadata={"format": "date"})


class StatusRow(BreakdownRow):
    status = String(required=True)


class DealSizeRow(BreakdownRow):
    deal_size = String(required=True)


class PeriodRow(Metrics):
    period = String(required=True, metadata={"example": "2004-11"})
    period_start = String(required=True, metadata={"format": "date"})


class SeriesRow(PeriodRow):
    period_end = String(required=True, metadata={"format": "date"})
    complete = Boolean(
        required=True, metadata={"description": "whether the dates in view cover the whole period"}
    )


class TrendRow(PeriodRow):
    revenue_change = Float(required=True, allow_none=True)
    revenue_change_pct = Float(required=True, allow_none=True)
    revenue_yoy_change = Float(required=True, allow_none=True)
    revenue_yoy_change_pct = Float(required=True, allow_none=True)


class HeatmapRow(Schema):
    class Meta:
        unknown = INCLUDE

    month = Integer(required=True)
    month_name = String(required=True)


class OrderLineRow(Open):
    order_number = Integer(required=True)
    order_line_number = Integer(required=True)
    order_date = String(required=True, metadata={"format": "date"})
    sales = Float(required=True)
    quantity_ordered = Integer(required=True)
    price_each = Float(required=True)
    status = String(required=True)
    product_line = String(required=True)
    product_code = String(required=True)
    customer_name = String(required=True)
    country = String(required=True)
    deal_size = String(required=True)


class OrderPath(Schema):
    ordernumber = Integer(
        required=True,
        validate=Range(min=1, max=2**63 - 1),
        metadata={"description": "The order's ORDERNUMBER, a positive whole number, e.g. 10107."},
    )


class OrderTotals(Open):
    sales = money(description="The sum of the order's line sales (whatever its status).")
    line_count = Integer(required=True)
    units = Integer(required=True)


class OrderDetail(Open):
    order_number = Integer(required=True)
    status = String(required=True)
    order_date = String(required=True, metadata={"format": "date"})
    customer_name = String(required=True)
    country = String(required=True)
    territory = String(required=True, allow_none=True)
    deal_sizes = List(String(), required=True)
    in_revenue = Boolean(
        required=True, metadata={"description": "false for a Cancelled order: revenue leaves it out."}
    )
    totals = Nested(OrderTotals, required=True)
    lines = List(Nested(OrderLineRow), required=True)


class Change(Open):
    current = Float(required=True, allow_none=True)
    previous = Float(required=True, allow_none=True)
    change = Float(required=True, allow_none=True)
    change_pct = Float(required=True, allow_none=True)


class Period(Open):
    start = String(required=True, metadata={"format": "date"})
    end = String(required=True, metadata={"format": "date"})
    label = String(required=True)


class Comparison(Open):
    label = String(required=True)
    current_period = Nested(Period, required=True)
    comparison_period = Nested(Period, required=True)
    metrics = Dict(keys=String(), values=Nested(Change), required=True)


class Growth(Open):
    month_over_month = Nested(Comparison, required=True, allow_none=True)
    year_over_year = Nested(Comparison, required=True, allow_none=True)


class Headline(Open):
    rule = String(required=True)
    label = String(required=True)
    current_period = Nested(Period, required=True)
    comparison_period = Nested(Period, required=True, allow_none=True)
    note = String(required=True, allow_none=True)
    in_view_period = Nested(Period, required=True)
    metrics = Dict(keys=String(), values=Nested(Change), required=True)


class DateRange(Open):
    start = String(required=True, allow_none=True, metadata={"format": "date"})
    end = String(required=True, allow_none=True, metadata={"format": "date"})


class Kpis(Metrics):
    country_count = Integer(required=True)
    product_line_count = Integer(required=True)
    average_unit_price = money(nullable=True)
    date_range = Nested(DateRange, required=True)
    headline = Nested(Headline, required=True, allow_none=True)
    growth = Nested(Growth, required=True)
    status_distribution = List(Nested(StatusRow), required=True)


# GET /api/filters: the values of every declared filter (under its options key), and what the defaults mean; a
# filter with too many values to list (customers) gives their count instead (its finder endpoint finds them).
FilterOptions: type[Open] = type(
    "FilterOptions",
    (Open,),
    {
        **{f.options_key: List(String(), required=True) for f in FILTERS if f.options_key and not f.finder},
        **{
            f.count_key: Integer(required=True, metadata={"description": f"How many; {f.finder}"})
            for f in FILTERS
            if f.options_key and f.finder
        },
        "default_statuses": List(String(), required=True),
        "date_range": Nested(DateRange, required=True),
        "periods": List(String(), required=True),
    },
)


class Definitions(Open):
    metrics = Dict(
        keys=String(), values=String(), required=True, metadata={"description": "Metric -> definition."}
    )
    rfm = Dict(
        keys=String(), values=String(), required=True, metadata={"description": "RFM column -> definition."}
    )


class VersionInfo(Open):
    data_version = String(required=True, allow_none=True)
    data_loaded = Boolean(required=True)


class DeadLetterRecord(Open):
    sequence = Integer(required=True, metadata={"description": "The message's JetStream stream sequence."})
    received_at = String(required=True, metadata={"format": "date-time"})
    reason = String(required=True)
    payload = String(
        required=True, metadata={"description": "The message as received (cut at 2,000 characters)."}
    )


class StreamStatus(Open):
    stream = String(required=True)
    subject = String(required=True)
    url = String(required=True)
    active = Boolean(required=True, metadata={"description": "A consumer's heartbeat is recent."})
    connected = Boolean(required=True, metadata={"description": "The consumer reaches NATS."})
    started_at = String(required=True, allow_none=True, metadata={"format": "date-time"})
    heartbeat_at = String(required=True, allow_none=True, metadata={"format": "date-time"})
    last_batch_at = String(required=True, allow_none=True, metadata={"format": "date-time"})
    last_order_at = String(required=True, allow_none=True, metadata={"format": "date-time"})
    lines_appended = Integer(required=True)
    duplicates_skipped = Integer(required=True)
    dead_letters = Integer(required=True)
    batches = Integer(required=True)
    last_error = String(required=True, allow_none=True)
    poll_seconds = Integer(required=True)
    recent_dead_letters = List(Nested(DeadLetterRecord), required=True)


class Health(Open):
    status = String(required=True)
    database = String(required=True)
    data_loaded = Boolean(required=True)
    data_version = String(required=True, allow_none=True)


class Link(Open):
    path = String(required=True)
    methods = List(String(), required=True)
    description = String(required=True)


class Index(Open):
    name = String(required=True)
    version = String(required=True)
    data_version = String(required=True, allow_none=True)
    docs = String(required=True)
    openapi = String(required=True)
    endpoints = List(Nested(Link), required=True)


class RefreshResult(Open):
    data_version = String(required=True)
    previous_data_version = String(required=True, allow_none=True)
    source = String(required=True)
    rows_loaded = Integer(required=True)
    report = Dict(required=True)


class RestoreResult(Open):
    data_version = String(
        required=True, metadata={"description": "The new data version (the restored data)."}
    )
    restored_from = String(required=True, metadata={"description": "The data version whose lines came back."})
    previous_data_version = String(required=True, allow_none=True)
    rows_loaded = Integer(required=True)


class PageMeta(Meta):
    total = Integer(required=True)
    limit = Integer(required=True)
    offset = Integer(required=True)
    returned = Integer(required=True)
    next_offset = Integer(required=True, allow_none=True)


class CustomerMatch(Open):
    customer_name = String(required=True)


class SearchMeta(Meta):
    q = String(required=True)
    total = Integer(required=True, metadata={"description": "Names matching in all."})
    limit = Integer(required=True)
    returned = Integer(required=True)


class SimpleMeta(Open):
    generated_at = String(required=True, metadata={"format": "date-time"})


# ---- analytics, exports and uploads ----


class DataQualityQuery(QuerySchema):
    limit = Integer(
        load_default=20,
        validate=Range(min=1, max=200),
        metadata={"description": "How many loads of the history to list, newest first (1-200, default 20)."},
    )


class ConfirmBody(Schema):
    class Meta:
        unknown = EXCLUDE

    mode = String(
        required=True,
        validate=OneOf(MODES),
        metadata={
            "description": "replace: the file becomes the data; append: its lines are added to the stored ones "
            "(refused with 409 if any (ORDERNUMBER, ORDERLINENUMBER) is already stored)."
        },
    )


class DataQuality(Open):
    data_version = String(required=True)
    source = String(required=True)
    loaded_at = String(required=True)
    row_count = Integer(required=True)
    report = Dict(required=True)
    history = List(Dict(), required=True)


class UploadPreview(Open):
    upload_id = String(required=True)
    expires_at = String(required=True, metadata={"format": "date-time"})
    source = String(required=True)
    rows = Integer(required=True)
    report = Dict(required=True)
    preview_columns = List(String(), required=True)
    preview = List(Dict(), required=True)
    append_check = Dict(required=True)
    confirm = String(required=True)


class UploadLoaded(Open):
    data_version = String(required=True)
    previous_data_version = String(required=True, allow_none=True)
    mode = String(required=True)
    source = String(required=True)
    rows_loaded = Integer(required=True)
    row_count = Integer(required=True)
    report = Dict(required=True)


class ForecastRow(Open):
    period = String(required=True, metadata={"example": "2005-06"})
    period_start = String(required=True, metadata={"format": "date"})
    kind = String(required=True, metadata={"description": "actual or forecast"})
    revenue = Float(required=True)
    lower_80 = Float(allow_none=True)
    upper_80 = Float(allow_none=True)
    lower_95 = Float(allow_none=True)
    upper_95 = Float(allow_none=True)


class ForecastReliability(Open):
    verdict = String(
        required=True,
        validate=OneOf(VERDICTS),
        metadata={
            "description": "reliable, unreliable (backtest error above the threshold) or "
            "insufficient_history (too little history, or too few backtest months with revenue, to judge it)"
        },
    )
    reason = String(required=True, metadata={"description": "One sentence for people saying why."})
    threshold = Float(
        required=True,
        metadata={
            "description": "Largest backtest weighted error (WAPE) a reliable forecast may have (a ratio)."
        },
    )
    min_history_months = Integer(required=True)
    min_backtest_months_with_revenue = Integer(required=True)


class ForecastMeta(Meta):
    model = String(required=True)
    model_label = String(required=True)
    model_reason = String(required=True)
    horizon = Integer(required=True)
    history_months = Integer(required=True)
    mape = Float(required=True, allow_none=True)
    wape = Float(required=True, allow_none=True)
    backtest = Dict(required=True)
    reliability = Nested(ForecastReliability, required=True)
    intervals = List(Integer(), required=True)
    notes = List(String(), required=True)


class ComparisonsData(Open):
    current_period = Nested(Period, required=True, allow_none=True)
    previous_period = Nested(Comparison, required=True, allow_none=True)
    year_earlier = Nested(Comparison, required=True, allow_none=True)
    notes = Dict(keys=String(), values=String(), required=True)
    headline = Nested(Headline, required=True, allow_none=True)
    growth = Nested(Growth, required=True)


class RfmCustomer(Open):
    customer_name = String(required=True)
    country = String(required=True, allow_none=True)
    first_order_date = String(required=True, metadata={"format": "date"})
    last_order_date = String(required=True, metadata={"format": "date"})
    recency_days = Integer(required=True)
    frequency = Integer(required=True)
    monetary = Float(required=True)
    r_score = Integer(required=True)
    f_score = Integer(required=True)
    m_score = Integer(required=True)
    rfm = String(required=True, metadata={"example": "545"})
    segment = String(required=True)


class RfmMeta(PageMeta):
    as_of = String(required=True, allow_none=True, metadata={"format": "date"})
    segments = List(Dict(), required=True)
    segment_definitions = Dict(keys=String(), values=String(), required=True)


class AcquisitionRow(Open):
    period = String(required=True, metadata={"example": "2004-11"})
    period_start = String(required=True, metadata={"format": "date"})
    customer_count = Integer(required=True)
    new_customers = Integer(required=True, metadata={"description": "First order ever (under the filters)."})
    returning_customers = Integer(required=True)
    new_customer_revenue = Float(required=True)
    returning_customer_revenue = Float(required=True)
    new_customer_share = Float(required=True, allow_none=True)


class AcquisitionMeta(Meta):
    grain = String(required=True)
    new_customers = Dict(required=True, metadata={"description": "The headline comparison (card)."})


class CohortCell(Open):
    cohort = String(required=True, metadata={"example": "2003-01"})
    periods_since_first = Integer(required=True)
    period = String(required=True)
    active_customers = Integer(required=True)
    retention = Float(required=True, allow_none=True)
    revenue = Float(required=True)
    partial_period = Boolean(required=True, data_key="partial")  # "partial" is a Schema attribute


class CohortMeta(Meta):
    grain = String(required=True)
    cohorts = List(Dict(), required=True)
    small_cohort = Integer(required=True)


class PenetrationRow(Open):
    customer_count = Integer(required=True)
    revenue = Float(required=True)
    revenue_per_customer = Float(required=True, allow_none=True)
    revenue_share = Float(required=True, allow_none=True)
    product_lines_bought = Integer(required=True)
    product_line_share = Float(required=True, allow_none=True)
    current_revenue = Float(required=True, allow_none=True)
    previous_revenue = Float(required=True, allow_none=True)
    revenue_change_pct = Float(required=True, allow_none=True)


class PenetrationMeta(Meta):
    dimension = String(required=True)
    product_lines_in_view = Integer(required=True)
    periods = Dict(required=True, allow_none=True)


def _export_field(name: str, params: list[Param]) -> Integer | String:
    views = ", ".join(
        f"view={v.name}: {p.description}" for v in VIEWS.values() for p in v.export_params if p.name == name
    )
    if all(p.is_int for p in params):
        low = min(p.low for p in params if p.low is not None)
        high = max(p.high for p in params if p.high is not None)
        return Integer(validate=Range(min=low, max=high), metadata={"description": views})
    return String(metadata={"description": views})


EXPORT_FIELDS = {
    "view": String(
        required=True,
        validate=OneOf(tuple(VIEWS)),
        metadata={"description": "What to export: " + ", ".join(VIEWS) + "."},
    ),
    "format": String(
        load_default="xlsx",
        validate=OneOf(tuple(EXPORT_FORMATS)),
        metadata={
            "description": "csv, xlsx (default; data + About sheet), png (the view's chart) or pdf (the report, "
            "with the view's chart and table when the report does not already hold it)."
        },
    ),
    # every parameter a view takes, checked per view (a parameter the view does not take is refused)
    **{name: _export_field(name, params) for name, params in export_parameters().items()},
}
ExportQuery: type[QuerySchema] = type("ExportQuery", (FilterQuery,), EXPORT_FIELDS)


class VersionsQuery(QuerySchema):
    limit = Integer(
        load_default=10,
        validate=Range(min=1, max=100),
        metadata={"description": "Number of loads, newest first, 1-100 (default 10)."},
    )


class LoadRecord(Open):
    data_version = String(required=True)
    source = String(required=True, metadata={"description": "File name the data came from (no server path)."})
    source_sha256 = String(required=True)
    loaded_at = String(required=True, metadata={"format": "date-time", "description": "UTC."})
    row_count = Integer(required=True)
    report = Dict(required=True, metadata={"description": "The ingest quality report of this load."})
    restorable = Boolean(
        required=True,
        metadata={
            "description": "Its order lines are kept (SALESDASH_KEEP_VERSIONS): POST .../restore works."
        },
    )


class VersionsResponse(Schema):
    data = List(Nested(LoadRecord), required=True)
    meta = Nested(SimpleMeta, required=True)


@functools.cache
def envelope(data_schema: type[Schema], *, many: bool = False, meta: type[Schema] = Meta) -> type[Schema]:
    """The success envelope {data, meta} around ``data_schema`` (a named schema for the OpenAPI document)."""
    suffixes: dict[type[Schema], str] = {PageMeta: "Page", SimpleMeta: ""}
    suffix = suffixes.get(meta, "Data")
    name = data_schema.__name__ + ("List" if many else "") + suffix + "Response"
    data_field = List(Nested(data_schema), required=True) if many else Nested(data_schema, required=True)
    return type(name, (Open,), {"data": data_field, "meta": Nested(meta, required=True)})
