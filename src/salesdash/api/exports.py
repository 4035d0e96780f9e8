"""GET /api/export: any declared view as a file (CSV, Excel, PNG, PDF), computed like its endpoint.

The view and its parameters come from the view registry (:mod:`salesdash.views`); :mod:`salesdash.export`
computes the file inside one read snapshot and renders it (charts) after the snapshot is closed.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

from apiflask import APIBlueprint
from flask import Response

from salesdash.api import schemas as s
from salesdash.api.respond import request_filters, utc_now
from salesdash.api.state import NO_DATA_MESSAGE, client_gone, state
from salesdash.errors import NoData
from salesdash.export import (
    FORMATS,
    RENDERED_FORMATS,
    ExportContext,
    check_format,
    prepare,
    render,
    view_params,
)
from salesdash.store import current_version_label_in, snapshot
from salesdash.views import export_parameters

bp = APIBlueprint("exports", __name__, url_prefix="/api", tag="Exports")


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
            503: "No data loaded, database unavailable, every chart renderer busy (Retry-After), or no browser "
            "for PNG/PDF",
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
    # PNG/PDF: a render slot first (503 + Retry-After at once when every slot and the queue are taken), so an
    # export storm holds a bounded number of server threads and computes nothing it cannot render.
    bound = st.renderer.slot(client_gone()) if fmt in RENDERED_FORMATS else contextlib.nullcontext()
    with bound:
        with snapshot(st.engine) as conn:
            seen = current_version_label_in(conn)
            if seen is None:
                raise NoData(NO_DATA_MESSAGE)
            prepared = prepare(conn, filters, view, params, fmt, ExportContext(seen, utc_now(), filters))
        file = render(prepared)  # after the snapshot: a chart render must not hold a read transaction open
    response = Response(file.content, content_type=file.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["X-Data-Version"] = seen
    response.headers["Cache-Control"] = "no-store"
    return response
