"""The view endpoints, generated from the view registry (:data:`salesdash.views.CATALOG`), and GET /api/filters.

For every declared view this module registers ``GET /api/<name>`` with its query schema (the filters, the
view's own parameters, ``format`` for tabular views), its response schema and its OpenAPI summary and
description. The one generic handler runs :func:`salesdash.views.run_view` inside
:func:`salesdash.api.respond.data_response` (one read snapshot, cache, ETag, JSON or CSV). No SQL and no
arithmetic on metrics here.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Integer, String
from apiflask.validators import Length, OneOf, Range
from flask import Response, g
from sqlalchemy import Connection

from salesdash.api import schemas as s
from salesdash.api.respond import Result, data_response, records, simple_response
from salesdash.filters import FILTERS, Filter, Filters
from salesdash.metrics import definitions, filter_options
from salesdash.metrics.queries import order_detail
from salesdash.metrics.rfm import DEFINITIONS as RFM_DEFINITIONS
from salesdash.store import current_version_label_in
from salesdash.views import CATALOG, Param, View, describe_views, run_view
from salesdash.vocabulary import CANCELLED, PERIODS

bp = APIBlueprint(
    "sales",
    __name__,
    url_prefix="/api",
    tag={
        "name": "Sales analytics",
        "description": "The views of the view registry; every one takes the filters.",
    },
)


def param_field(param: Param) -> Integer | String:
    """The query field of a view parameter (type, range or choices, default, description)."""
    extra: dict[str, Any] = {} if param.default is None else {"load_default": param.default}
    if param.is_int:
        return Integer(
            validate=Range(min=param.low, max=param.high),
            metadata={"description": param.description},
            **extra,
        )
    if param.is_text:
        return String(validate=Length(max=param.max_length), metadata={"description": param.description})
    return String(validate=OneOf(param.choices), metadata={"description": param.description}, **extra)


def query_schema(view: View) -> type[s.QuerySchema]:
    base = s.TabularQuery if view.tabular else s.MetricQuery
    name = "".join(part.capitalize() for part in view.name.split("-")) + "Query"
    schema: type[s.QuerySchema] = type(name, (base,), {p.name: param_field(p) for p in view.params})
    return schema


def _handler(view: View) -> Any:
    def handler(query: dict[str, Any]) -> Response:
        params = {p.name: query.get(p.name) for p in view.params}

        def compute(conn: Connection, f: Filters) -> Result:
            data = run_view(conn, view, f, params, g.filter_options)
            body = data.data if data.data is not None else records(data.frame)
            columns = [str(c) for c in data.frame.columns] if view.tabular else None
            return Result(
                body,
                meta=data.meta,
                columns=columns,
                filters=data.filters,
                metrics=data.metrics,
                definitions=data.definitions,
            )

        return data_response(
            view.name,
            compute,
            params=params,
            fmt=query.get("format", "json"),
            filename=view.file_name(params),
        )

    handler.__name__ = "get_" + view.name.replace("-", "_")
    handler.__doc__ = view.description
    return handler


def register(view: View) -> None:
    """Add the route of one declared view to the blueprint."""
    data_schema = s.row_schema(view)
    meta_schema = getattr(s, view.meta_schema)
    handler = bp.doc(summary=view.summary, description=view.description, responses=list(view.errors))(
        _handler(view)
    )
    handler = bp.output(s.envelope(data_schema, many=view.many, meta=meta_schema), description=view.response)(
        handler
    )
    handler = bp.input(query_schema(view), location="query", arg_name="query")(handler)
    bp.get(f"/{view.name}")(handler)


for _view in CATALOG:
    register(_view)


@bp.get("/orders/<ordernumber>")
@bp.input(s.OrderPath, location="path", arg_name="path")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.OrderDetail, meta=s.SimpleMeta), description="One order with its lines.")
@bp.doc(
    summary="One order",
    responses={
        400: "Not an order number",
        401: "No or unknown token",
        403: "Forbidden",
        404: "No such order",
    },
)
def get_order(ordernumber: str, path: dict[str, Any], query: dict[str, Any]) -> Response:
    """One order whatever its status and the filters: its lines (by line number), status, customer, country,
    order date and totals (`sales` = the sum of its line sales; `in_revenue` is false for a Cancelled order,
    which revenue leaves out). 404 when no line has that number."""
    number = int(path["ordernumber"])

    def compute(conn: Connection, f: Filters) -> Result:
        found = order_detail(conn, number)
        return Result({**found, "lines": records(found["lines"])})

    return data_response("order", compute, params={"order_number": number}, use_filters=False)


@bp.get("/definitions")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.Definitions, meta=s.SimpleMeta), description="Every metric's definition.")
@bp.doc(summary="Metric definitions", responses=[400, 401, 403])
def get_definitions(query: dict[str, Any]) -> Response:
    """The one definition of every metric (and of the RFM columns), as the metric layer holds them. Data
    answers carry the definitions of their own metrics in `meta.definitions` only with `definitions=true`."""
    return simple_response({"metrics": definitions(), "rfm": RFM_DEFINITIONS})


@bp.get("/views")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.ViewInfo, many=True, meta=s.SimpleMeta), description="Every declared view.")
@bp.doc(summary="Views of the registry", responses=[400, 401, 403])
def get_views(query: dict[str, Any]) -> Response:
    """Every view of the view registry, in the order declared: its path, title, whether it answers
    `?format=csv` (`tabular`) and has a chart (`/api/export?format=png`), and its parameters (types, choices,
    ranges, defaults, descriptions; `export_params` are the ones `/api/export?view=` takes). It changes only
    with the server's version, so clients (the dashboard's export menus) may cache it."""
    response = simple_response(describe_views())
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/filters")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.FilterOptions), description="Every value each filter can take.")
@bp.doc(summary="Filter values", responses=[400, 401, 403, 503])
def get_filters(query: dict[str, Any]) -> Response:
    """The values each filter can take in the current data (territories, countries, product lines, statuses,
    deal sizes, the date range), for building a UI, and how many product codes and customers there are
    (`GET /api/product-codes?q=...` and `GET /api/customers?q=...` find them: at realistic sizes the lists would
    be megabytes). `default_statuses` is what "no status filter" means."""

    def compute(conn: Connection, f: Filters) -> Result:
        # the values every request of this data version checks its filters against (read once per version),
        # unless a load landed since this request looked the version up
        same = current_version_label_in(conn) == g.options_version
        data = dict(g.filter_options) if same else filter_options(conn)
        for found in FILTERS:  # too many values to list (customers, product codes): their count, and a finder
            if found.options_key and found.finder:
                data[found.count_key] = len(data.pop(found.options_key))
        data["default_statuses"] = [v for v in data["statuses"] if v != CANCELLED]
        data["periods"] = list(PERIODS)
        return Result(data)

    return data_response("filters", compute, use_filters=False)


def _finder(found: Filter) -> None:
    """GET <finder> for a filter whose values are too many to list (customers, product codes): the values
    that start with `q` (any case) first, then those that contain it, each alphabetically; `limit` 1-50
    (default 20); `meta.total` counts every match. One handler, one index (lookup.NameIndex) per filter."""
    name = found.finder.removeprefix("/api/")
    noun = found.label.lower()
    column = found.column or found.attr

    def handler(query: dict[str, Any]) -> Response:
        text, limit = query["q"], query["limit"]

        def compute(conn: Connection, f: Filters) -> Result:
            values, total = g.filter_options[found.options_key or ""].search(text, limit)
            meta = {"q": text, "total": total, "limit": limit, "returned": len(values)}
            return Result([{column: v} for v in values], meta=meta, columns=[column])

        return data_response(name, compute, params={"q": text, "limit": limit}, use_filters=False)

    handler.__name__ = f"find_{name.replace('-', '_')}"
    handler.__doc__ = (
        f"{found.label} for the `{found.param}` filter, as the user types: values that start with `q` (any case) "
        f"first, then values that contain it, each alphabetically; `limit` 1-{s.MAX_MATCHES} (default 20); `meta.total` "
        f"counts every match. The values are the ones the `{found.param}` filter takes."
    )
    bp.get(found.finder.removeprefix("/api"))(
        bp.input(s.search_query(noun), location="query", arg_name="query")(
            bp.output(
                s.envelope(s.match_row(column), many=True, meta=s.SearchMeta),
                description=f"{found.label} found.",
            )(bp.doc(summary=f"{found.label} search (typeahead)", responses=[400, 401, 403, 503])(handler))
        )
    )


for _found in FILTERS:
    if _found.finder:
        _finder(_found)
