"""The two-step upload (admin): POST /api/uploads validates a CSV and previews it without loading it; POST
/api/uploads/<upload_id>/confirm loads it (replace or append) atomically.

Thin handlers over :mod:`salesdash.ingest.uploads` (the pending uploads and the confirm step).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from salesdash.api import schemas as s
from salesdash.api.auth import requires
from salesdash.api.respond import simple_response
from salesdash.api.state import state
from salesdash.errors import RefreshInProgress
from salesdash.ingest import prepare as prepare_file
from salesdash.ingest.uploads import TTL, UploadStore, check_mode, confirm, preview
from salesdash.metrics.changes import replace_summary
from salesdash.store.append import find_conflicts

log = logging.getLogger(__name__)

bp = APIBlueprint("uploads", __name__, url_prefix="/api", tag="Data loads")

UPLOADS = "salesdash.uploads"


@bp.record_once
def _setup(setup_state: Any) -> None:
    """One store of pending uploads per app (a private temporary directory)."""
    setup_state.app.extensions[UPLOADS] = UploadStore()


def uploads() -> UploadStore:
    store: UploadStore = current_app.extensions[UPLOADS]
    return store


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
    first 20 cleaned lines, how many of its lines are already stored (an append would be refused), what a
    replace would change (`replace_check`: the figures now and after, and the orders, customers and months that
    would disappear), and an `upload_id`. Nothing changes until POST /api/uploads/<upload_id>/confirm. Uploads expire after 30
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
        "replace_check": replace_summary(state().engine, prepared.frame),
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
        result = confirm(
            st.engine,
            prepared,
            mode,
            source=f"upload:{upload.source}",
            keep_versions=st.settings.keep_versions,
        )
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
