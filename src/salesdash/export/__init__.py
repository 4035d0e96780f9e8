"""Exports of any view: CSV, Excel, a chart PNG, and a one-click PDF report.

Two steps, so that the database snapshot is not held while a browser renders charts:

1. :func:`prepare` computes the view (or the report) in the caller's read snapshot, from the metric layer;
2. :func:`render` turns it into file bytes with a media type and a file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.export.files import ExportContext, describe_filters, to_csv_bytes, to_xlsx
from salesdash.export.images import ExportUnavailable, for_export, render_png
from salesdash.export.pdf import Report, build_report, to_pdf
from salesdash.metrics import Filters
from salesdash.views import VIEWS, ViewData, compute_view, get_view, view_params

FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "png": ("image/png", "png"),
    "pdf": ("application/pdf", "pdf"),
}
RENDERED_FORMATS = ("png", "pdf")  # drawn by the headless browser (bounded: images.Renderer.slot)


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str


@dataclass
class Prepared:
    fmt: str
    context: ExportContext
    view: ViewData | None = None
    report: Report | None = None


def check_format(fmt: str, view: str) -> None:
    if fmt not in FORMATS:
        raise InvalidParameter(
            f"format={fmt!r} is not an export format; use one of {', '.join(FORMATS)}.",
            details=[{"parameter": "format", "value": fmt, "message": f"one of {', '.join(FORMATS)}"}],
        )
    if fmt == "png" and get_view(view).chart is None:
        charted = [name for name, spec in VIEWS.items() if spec.chart is not None]
        raise InvalidParameter(
            f"format=png: view={view} has no chart; charts exist for {', '.join(charted)}.",
            details=[{"parameter": "format", "value": "png", "message": f"no chart for view={view}"}],
        )


def prepare(
    conn: Connection,
    filters: Filters,
    view: str,
    params: dict[str, Any],
    fmt: str,
    context: ExportContext,
) -> Prepared:
    """Compute what the export shows, inside the read snapshot ``conn`` (``params`` from :func:`view_params`)."""
    check_format(fmt, view)
    if fmt == "pdf":
        return Prepared(
            fmt, context, report=build_report(conn, filters, context, focus=view, focus_params=params)
        )
    return Prepared(fmt, context, view=compute_view(conn, filters, view, params))


def _filename(view: str, version: str, ext: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", version)[:40]
    return f"salesdash-{view}-{safe}.{ext}"


def render(prepared: Prepared) -> ExportFile:
    media_type, ext = FORMATS[prepared.fmt]
    ctx = prepared.context
    if prepared.fmt == "pdf":
        assert prepared.report is not None
        name = prepared.report.focus.name if prepared.report.focus else "report"
        return ExportFile(to_pdf(prepared.report), media_type, _filename(name, ctx.data_version, ext))
    view = prepared.view
    assert view is not None
    filename = _filename(view.name, ctx.data_version, ext)
    if prepared.fmt == "csv":
        return ExportFile(to_csv_bytes(view), media_type, filename)
    if prepared.fmt == "xlsx":
        return ExportFile(to_xlsx(view, ctx), media_type, filename)
    fig = view.figure()
    if fig is None:  # a chart that needs data these filters do not have (comparisons without a comparison)
        raise InvalidParameter(
            f"format=png: view={view.name} has nothing to draw for these filters.",
            details=[{"parameter": "format", "value": "png", "message": "nothing to draw for these filters"}],
        )
    subtitle = (view.filters or ctx.filters).applied_text()
    subtitle = (subtitle + " · " if subtitle else "") + f"data version {ctx.data_version}"
    (png,) = render_png([for_export(fig, view.title, subtitle)])
    return ExportFile(png, media_type, filename)


def export(
    conn: Connection,
    filters: Filters,
    view: str,
    fmt: str,
    context: ExportContext,
    params: dict[str, str | None] | None = None,
) -> ExportFile:
    """Prepare and render in one call (for scripts and tests; the API renders after its snapshot closes)."""
    return render(prepare(conn, filters, view, view_params(view, params or {}), fmt, context))


__all__ = [
    "FORMATS",
    "RENDERED_FORMATS",
    "VIEWS",
    "ExportContext",
    "ExportFile",
    "ExportUnavailable",
    "Prepared",
    "ViewData",
    "check_format",
    "compute_view",
    "describe_filters",
    "export",
    "prepare",
    "render",
    "view_params",
]
