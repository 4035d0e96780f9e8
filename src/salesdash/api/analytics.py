"""Analytics endpoints that are not views: exports of any view, data quality, and the two-step upload
(validate + preview, then confirm replace/append). (The views, forecast, comparisons and RFM included, are
generated from the view registry in :mod:`salesdash.api.routes`.)

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

from apiflask import APIBlueprint
from flask import Response, current_app
from sqlalchemy import Connection
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from salesdash.api import schemas as s
from salesdash.api.auth import requires
from salesdash.api.respond import Result, data_response, request_filters, simple_response
from salesdash.api.state import NO_DATA_MESSAGE, state
from salesdash.errors import NoData, RefreshInProgress
from salesdash.export import FORMATS, ExportContext, check_format, prepare, render, view_params
from salesdash.filters import Filters
from salesdash.ingest import prepare as prepare_file
from salesdash.store import current_version_in, current_version_label_in, snapshot, version_history
from salesdash.store.append import find_conflicts
from salesdash.uploads import TTL, UploadStore, check_mode, confirm, preview
from salesdash.views import export_parameters

log = logging.getLogger(__name__)

bp = APIBlueprint("analytics", __name__, url_prefix="/api", tag="Analytics")

READ_ERRORS = [400, 401, 403, 503]
UPLOADS = "salesdash.uploads"


@bp.record_once
def _setup(setup_state: Any) -> None:
    """One store of pending uploads per app (a private temporary directory)."""
    setup_state.app.extensions[UPLOADS] = UploadStore()


def uploads() -> UploadStore:
    store: UploadStore = current_app.extensions[UPLOADS]
    return store


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---- read endpoints -------------------------------------------------------------------------------------------


@bp.get("/data-quality")
@bp.input(s.DataQualityQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.DataQuality), description="The current load's quality report and the load history.")
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
@bp.input(s.ExportQuery, location="query", arg_name="query")
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
    given = {
        name: (str(query[name]) if query.get(name) is not None else None) for name in export_parameters()
    }
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
    s.envelope(s.UploadPreview, meta=s.SimpleMeta),
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
@bp.input(s.ConfirmBody, location="json", arg_name="body")
@bp.output(s.envelope(s.UploadLoaded, meta=s.SimpleMeta), description="The new data version.")
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
