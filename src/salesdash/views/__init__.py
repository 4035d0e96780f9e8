"""The view registry: every view of salesdash declared once (:mod:`salesdash.views.catalog`), and the one way
to compute it (:func:`compute_view`). The API routes, their OpenAPI schemas, ``?format=csv``, the exports (CSV,
Excel, PNG, PDF) and the docs are made from these declarations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.metrics import filter_options
from salesdash.views.base import Param, View, ViewData, records_of, run_view
from salesdash.views.catalog import CATALOG, MAX_EXPORT_LINES

VIEWS: dict[str, View] = {v.name: v for v in CATALOG}


def get_view(view: str) -> View:
    if view not in VIEWS:
        raise InvalidParameter(
            f"Unknown view {view!r}; use one of {', '.join(VIEWS)}.",
            details=[
                {"parameter": "view", "value": view, "message": "unknown view", "accepted": list(VIEWS)}
            ],
        )
    return VIEWS[view]


def param_info(param: Param) -> dict[str, Any]:
    """A parameter's declaration as JSON (GET /api/views)."""
    return {
        "name": param.name,
        "description": param.description,
        "type": "integer" if param.is_int else "string",
        "default": param.default,
        "choices": list(param.choices) or None,
        "minimum": param.low,
        "maximum": param.high,
        "export": param.export,
    }


def describe_views() -> list[dict[str, Any]]:
    """Every declared view as JSON (GET /api/views): what a client that cannot import the registry (the
    dashboard) needs to offer it: its path, title, whether it has a chart (PNG) and CSV, its parameters."""
    return [
        {
            "name": view.name,
            "title": view.title,
            "summary": view.summary,
            "path": f"/api/{view.name}",
            "tabular": view.tabular,
            "chart": view.chart is not None,
            "all_statuses": view.all_statuses,
            "params": [param_info(p) for p in view.params],
            "export_params": [p.name for p in view.export_params],
        }
        for view in CATALOG
    ]


def export_parameters() -> dict[str, list[Param]]:
    """Every parameter an export may take (by name) and the declarations of the views that take it."""
    out: dict[str, list[Param]] = {}
    for view in CATALOG:
        for param in view.export_params:
            out.setdefault(param.name, []).append(param)
    return out


def view_params(view: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The view's export parameters from ``given`` (text, None = not given): parsed, defaulted; a parameter the
    view does not take is refused, naming the views that take it."""
    spec = get_view(view)
    out = spec.defaults(export=True)
    for name, value in given.items():
        if value is None or value == "":
            continue
        param = spec.param(name)
        if param is None or not param.export:
            takers = sorted(v.name for v in CATALOG if any(p.name == name and p.export for p in v.params))
            raise InvalidParameter(
                f"{name} does not apply to view={view}; it applies to view={' or '.join(takers)}.",
                details=[{"parameter": name, "message": f"only for view={', '.join(takers)}"}],
            )
        out[name] = param.parse(value)
    return out


class _LazyOptions(Mapping[str, Any]):
    """The filter values of the data, read on first use (most views do not need them)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._options: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._options is None:
            self._options = filter_options(self._conn)
        return self._options

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def compute_view(
    conn: Connection,
    filters: Filters,
    view: str,
    params: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> ViewData:
    """Compute ``view`` for an export (the whole view, no paging) in the snapshot ``conn`` (``params`` as
    :func:`view_params` returns them; missing ones take their defaults)."""
    chosen = options if options is not None else _LazyOptions(conn)
    return run_view(conn, get_view(view), filters, params or {}, chosen, export=True)


__all__ = [
    "CATALOG",
    "MAX_EXPORT_LINES",
    "VIEWS",
    "Param",
    "View",
    "ViewData",
    "compute_view",
    "describe_views",
    "export_parameters",
    "get_view",
    "records_of",
    "run_view",
    "view_params",
]
