"""Export buttons: the view in front of the user as Excel, its chart as PNG, or the PDF report, with the current
filters, from the API's ``/api/export`` (files are fetched when clicked, never before)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from salesdash.dashboard.client import ApiClient, ApiError, Query
from salesdash.dashboard.components.context import Context

# The API's export views are named like its endpoints: /api/<view>.
VIEWS = (
    "kpis",
    "sales-over-time",
    "sales-by-category",
    "product-performance",
    "sales-by-country",
    "top-customers",
    "monthly-trends",
    "quarterly-analysis",
    "heatmap",
    "status-distribution",
    "deal-sizes",
    "orders",
    "forecast",
    "comparisons",
    "rfm",
    "acquisition",
    "cohorts",
    "market-penetration",
    "top-movers",
    "list-price-gap",
)
WITHOUT_CHART = ("kpis", "orders")
VIEW_PARAMETERS = ("period", "level", "metric", "limit", "horizon", "grain", "dimension")
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


def view_of(path: str) -> str | None:
    """The export view of an API path (``/api/top-customers`` -> ``top-customers``), or None."""
    name = path.strip("/").removeprefix("api/")
    return name if name in VIEWS else None


def export_query(ctx: Context, view: str, fmt: str, extra: Query | None = None) -> dict[str, Any]:
    """The ``/api/export`` query for ``view``: the global filters, the view's own parameters, the format."""
    own = {k: v for k, v in (extra or {}).items() if k in VIEW_PARAMETERS and v is not None}
    return ctx.query({"view": view, "format": fmt, **own})


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
    view: str,
    extra: Query | None = None,
    *,
    formats: tuple[str, ...] = ("xlsx", "png", "pdf"),
    key: str = "",
) -> None:
    """One download button per format (PNG only for views with a chart)."""
    for fmt in formats:
        if fmt == "png" and view in WITHOUT_CHART:
            continue
        label, icon, mime = FORMATS[fmt]
        st.download_button(
            label,
            data=fetcher(ctx.client, export_query(ctx, view, fmt, extra)),
            file_name=f"salesdash-{view}-{ctx.data_version}.{fmt}",
            mime=mime,
            icon=icon,
            type="tertiary",
            key=f"export-{key or view}-{fmt}",
            on_click="ignore",
            help=HELP[fmt],
        )


def export_menu(ctx: Context, view: str, extra: Query | None = None, *, key: str = "") -> None:
    """A small "Export" popover with the download buttons for ``view``."""
    with st.popover("Export", icon=":material/ios_share:", type="tertiary"):
        st.caption("With the filters in view. The PDF is the full report.")
        export_buttons(ctx, view, extra, key=key)
