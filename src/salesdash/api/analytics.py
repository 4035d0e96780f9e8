"""Analytics endpoints: forecast, period comparisons, RFM segments, exports, data quality, and the two-step
upload (validate + preview, then confirm replace/append).

Thin handlers like the rest of the API: they validate parameters, call the library (``salesdash.forecast``,
``salesdash.metrics``, ``salesdash.export``, ``salesdash.uploads``) and answer through the same envelope,
cache, auth and error helpers (:mod:`salesdash.api.respond`, :mod:`salesdash.api.auth`).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any, cast

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Float, Integer, List, Nested, String
from apiflask.validators import OneOf, Range
from flask import Response, current_app
from marshmallow import EXCLUDE
from sqlalchemy import Connection
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from salesdash.api import schemas as s
from salesdash.api.auth import requires
from salesdash.api.respond import Result, data_response, records, request_filters, simple_response
from salesdash.api.state import NO_DATA_MESSAGE, state
from salesdash.errors import NoData, RefreshInProgress
from salesdash.export import FORMATS, VIEWS, ExportContext, check_format, prepare, render, view_params
from salesdash.export.views import BREAKDOWN_METRICS, KPI_ORDER, PERIODS
from salesdash.forecast import MAX_HORIZON, forecast
from salesdash.ingest import prepare as prepare_file
from salesdash.metrics import Filters, comparisons, definitions, growth
from salesdash.metrics.rfm import DEFINITIONS as RFM_DEFINITIONS
from salesdash.metrics.rfm import SEGMENTS, rfm, summarise
from salesdash.store import current_version_in, current_version_label_in, snapshot, version_history
from salesdash.store.append import find_conflicts
from salesdash.uploads import MODES, TTL, UploadStore, check_mode, confirm, preview

log = logging.getLogger(__name__)

bp = APIBlueprint("analytics", __name__, url_prefix="/api", tag="Analytics")

READ_ERRORS = [400, 401, 403, 503]
UPLOADS = "salesdash.uploads"
VIEW_PARAMETERS = ("period", "level", "metric", "limit", "horizon")


@bp.record_once
def _setup(setup_state: Any) -> None:
    """One store of pending uploads per app (a private temporary directory)."""
    setup_state.app.extensions[UPLOADS] = UploadStore()


def uploads() -> UploadStore:
    store: UploadStore = current_app.extensions[UPLOADS]
    return store


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---- schemas ------------------------------------------------------------------------------------------------


class ForecastQuery(s.TabularQuery):
    horizon = Integer(
        load_default=3,
        validate=Range(min=1, max=MAX_HORIZON),
        metadata={"description": f"Months to forecast, 1-{MAX_HORIZON} (default 3)."},
    )


class RfmQuery(s.TabularQuery):
    segment = String(
        validate=OneOf(tuple(SEGMENTS)),
        metadata={"description": "Only the customers of this segment: " + ", ".join(SEGMENTS) + "."},
    )


class DataQualityQuery(s.QuerySchema):
    limit = Integer(
        load_default=20,
        validate=Range(min=1, max=200),
        metadata={"description": "How many loads of the history to list, newest first (1-200, default 20)."},
    )


class ExportQuery(s.FilterQuery):
    view = String(
        required=True,
        validate=OneOf(tuple(VIEWS)),
        metadata={"description": "What to export: " + ", ".join(VIEWS) + "."},
    )
    format = String(
        load_default="xlsx",
        validate=OneOf(tuple(FORMATS)),
        metadata={
            "description": "csv, xlsx (default; data + About sheet), png (the view's chart) or pdf (the report, "
            "with the view's chart and table when the report does not already hold it)."
        },
    )
    period = String(
        validate=OneOf(tuple(PERIODS)),
        metadata={"description": "view=sales-over-time: " + ", ".join(PERIODS) + " (default monthly)."},
    )
    level = String(
        validate=OneOf(("product_line", "product")),
        metadata={"description": "view=product-performance: product_line (default) or product."},
    )
    metric = String(
        validate=OneOf(BREAKDOWN_METRICS), metadata={"description": "view=heatmap: the metric in the cells."}
    )
    limit = Integer(
        validate=Range(min=1, max=100), metadata={"description": "view=top-customers: 1-100 (default 10)."}
    )
    horizon = Integer(
        validate=Range(min=1, max=MAX_HORIZON),
        metadata={"description": "view=forecast: months, 1-12 (default 3)."},
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


class ForecastRow(s.Open):
    period = String(required=True, metadata={"example": "2005-06"})
    period_start = String(required=True, metadata={"format": "date"})
    kind = String(required=True, metadata={"description": "actual or forecast"})
    revenue = Float(required=True)
    lower_80 = Float(allow_none=True)
    upper_80 = Float(allow_none=True)
    lower_95 = Float(allow_none=True)
    upper_95 = Float(allow_none=True)


class ForecastMeta(s.Meta):
    model = String(required=True)
    model_label = String(required=True)
    model_reason = String(required=True)
    horizon = Integer(required=True)
    history_months = Integer(required=True)
    mape = Float(required=True, allow_none=True)
    wape = Float(required=True, allow_none=True)
    backtest = Dict(required=True)
    intervals = List(Integer(), required=True)
    notes = List(String(), required=True)


class ComparisonsData(s.Open):
    current_period = Nested(s.Period, required=True, allow_none=True)
    previous_period = Nested(s.Comparison, required=True, allow_none=True)
    year_earlier = Nested(s.Comparison, required=True, allow_none=True)
    notes = Dict(keys=String(), values=String(), required=True)
    growth = Nested(s.Growth, required=True)


class RfmCustomer(s.Open):
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


class RfmMeta(s.Meta):
    as_of = String(required=True, allow_none=True, metadata={"format": "date"})
    segments = List(Dict(), required=True)
    segment_definitions = Dict(keys=String(), values=String(), required=True)


class DataQuality(s.Open):
    data_version = String(required=True)
    source = String(required=True)
    loaded_at = String(required=True)
    row_count = Integer(required=True)
    report = Dict(required=True)
    history = List(Dict(), required=True)


class UploadPreview(s.Open):
    upload_id = String(required=True)
    expires_at = String(required=True, metadata={"format": "date-time"})
    source = String(required=True)
    rows = Integer(required=True)
    report = Dict(required=True)
    preview_columns = List(String(), required=True)
    preview = List(Dict(), required=True)
    append_check = Dict(required=True)
    confirm = String(required=True)


class UploadLoaded(s.Open):
    data_version = String(required=True)
    previous_data_version = String(required=True, allow_none=True)
    mode = String(required=True)
    source = String(required=True)
    rows_loaded = Integer(required=True)
    row_count = Integer(required=True)
    report = Dict(required=True)


# ---- read endpoints -------------------------------------------------------------------------------------------


@bp.get("/forecast")
@bp.input(ForecastQuery, location="query", arg_name="query")
@bp.output(
    s.envelope(ForecastRow, many=True, meta=ForecastMeta),
    description="Monthly revenue: the history (kind=actual) then the forecast with 80% and 95% intervals.",
)
@bp.doc(summary="Revenue forecast", responses=[*READ_ERRORS, 422])
def get_forecast(query: dict[str, Any]) -> Response:
    """Monthly revenue for the filters, forecast `horizon` (1-12) months past the last complete month, with 80%
    and 95% prediction intervals; `meta` names the model (Holt-Winters with 24+ months of history, else Holt),
    why, and its backtest error (MAPE and weighted error over the last 6 known months). 422 when the view has
    fewer than 12 complete months."""
    horizon = query["horizon"]

    def compute(conn: Connection, f: Filters) -> Result:
        result = forecast(conn, f, horizon)
        rows = result.records()
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
            "intervals": list(result.intervals),
            "notes": result.notes,
        }
        columns = [
            "period",
            "period_start",
            "kind",
            "revenue",
            "lower_80",
            "upper_80",
            "lower_95",
            "upper_95",
        ]
        return Result([{c: r.get(c) for c in columns} for r in rows], meta=meta, columns=columns)

    return data_response(
        "forecast",
        compute,
        params={"horizon": horizon},
        metrics=["revenue"],
        fmt=query["format"],
        filename=f"forecast-{horizon}m",
    )


@bp.get("/comparisons")
@bp.input(s.FilterQuery, location="query", arg_name="query")
@bp.output(s.envelope(ComparisonsData), description="Every KPI vs the previous period and vs a year earlier.")
@bp.doc(summary="Period comparisons", responses=READ_ERRORS)
def get_comparisons(query: dict[str, Any]) -> Response:
    """The filtered date range (clipped to the data) vs the previous period of the same length and vs the same
    dates a year earlier, for every KPI, aligned like-for-like; null (with `notes` saying why) when the other
    period is not covered by the data or overlaps. `growth` holds the headline month-over-month and
    year-over-year (like-for-like) comparisons."""

    def compute(conn: Connection, f: Filters) -> Result:
        return Result(comparisons(conn, f) | {"growth": growth(conn, f)})

    return data_response("comparisons", compute, metrics=list(KPI_ORDER))


@bp.get("/rfm")
@bp.input(RfmQuery, location="query", arg_name="query")
@bp.output(s.envelope(RfmCustomer, many=True, meta=RfmMeta), description="One row per customer, scored.")
@bp.doc(summary="Customer RFM segments", responses=READ_ERRORS)
def get_rfm(query: dict[str, Any]) -> Response:
    """RFM per customer in view: recency (days from the last order to the end of the data), frequency
    (order_count) and monetary value (revenue), each scored 1-5 by quintile (ties share a score), and a named
    segment. `meta.segments` summarises the segments; `segment` keeps one segment's customers."""
    segment = query.get("segment")

    def compute(conn: Connection, f: Filters) -> Result:
        scored, as_of = rfm(conn, f)
        summary = summarise(scored)
        if segment:
            scored = scored[scored["segment"] == segment]
        meta = {
            "as_of": as_of,
            "segments": records(summary),
            "segment_definitions": dict(SEGMENTS),
            "definitions": definitions(["revenue", "order_count"]) | RFM_DEFINITIONS,
        }
        return Result(records(scored), meta=meta, columns=[str(c) for c in scored.columns])

    return data_response(
        "rfm", compute, params={"segment": segment}, fmt=query["format"], filename="rfm-segments"
    )


