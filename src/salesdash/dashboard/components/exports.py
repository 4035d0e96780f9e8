"""Export buttons: the view in front of the user as Excel, its chart as PNG, or the PDF report, with the current
filters, from the API's ``/api/export`` (files are fetched when clicked, never before)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiClient, ApiError, Query
from salesdash.dashboard.components.context import Context, views

FORMATS: dict[str, tuple[str, str, str]] = {
    "xlsx": (
        "Excel",
        ":material/table_view:",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "png": ("Chart (PNG)", ":material/image:", "image/png"),
    "pdf": ("PDF report", ":material/picture_as_pdf:", "application/pdf"),
}
HELP = {
    "xlsx": "This table with the filters, data version and metric definitions (About sheet).",
    "png": "This chart as an image, with the filters and data version in its title.",
    "pdf": "The one-page-per-topic report: KPIs, main charts, top tables, forecast, filters, data version.",
}
EXPORT_TIMEOUT = 120.0


def view_of(path: str) -> dict[str, Any] | None:
    """The API's declaration of the view an API path shows (``/api/top-customers``; from ``/api/views``), or
    None when the path is not a view (``/api/filters``)."""
    return next((v for v in views().values() if v["path"] == "/" + path.strip("/")), None)


def export_query(ctx: Context, view: dict[str, Any], fmt: str, extra: Query | None = None) -> dict[str, Any]:
    """The ``/api/export`` query for ``view``: the global filters, the view's own export parameters, the
    format."""
    own = {k: v for k, v in (extra or {}).items() if k in view["export_params"] and v is not None}
    return ctx.query({"view": view["name"], "format": fmt, **own})


def fetcher(client: ApiClient, query: dict[str, Any], timeout: float = EXPORT_TIMEOUT) -> Callable[[], bytes]:
    """What a download button calls when clicked (in another thread, without Streamlit): the file's bytes.
    If the API refuses, the downloaded file is a short text saying why (a button cannot show an error)."""

    def fetch() -> bytes:
        try:
            return client.get_file("/api/export", query, timeout=timeout)
        except ApiError as err:
            return f"salesdash could not export this view: {err.message} {err.hint}".strip().encode("utf-8")

    return fetch


def export_buttons(
    ctx: Context,
    view: dict[str, Any],
    extra: Query | None = None,
    *,
    formats: tuple[str, ...] = ("xlsx", "png", "pdf"),
    key: str = "",
) -> None:
    """One download button per format (PNG only for views with a chart)."""
    name = view["name"]
    for fmt in formats:
        if fmt == "png" and not view["chart"]:
            continue
        label, icon, mime = FORMATS[fmt]
        st.download_button(
            label,
            data=fetcher(ctx.client, export_query(ctx, view, fmt, extra)),
            file_name=f"salesdash-{name}-{ctx.data_version}.{fmt}",
            mime=mime,
            icon=icon,
            type="tertiary",
            key=f"export-{key or name}-{fmt}",
            on_click="ignore",
            help=HELP[fmt],
        )


def export_menu(ctx: Context, view: dict[str, Any], extra: Query | None = None, *, key: str = "") -> None:
    """A small "Export" popover with the download buttons for ``view``."""
    with st.popover("Export", icon=":material/ios_share:", type="tertiary"):
        st.caption("With the filters in view. The PDF is the full report.")
        export_buttons(ctx, view, extra, key=key)
