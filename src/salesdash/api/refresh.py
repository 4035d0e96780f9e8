"""POST /api/data-refresh: reload the data (configured source or an uploaded CSV), atomically; and
POST /api/data-versions/<version>/restore: make a kept data version current again.

The file is read, validated and cleaned without touching the database (``ingest.prepare``); only a file that
passes is loaded, in one transaction that also records the new data version (``ingest.load_prepared``).
A bad file gets 422 with every problem listed and the stored data stays exactly as it was. One refresh at a
time: a second request while one runs gets 409 at once (it does not wait).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apiflask import APIBlueprint
from flask import Response, request
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from salesdash.api import schemas as s
from salesdash.api.auth import requires
from salesdash.api.respond import simple_response
from salesdash.api.state import state
from salesdash.errors import InputFileError, InvalidParameter, RefreshInProgress
from salesdash.ingest import load_prepared, make_version, prepare
from salesdash.store.lock import write_lock
from salesdash.store.restore import restore_version

log = logging.getLogger(__name__)

bp = APIBlueprint(
    "admin",
    __name__,
    url_prefix="/api",
    tag={"name": "Administration", "description": "Data refresh (admin token)."},
)


@bp.post("/data-refresh")
@bp.input(s.RefreshQuery, location="query", arg_name="query")
# documented here, checked in the view: a request WITHOUT a body is valid too (it reloads the source)
@bp.input(s.RefreshFiles, location="files", arg_name="files", validation=False)
@bp.output(
    s.envelope(s.RefreshResult, meta=s.SimpleMeta), description="The new data version and its quality report."
)
@bp.doc(
    summary="Reload the data (admin)",
    responses={
        400: "Bad parameter or form",
        401: "No or unknown token",
        403: "The token is not an admin token",
        409: "Another refresh is running",
        413: "Upload larger than SALESDASH_MAX_UPLOAD_MB",
        422: "The CSV failed validation (every problem listed); nothing changed",
        503: "Database unavailable",
    },
    security="BearerAuth",
)
@requires("admin")
def data_refresh(query: dict[str, Any], files: dict[str, Any]) -> Response:
    """Re-run the ETL from the configured source, or from an uploaded CSV (multipart field `file`), atomically;
    returns the new data version and the quality report. Needs an admin token."""
    st = state()
    upload: FileStorage | None = request.files.get("file")
    has_body = bool(request.content_length) or "Transfer-Encoding" in request.headers
    if upload is None and (has_body or request.mimetype == "multipart/form-data"):
        raise InvalidParameter(
            "Send the CSV as multipart/form-data in the field `file`, or send no body to reload the "
            "configured source.",
            details=[{"parameter": "file", "message": "no file part in the request body"}],
        )
    if not st.refresh_lock.acquire(blocking=False):
        raise RefreshInProgress("A data refresh is already running; try again when it has finished.")
    try:
        previous = st.version()
        # the database's write lock from the start: a concurrent CLI ingest or another server gets 409 at once
        with (
            write_lock(st.engine, "API data refresh"),
            tempfile.TemporaryDirectory(prefix="salesdash-upload-") as tmp,
        ):
            if upload is not None:
                name = secure_filename(upload.filename or "") or "upload.csv"
                path = Path(tmp) / name
                upload.save(path)
                source_name = upload.filename or name
            else:
                path = st.settings.source_path
                source_name = path.name
                if not path.is_file():
                    raise InputFileError(
                        f"The configured source {path} does not exist; set SALESDASH_SOURCE_PATH or upload "
                        "a file in the multipart field `file`.",
                        details=[{"setting": "SALESDASH_SOURCE_PATH", "message": "file not found"}],
                    )
            prepared = prepare(path, on_error=query["on_error"], source_name=source_name)
            if upload is not None:  # record where the data came from, not the temporary file
                prepared = dataclasses.replace(prepared, source=f"upload:{source_name}")
            result = load_prepared(st.engine, prepared, keep_versions=st.settings.keep_versions)
        log.info(
            "data refreshed: %s -> %s (%s rows from %s)",
            previous,
            result.version.version,
            result.version.row_count,
            source_name,
        )
        return simple_response(
            {
                "data_version": result.version.version,
                "previous_data_version": previous,
                "source": source_name,
                "rows_loaded": result.version.row_count,
                "report": result.report,
            }
        )
    finally:
        st.refresh_lock.release()


@bp.post("/data-versions/<version>/restore")
@bp.output(
    s.envelope(s.RestoreResult, meta=s.SimpleMeta),
    description="The new data version holding the restored data.",
)
@bp.doc(
    summary="Restore a kept data version (admin)",
    responses={
        401: "No or unknown token",
        403: "The token is not an admin token",
        404: "Unknown data version, or its lines are no longer kept (SALESDASH_KEEP_VERSIONS)",
        409: "A load is running",
        503: "Database unavailable",
    },
    security="BearerAuth",
)
@requires("admin")
def data_version_restore(version: str) -> Response:
    """Make the data of a kept data version current again, atomically, as a new data version whose source is
    `restore:<version>` (the history keeps every load). Needs an admin token."""
    st = state()
    if not st.refresh_lock.acquire(blocking=False):
        raise RefreshInProgress("A data load is running; try the restore again when it has finished.")
    try:
        previous = st.version()
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        restored = restore_version(
            st.engine,
            version[:64],
            label=make_version,
            loaded_at=loaded_at,
            keep=st.settings.keep_versions,
        )
        log.info("data restored: %s -> %s (lines of %s)", previous, restored.version, version[:64])
        return simple_response(
            {
                "data_version": restored.version,
                "restored_from": version,
                "previous_data_version": previous,
                "rows_loaded": restored.row_count,
            }
        )
    finally:
        st.refresh_lock.release()
