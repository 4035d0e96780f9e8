"""GET /api/data-versions: the history of data loads (newest first), each with its ingest quality report.

The dashboard's Data page shows the current load's time, source and quality report from here.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import PurePath
from typing import Any

from apiflask import APIBlueprint, Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from apiflask.validators import Range
from flask import Response
from sqlalchemy.exc import SQLAlchemyError

from salesdash.api import schemas as s
from salesdash.api.respond import simple_response
from salesdash.errors import StoreUnavailable
from salesdash.store import DataVersion, version_history

bp = APIBlueprint("versions", __name__, url_prefix="/api", tag="Service")


class VersionsQuery(s.QuerySchema):
    limit = Integer(
        load_default=10,
        validate=Range(min=1, max=100),
        metadata={"description": "Number of loads, newest first, 1-100 (default 10)."},
    )


class LoadRecord(s.Open):
    data_version = String(required=True)
    source = String(required=True, metadata={"description": "File name the data came from (no server path)."})
    source_sha256 = String(required=True)
    loaded_at = String(required=True, metadata={"format": "date-time", "description": "UTC."})
    row_count = Integer(required=True)
    report = Dict(required=True, metadata={"description": "The ingest quality report of this load."})


class VersionsResponse(Schema):
    data = List(Nested(LoadRecord), required=True)
    meta = Nested(s.SimpleMeta, required=True)


def _public_source(source: str) -> str:
    prefix, _, rest = source.rpartition(":") if source.startswith("upload:") else ("", "", source)
    name = PurePath(rest).name or rest
    return f"{prefix}:{name}" if prefix else name


def _record(version: DataVersion) -> dict[str, Any]:
    return {
        "data_version": version.version,
        "source": _public_source(version.source),
        "source_sha256": version.source_sha256,
        # stored as naive UTC (see salesdash.ingest); published with its zone
        "loaded_at": version.loaded_at.replace(tzinfo=UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "row_count": version.row_count,
        "report": version.report,
    }


@bp.get("/data-versions")
@bp.input(VersionsQuery, location="query", arg_name="query")
@bp.output(VersionsResponse, description="Data loads, newest first (empty before the first load).")
@bp.doc(summary="Data load history", responses=[400, 401, 403, 503])
def data_versions(query: dict[str, Any]) -> Response:
    """The latest data loads, newest first: version, source file, load time, row count and quality report."""
    from salesdash.api.state import state

    st = state()
    current = st.version()  # the history changes only with a load, which changes the version
    key = (current, "data-versions", query["limit"])
    records = st.cache.get(key) if current is not None else None
    if records is None:
        try:
            history = version_history(st.engine, limit=query["limit"])
        except SQLAlchemyError:
            raise StoreUnavailable("The database does not answer; check SALESDASH_DATABASE_URL.") from None
        records = [_record(v) for v in history]
        if current is not None and history and history[0].version == current:
            st.cache.put(key, records, len(json.dumps(records, default=str)))
    return simple_response(records)