@bp.get("/data-quality")
@bp.input(DataQualityQuery, location="query", arg_name="query")
@bp.output(s.envelope(DataQuality), description="The current load's quality report and the load history.")
@bp.doc(summary="Data quality and load history", responses=READ_ERRORS)
def get_data_quality(query: dict[str, Any]) -> Response:
    """The quality report of the load behind the current data version (rows read, loaded and rejected and why,
    encoding, empty cells per column, anomalies such as the PRICEEACH cap and partial years, country codes) and
    the history of loads, newest first."""
    limit = query["limit"]
    st = state()

    def compute(conn: Connection, f: Filters) -> Result:
        current = current_version_in(conn)
        if current is None:
            raise NoData(NO_DATA_MESSAGE)
        history = []
        for v in version_history(st.engine, limit=limit):
            report = v.report or {}
            history.append(
                _public(v.to_dict())
                | {
                    "rows_read": report.get("rows_read"),
                    "rows_loaded": report.get("rows_loaded"),
                    "rows_rejected": report.get("rows_rejected"),
                    "encoding": report.get("encoding"),
                    "load_mode": report.get("load_mode", "replace"),
                    "anomalies": len(report.get("anomalies", [])),
                }
            )
        return Result(_public(current.to_dict()) | {"report": current.report, "history": history})

    return data_response("data-quality", compute, params={"limit": limit}, use_filters=False)


