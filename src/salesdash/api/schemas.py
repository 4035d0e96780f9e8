"""Request (query) and response schemas. They drive validation and the OpenAPI document.

Query schemas check the form of each parameter (types, ranges, choices); filter VALUES (a country that is not
in the data, say) are checked against the data by :mod:`salesdash.api.respond`. Unknown parameter names are
refused for every endpoint by :func:`salesdash.api.http.check_query`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Field, File, Float, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import EXCLUDE, INCLUDE

from salesdash.export import FORMATS as EXPORT_FORMATS
from salesdash.filters import FILTERS, DateBound, Filter
from salesdash.forecast import VERDICTS
from salesdash.ingest.uploads import MODES
from salesdash.metrics.rfm import DEFINITIONS as RFM_DEFINITIONS
from salesdash.views import VIEWS, Param, View, export_parameters
from salesdash.vocabulary import COLUMNS, KPI_ORDER

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


MAX_MATCHES = 50  # values a finder (GET /api/customers, /api/product-codes) gives at most


def search_query(noun: str) -> type[QuerySchema]:
    """The query of a finder: ``q`` (the text typed) and ``limit``."""
    fields = {
        "q": String(
            load_default="",
            validate=Length(max=200),
            metadata={"description": f"Text the {noun} start with or contain, any case (empty: all)."},
        ),
        "limit": Integer(
            load_default=20,
            validate=Range(min=1, max=MAX_MATCHES),
            metadata={"description": f"How many values, 1-{MAX_MATCHES} (default 20)."},
        ),
    }
    name = "".join(part.capitalize() for part in noun.split()) + "SearchQuery"
    schema: type[QuerySchema] = type(name, (QuerySchema,), fields)
    return schema


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


# ---- the row schemas of the views, made from their declared columns (View.columns) ----

FIELD_OF_UNIT: dict[str, type[Field]] = {
    "currency": Float,
    "ratio": Float,
    "count": Integer,
    "plain": Integer,
    "flag": Boolean,
    "date": String,
    "text": String,
}


def column_field(name: str, *, optional: bool = False, nullable: bool = False) -> Field:
    """The response field of one table column: its JSON type from its unit, null-able when the vocabulary (or
    the view) says so, required unless the view has it only for some parameter values, with its label as title
    and its definition (metric, RFM column) as description."""
    column = COLUMNS[name]  # a KeyError here: give the column its words in salesdash.vocabulary.COLUMNS
    metadata: dict[str, Any] = {"title": column.label}
    description = column.description or RFM_DEFINITIONS.get(name)
    if description:
        metadata["description"] = description
    if column.unit == "date":
        metadata["format"] = "date"
    return FIELD_OF_UNIT[column.unit](
        required=not optional,
        allow_none=column.nullable or nullable,
        metadata=metadata,
        # an attribute of Schema ("partial") cannot name a field: the attribute differs, the JSON key does not
        data_key=name if hasattr(Schema, name) else None,
    )


def row_schema(view: View) -> type[Schema]:
    """The schema of one row of ``view``'s data (the OpenAPI component ``view.schema``), made from its declared
    columns; a view without them names a hand-written schema of this module (kpis, comparisons: nested
    objects). Rows are open: a view may answer more keys (the heatmap's one per year)."""
    if not view.columns:
        found: type[Schema] = globals()[view.schema]
        return found
    return _row_schema(view.schema, view.columns, view.optional, view.nullable)


@functools.cache
def _row_schema(
    name: str, columns: tuple[str, ...], optional: tuple[str, ...], nullable: tuple[str, ...]
) -> type[Schema]:
    # views that declare the same rows (monthly and quarterly trends) share one schema
    made = {
        ("field_" + c if hasattr(Schema, c) else c): column_field(
            c, optional=c in optional, nullable=c in nullable
        )
        for c in columns
    }
    return type(name, (Open,), made)


class Meta(Open):
    data_version = String(required=True, metadata={"description": "The data version the numbers come from."})
    filters = Dict(required=True, metadata={"description": "The filters applied, normalised."})
    definitions = Dict(
        keys=String(),
        values=String(),
        metadata={"description": "Metric -> definition; only with `definitions=true`."},
    )
    generated_at = String(required=True, metadata={"format": "date-time"})


class OrderPath(Schema):
    ordernumber = Integer(
        required=True,
        validate=Range(min=1, max=2**63 - 1),
        metadata={"description": "The order's ORDERNUMBER, a positive whole number, e.g. 10107."},
    )


class OrderTotals(Open):
    sales = Float(
        required=True, metadata={"description": "The sum of the order's line sales (whatever its status)."}
    )
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
    lines = List(Nested(row_schema(VIEWS["orders"])), required=True)


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


# GET /api/kpis: every KPI (its field made like a row column's, from the vocabulary) and the nested objects.
Kpis: type[Open] = type(
    "Kpis",
    (Open,),
    {
        **{name: column_field(name) for name in KPI_ORDER},
        "date_range": Nested(DateRange, required=True),
        # with detail=full only (the default answer is the figures in view)
        "headline": Nested(Headline, allow_none=True, metadata={"description": "Only with `detail=full`."}),
        "growth": Nested(Growth, metadata={"description": "Only with `detail=full`."}),
        "status_distribution": List(
            Nested(row_schema(VIEWS["status-distribution"])),
            metadata={"description": "Only with `detail=full`."},
        ),
    },
)


# GET /api/filters: the values of every declared filter (under its options key), and what the defaults mean; a
# filter with too many values to list (customers, product codes) gives their count instead (its finder endpoint finds them).
FilterOptions: type[Open] = type(
    "FilterOptions",
    (Open,),
    {
        **{f.options_key: List(String(), required=True) for f in FILTERS if f.options_key and not f.finder},
        **{
            f.count_key: Integer(required=True, metadata={"description": f"How many; {f.finds}"})
            for f in FILTERS
            if f.options_key and f.finder
        },
        "default_statuses": List(String(), required=True),
        "date_range": Nested(DateRange, required=True),
        "periods": List(String(), required=True),
    },
)


class ViewParamInfo(Open):
    name = String(required=True)
    description = String(required=True)
    type = String(required=True, validate=OneOf(("integer", "string")))
    default = Raw(required=True, allow_none=True, metadata={"description": "null: optional, no default"})
    choices = List(String(), required=True, allow_none=True, metadata={"description": "a choice parameter"})
    minimum = Integer(required=True, allow_none=True)
    maximum = Integer(required=True, allow_none=True)
    export = Boolean(required=True, metadata={"description": "/api/export takes it (false: paging)"})


class ViewInfo(Open):
    name = String(required=True, metadata={"description": "The export's view= and the path's last part."})
    title = String(required=True)
    summary = String(required=True)
    path = String(required=True)
    tabular = Boolean(required=True, metadata={"description": "Answers ?format=csv."})
    chart = Boolean(required=True, metadata={"description": "Has a chart: /api/export?format=png draws it."})
    all_statuses = Boolean(required=True, metadata={"description": "No status filter = every status."})
    params = List(Nested(ViewParamInfo), required=True)
    export_params = List(String(), required=True)


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


def match_row(column: str) -> type[Open]:
    """One value a finder found, under its column name (``customer_name``, ``product_code``)."""
    name = "".join(part.capitalize() for part in column.split("_")) + "Match"
    row: type[Open] = type(name, (Open,), {column: String(required=True)})
    return row


class SearchMeta(Meta):
    q = String(required=True)
    total = Integer(required=True, metadata={"description": "Values matching in all."})
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
    replace_check = Dict(
        required=True,
        metadata={
            "description": "What replacing the data with the file changes: `current` and `upload` figures "
            "(line_count, revenue, order_count, customer_count, average_order_value, first_date, last_date; "
            "Cancelled orders excluded as everywhere; `current` null when nothing is stored) and `disappearing` "
            "orders, customers and months (count and examples)."
        },
    )
    confirm = String(required=True)


class UploadLoaded(Open):
    data_version = String(required=True)
    previous_data_version = String(required=True, allow_none=True)
    mode = String(required=True)
    source = String(required=True)
    rows_loaded = Integer(required=True)
    row_count = Integer(required=True)
    report = Dict(required=True)


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


class RfmMeta(PageMeta):
    as_of = String(required=True, allow_none=True, metadata={"format": "date"})
    segments = List(Dict(), required=True)
    segment_definitions = Dict(keys=String(), values=String(), required=True)


class AcquisitionMeta(Meta):
    grain = String(required=True)
    new_customers = Dict(required=True, metadata={"description": "The headline comparison (card)."})


class CohortMeta(Meta):
    grain = String(required=True)
    cohorts = List(Dict(), required=True)
    small_cohort = Integer(required=True)


class PenetrationMeta(Meta):
    dimension = String(required=True)
    product_lines_in_view = Integer(required=True)
    periods = Dict(required=True, allow_none=True)


class MoverRow(Open):
    rank = Integer(required=True)
    current_revenue = Float(required=True)
    previous_revenue = Float(required=True)
    revenue_change = Float(required=True)
    revenue_change_pct = Float(
        required=True, allow_none=True, metadata={"description": "null when previous_revenue is 0 (new)"}
    )
    movement = String(required=True, validate=OneOf(("new", "lost", "up", "down", "flat")))


class MoversMeta(Meta):
    dimension = String(required=True)
    limit = Integer(required=True)
    current_period = Nested(Period, required=True, allow_none=True)
    comparison_period = Nested(Period, required=True, allow_none=True)
    candidates = Integer(required=True, metadata={"description": "groups with revenue in either period"})
    note = String(required=True, allow_none=True, metadata={"description": "why there is no comparison"})


class ListPriceGapRow(Open):
    product_line = String(required=True)
    line_count = Integer(required=True)
    units = Integer(required=True)
    list_price_revenue = Float(required=True)
    revenue = Float(required=True)
    list_price_gap = Float(required=True)
    list_price_gap_pct = Float(required=True, allow_none=True)


class ListPriceGapMeta(Meta):
    level = String(required=True)
    total = Dict(required=True)
    lines_without_msrp = Integer(required=True)
    revenue_without_msrp = Float(required=True)
    rule = String(required=True)


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
