"""What a view is: its declaration (:class:`View`, :class:`Param`) and one computed answer (:class:`ViewData`).

A view is declared once in :mod:`salesdash.views.catalog`; the API routes and their OpenAPI documents
(:mod:`salesdash.api.routes`), ``?format=csv``, every export format (:mod:`salesdash.export`) and the docs are
made from the declaration, and :func:`run_view` is the one way any of them computes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Connection

from salesdash.errors import InvalidParameter
from salesdash.filters import Filters
from salesdash.vocabulary import ALL_STATUSES_NOTE


@dataclass(frozen=True)
class Param:
    """One parameter of a view besides the filters: a choice among texts or a whole number in a range."""

    name: str
    description: str
    default: Any = None  # None: optional without a default
    choices: tuple[str, ...] = ()  # a choice parameter
    low: int | None = None  # a whole-number parameter (low..high)
    high: int | None = None
    export: bool = True  # False: the API only (paging); exports always hold the whole view
    max_length: int | None = None  # a free-text parameter (a search) of at most this many characters

    @property
    def is_int(self) -> bool:
        return self.low is not None

    @property
    def is_text(self) -> bool:
        return self.max_length is not None

    def parse(self, value: Any) -> Any:
        """The value from text (exports) or from the API's already typed value; InvalidParameter when bad."""
        if self.is_int:
            assert self.low is not None and self.high is not None
            try:
                number = int(str(value).strip())
            except ValueError:
                number = None
            if number is None or not self.low <= number <= self.high:
                raise InvalidParameter(
                    f"{self.name} must be a whole number from {self.low} to {self.high}, got {value!r}.",
                    details=[
                        {
                            "parameter": self.name,
                            "value": value,
                            "message": f"a whole number {self.low}-{self.high}",
                        }
                    ],
                )
            return number
        if self.is_text:
            assert self.max_length is not None
            text = str(value).strip()
            if len(text) > self.max_length:
                raise InvalidParameter(
                    f"{self.name} may be at most {self.max_length} characters, got {len(text)}.",
                    details=[{"parameter": self.name, "message": f"at most {self.max_length} characters"}],
                )
            return text or None
        if value not in self.choices:
            allowed = ", ".join(self.choices)
            raise InvalidParameter(
                f"{self.name}={value!r} is not allowed; use one of {allowed}.",
                details=[{"parameter": self.name, "value": value, "message": f"one of {allowed}"}],
            )
        return value


Chart = Callable[["ViewData"], "go.Figure | None"]


@dataclass
class ViewData:
    """One computed view: its table, what the API answers, how to draw it, and what it means."""

    name: str
    title: str
    frame: pd.DataFrame  # the table (CSV, Excel, PDF; the API's data unless ``data`` is set)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)  # whose definitions go with it
    definitions: dict[str, str] = field(
        default_factory=dict
    )  # more definitions (columns that are not metrics)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # more sheets (Excel) / tables (PDF)
    meta: dict[str, Any] = field(default_factory=dict)  # the API's meta (besides the common fields)
    data: Any = None  # the API's data when it is not the table's records (a dict for kpis, comparisons)
    chart_input: dict[str, Any] = field(default_factory=dict)  # what the chart needs beyond the records
    chart: Chart | None = None
    summary_columns: list[str] | None = None  # the columns a printed (PDF) table shows; None = the first 7
    filters: Filters | None = None  # the filters applied (set by run_view)

    def records(self) -> list[dict[str, Any]]:
        """The table as JSON-ready records (what the charts take, like the API's ``data``)."""
        return records_of(self.frame)

    def figure(self) -> go.Figure | None:
        return self.chart(self) if self.chart else None


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out.append({str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
    return out


Compute = Callable[[Connection, Filters, dict[str, Any], Mapping[str, Any]], ViewData]


@dataclass(frozen=True)
class View:
    """The one declaration of a view. ``compute(conn, filters, params, options)`` calls the metric layer in the
    caller's read snapshot (``options`` = GET /api/filters' values for this data version)."""

    name: str  # the URL path (/api/<name>) and the export's view=
    title: str
    summary: str  # the OpenAPI summary
    description: str  # the OpenAPI description (what the numbers are)
    compute: Compute
    schema: str  # the name of the response's data schema (one row when ``many``): made from ``columns`` when
    # they are declared, else the class of that name in salesdash.api.schemas (nested objects: kpis, comparisons)
    response: str  # the OpenAPI response description
    many: bool = True  # data is a list of rows (else an object)
    meta_schema: str = "Meta"
    params: tuple[Param, ...] = ()
    metrics: tuple[str, ...] = ()  # definitions in meta (ViewData.metrics may add the chosen one)
    tabular: bool = True  # answers ?format=csv
    chart: Chart | None = None  # its figure (pure Plotly) from the computed view; None: a table only
    all_statuses: bool = False  # no status filter = every status, Cancelled included
    errors: tuple[int, ...] = (400, 401, 403, 503)
    filename: Callable[[Mapping[str, Any]], str] | None = None  # the CSV's name (default: the view's name)
    # the table's columns in order (their words, units and types: vocabulary.COLUMNS); the row schema of the
    # API's answer is made from them. ``optional``: only for some parameter values; ``nullable``: null in this
    # view although the vocabulary does not say so everywhere. A view may answer more columns (heatmap years).
    columns: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()

    def file_name(self, params: Mapping[str, Any]) -> str:
        return self.filename(params) if self.filename else self.name

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def export_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.export)

    def defaults(self, *, export: bool = False) -> dict[str, Any]:
        chosen = self.export_params if export else self.params
        return {p.name: p.default for p in chosen}


def run_view(
    conn: Connection,
    view: View,
    filters: Filters,
    params: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    export: bool = False,
) -> ViewData:
    """Compute ``view`` for validated ``filters`` and ``params`` (missing ones take their defaults) in the read
    snapshot ``conn``: the one path of the API, ?format=csv and every export."""
    parsed = view.defaults(export=export)
    parsed.update({k: v for k, v in params.items() if v is not None and k in parsed})
    applied, everything = filters, False
    if view.all_statuses and not filters.statuses:
        applied = dataclasses.replace(filters, statuses=tuple(options.get("statuses", [])))
        everything = True
    data = view.compute(conn, applied, parsed, options)
    if view.all_statuses:
        data.meta = {
            "all_statuses": everything,
            **({"note": ALL_STATUSES_NOTE} if everything else {}),
            **data.meta,
        }
        if everything:
            data.notes = [ALL_STATUSES_NOTE, *data.notes]
    data.chart = data.chart or view.chart
    data.filters = data.filters or applied
    data.params = {**{k: v for k, v in parsed.items() if v is not None}, **data.params}
    if not data.metrics:
        data.metrics = list(view.metrics)
    return data