def _public(version: dict[str, Any]) -> dict[str, Any]:
    """A data version for the outside: named ``data_version`` as everywhere in the API, and the source's file
    name, never a server path."""
    out = dict(version)
    source = str(out.get("source", ""))
    prefix = "upload:" if source.startswith("upload:") else ""
    out["source"] = prefix + PurePath(source.removeprefix(prefix)).name
    return {"data_version": out.pop("version", None), **out}


def _export_content() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "description": "The file (Content-Disposition: attachment).",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            FORMATS["xlsx"][0]: binary,
            "image/png": binary,
            "application/pdf": binary,
        },
    }


@bp.get("/export")
@bp.input(ExportQuery, location="query", arg_name="query")
@bp.doc(
    summary="Export a view (CSV, Excel, PNG, PDF)",
    responses=cast(
        Any,
        {  # a 200 with several file types, and the error descriptions
            200: _export_content(),
            400: "Bad parameter (or one the view does not take)",
            401: "No or unknown token (when SALESDASH_REQUIRE_AUTH is on)",
            403: "Forbidden",
            422: "Too little data for the view (forecast)",
            503: "No data loaded, database unavailable, or no browser for PNG/PDF",
        },
    ),
)
def get_export(query: dict[str, Any]) -> Response:
    """Any view with the same filters as its endpoint, as a file: `csv`, `xlsx` (the data sheet, extra sheets,
    and an About sheet with the filters, data version and metric definitions), `png` (the view's chart) or
    `pdf` (the one-click report: KPIs, main charts, top tables, forecast, filters and data version). The numbers
    are those of the view's endpoint for the same filters. Cells starting with = + - @ are neutralised."""
    view, fmt = query["view"], query["format"]
    given = {name: (str(query[name]) if query.get(name) is not None else None) for name in VIEW_PARAMETERS}
    params = view_params(view, given)
    check_format(fmt, view)
    st = state()
    version = st.require_version()
    filters = request_filters(st.filter_options(version))
    with snapshot(st.engine) as conn:
        seen = current_version_label_in(conn)
        if seen is None:
            raise NoData(NO_DATA_MESSAGE)
        prepared = prepare(conn, filters, view, params, fmt, ExportContext(seen, _now(), filters))
    file = render(prepared)  # after the snapshot: a chart render must not hold a read transaction open
    response = Response(file.content, content_type=file.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["X-Data-Version"] = seen
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- uploads (admin) -------------------------------------------------------------------------------------------


@bp.post("/uploads")
@bp.input(s.RefreshQuery, location="query", arg_name="query")
@bp.input(s.RefreshFiles, location="files", arg_name="files")
@bp.output(
    s.envelope(UploadPreview, meta=s.SimpleMeta),
    status_code=201,
    description="The file passed validation: its quality report, a preview, and the id to confirm it with.",
)
@bp.doc(
    summary="Upload a CSV to check before loading it (admin)",
    responses={
        400: "Bad parameter or form",
        401: "No or unknown token",
        403: "The token is not an admin token",
        413: "Upload larger than SALESDASH_MAX_UPLOAD_MB",
        422: "The CSV failed validation (every problem listed)",
        503: "Database unavailable",
    },
    security="BearerAuth",
)
@requires("admin")
def post_upload(query: dict[str, Any], files: dict[str, Any]) -> Response:
    """Validate an uploaded CSV (multipart field `file`) without loading it: returns the quality report, the
    first 20 cleaned lines, how many of its lines are already stored (an append would be refused), and an
    `upload_id`. Nothing changes until POST /api/uploads/<upload_id>/confirm. Uploads expire after 30
    minutes. Needs an admin token."""
    upload: FileStorage = files["file"]
    source = upload.filename or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="salesdash-upload-") as tmp:
        path = Path(tmp) / (secure_filename(source) or "upload.csv")
        upload.save(path)
        prepared = prepare_file(path, on_error=query["on_error"], source_name=source)
    prepared = dataclasses.replace(prepared, source=f"upload:{source}")
    duplicates, contradictions = find_conflicts(state().engine, prepared.frame)
    stored = uploads().put(prepared)
    columns, rows = preview(prepared.frame)
    data = {
        "upload_id": stored.id,
        "expires_at": stored.expires_at,
        "source": source,
        "rows": stored.rows,
        "report": prepared.report,
        "preview_columns": columns,
        "preview": rows,
        "append_check": {
            "duplicate_lines": len(duplicates),
            "contradicting_lines": len(contradictions),
            "examples": (duplicates + contradictions)[:20],
            "can_append": not duplicates and not contradictions,
        },
        "confirm": f"/api/uploads/{stored.id}/confirm",
    }
    return simple_response(data, status=201)


