"""GET /api/data-versions (the history of data loads, newest first, each with its ingest quality report) and
GET /api/data-quality (the current load's quality report and the load history).

The dashboard's Data and Quality pages show the current load's time, source and quality report from here.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import PurePath
from typing import Any

from apiflask import APIBlueprint
from flask import Response
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from salesdash.api import schemas as s
from salesdash.api.respond import Result, data_response, simple_response
from salesdash.api.state import NO_DATA_MESSAGE, state
from salesdash.errors import NoData, StoreUnavailable
from salesdash.filters import Filters
from salesdash.store import DataVersion, current_version_in, version_history
from salesdash.store.archive import restorable

bp = APIBlueprint("versions", __name__, url_prefix="/api", tag="Service")


def _public_source(source: str) -> str:
    prefix, _, rest = source.rpartition(":") if source.startswith("upload:") else ("", "", source)
    name = PurePath(rest).name or rest
    return f"{prefix}:{name}" if prefix else name


def _public(version: DataVersion) -> dict[str, Any]:
    """A data version for the outside: named ``data_version`` as everywhere in the API, and the source's file
    name, never a server path."""
    out = version.to_dict()
    out["source"] = _public_source(version.source)
    return {"data_version": out.pop("version", None), **out}


def _record(version: DataVersion, kept: set[str]) -> dict[str, Any]:
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
        "restorable": version.version in kept,
    }


@bp.get("/data-versions")
@bp.input(s.VersionsQuery, location="query", arg_name="query")
@bp.output(s.VersionsResponse, description="Data loads, newest first (empty before the first load).")
@bp.doc(summary="Data load history", responses=[400, 401, 403, 503])
def data_versions(query: dict[str, Any]) -> Response:
    """The latest data loads, newest first: version, source file, load time, row count and quality report."""
    st = state()
    current = st.version()  # the history changes only with a load, which changes the version
    key = (current, "data-versions", query["limit"])
    records = st.cache.get(key) if current is not None else None
    if records is None:
        try:
            history = version_history(st.engine, limit=query["limit"])
            kept = restorable(st.engine)
        except SQLAlchemyError:
            raise StoreUnavailable("The database does not answer; check SALESDASH_DATABASE_URL.") from None
        records = [_record(v, kept) for v in history]
        if current is not None and history and history[0].version == current:
            st.cache.put(key, records, len(json.dumps(records, default=str)))
    return simple_response(records)


@bp.get("/data-quality")
@bp.input(s.DataQualityQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.DataQuality), description="The current load's quality report and the load history.")
@bp.doc(summary="Data quality and load history", responses=[400, 401, 403, 503])
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
                _public(v)
                | {
                    "rows_read": report.get("rows_read"),
                    "rows_loaded": report.get("rows_loaded"),
                    "rows_rejected": report.get("rows_rejected"),
                    "encoding": report.get("encoding"),
                    "load_mode": report.get("load_mode", "replace"),
                    "anomalies": len(report.get("anomalies", [])),
                }
            )
        return Result(_public(current) | {"report": current.report, "history": history})

    return data_response("data-quality", compute, params={"limit": limit}, use_filters=False)