@bp.post("/uploads/<upload_id>/confirm")
@bp.input(ConfirmBody, location="json", arg_name="body")
@bp.output(s.envelope(UploadLoaded, meta=s.SimpleMeta), description="The new data version.")
@bp.doc(
    summary="Load a checked upload: replace or append (admin)",
    responses={
        400: "Bad body (mode must be replace or append)",
        401: "No or unknown token",
        403: "The token is not an admin token",
        404: "Unknown, expired or already confirmed upload",
        409: "Another load is running, or (append) lines already stored",
        422: "(append) new lines contradict their stored orders",
        503: "Database unavailable",
    },
    security="BearerAuth",
)
@requires("admin")
def post_upload_confirm(upload_id: str, body: dict[str, Any]) -> Response:
    """Load the upload `upload_id` atomically: `{"mode": "replace"}` makes it the data, `{"mode": "append"}`
    adds its lines to the stored ones (409 listing the order lines that are already stored; nothing changes).
    Returns the new data version. Needs an admin token."""
    mode = check_mode(body["mode"])
    st = state()
    store = uploads()
    upload, prepared = store.get(upload_id)
    if not st.refresh_lock.acquire(blocking=False):
        raise RefreshInProgress("A data load is already running; try again when it has finished.")
    try:
        result = confirm(st.engine, prepared, mode, source=f"upload:{upload.source}")
    finally:
        st.refresh_lock.release()
    store.discard(upload_id)
    log.info(
        "upload %s loaded (%s): %s -> %s",
        upload.source,
        mode,
        result.previous_version,
        result.version.version,
    )
    return simple_response(
        {
            "data_version": result.version.version,
            "previous_data_version": result.previous_version,
            "mode": mode,
            "source": upload.source,
            "rows_loaded": result.rows_loaded,
            "row_count": result.version.row_count,
            "report": result.report,
        }
    )


__all__ = ["TTL", "bp"]
