"""The view and filter registries are the one source of every surface: each declared view has its API route,
its OpenAPI operation with its parameters, ?format=csv, exports and a line in docs/api.md; each declared filter
is a Filters field, a query parameter of every view, a key of meta.filters, a line of the "filters applied"
text and of docs/api.md. Exports and endpoints compute a view by one path (run_view), so their CSVs are equal."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import fields
from pathlib import Path

import openpyxl
import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.dashboard.components.filters import SIDEBAR
from salesdash.filters import FILTERS, Filters
from salesdash.views import CATALOG, VIEWS, View
from salesdash.vocabulary import COLUMNS
from tests.api.conftest import app_for, assert_error
from tests.conftest import SAMPLE_CSV

DOCS = Path(__file__).resolve().parents[2] / "docs"
FILTER_PARAMS = {f.param for f in FILTERS}
# the view parameters a test sets so that every view answers on the bundled data with these filters
FILTERED = "country=France,Spain&start=2003-06-01"
# cohorts are the customers whose first order is in the date range: this one's is 2003-01-31
WHOLE_RANGE = {"cohorts"}


@pytest.fixture(scope="module")
def sample_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The bundled data in SQLite once: the surfaces do not depend on the engine (the contract suite runs the
    metric layer on every engine)."""
    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('registry') / 'sample.db'}")
    ingest_file(engine, SAMPLE_CSV)
    return engine


@pytest.fixture(scope="module")
def app(sample_sqlite: Engine) -> APIFlask:
    return app_for(sample_sqlite)


@pytest.fixture
def client(app: APIFlask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def spec(app: APIFlask) -> dict:
    document: dict = app.test_client().get("/api/openapi.json").get_json()
    return document


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_declared_view_is_an_endpoint_with_its_openapi_operation(
    app: APIFlask, spec: dict, client: FlaskClient, name: str
):
    view = VIEWS[name]
    assert f"/api/{name}" in {rule.rule for rule in app.url_map.iter_rules()}
    operation = spec["paths"][f"/api/{name}"]["get"]
    assert operation["summary"] == view.summary
    assert view.description in operation["description"]
    accepted = {p["name"] for p in operation["parameters"]}
    own = {p.name for p in view.params}
    assert accepted == FILTER_PARAMS | own | {"definitions"} | ({"format"} if view.tabular else set())
    for param in view.params:
        documented = next(p for p in operation["parameters"] if p["name"] == param.name)
        assert documented["description"] == param.description
        if param.choices:
            assert documented["schema"]["enum"] == list(param.choices)
        elif param.is_text:
            assert documented["schema"]["maxLength"] == param.max_length
        else:
            assert (documented["schema"]["minimum"], documented["schema"]["maximum"]) == (
                param.low,
                param.high,
            )
    assert ("text/csv" in operation["responses"]["200"]["content"]) == view.tabular
    response = client.get(f"/api/{name}?{FILTERED}")
    assert response.status_code in (200, 422), response.get_data(
        as_text=True
    )  # forecast: too short a history
    if response.status_code == 200:
        body = response.get_json()
        assert set(body["meta"]["filters"]) == FILTER_PARAMS
        assert "definitions" not in body["meta"]  # only when asked
        asked = client.get(f"/api/{name}?{FILTERED}&definitions=true").get_json()
        assert set(view.metrics) <= set(asked["meta"]["definitions"])


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_declared_view_is_exported(spec: dict, client: FlaskClient, name: str):
    export = spec["paths"]["/api/export"]["get"]
    choices = next(p for p in export["parameters"] if p["name"] == "view")["schema"]["enum"]
    assert name in choices
    for param in VIEWS[name].export_params:  # every export parameter of the view is documented on the export
        assert param.name in {p["name"] for p in export["parameters"]}
    response = client.get(f"/api/export?view={name}&format=xlsx&{FILTERED}")
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 200:
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
        assert about["Countries"] == "France, Spain"


def test_every_declared_view_is_in_the_docs():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| GET \| `/api/([a-z-]+)` \|", text, flags=re.M))
    assert set(VIEWS) <= listed
    for name in VIEWS:
        assert f"### GET /api/{name}" in text, name


@pytest.mark.parametrize("name", [v.name for v in CATALOG if v.tabular])
def test_export_and_endpoint_are_one_path(client: FlaskClient, name: str):
    """?format=csv of the endpoint and the CSV export compute the view the same way: the same rows."""
    view = VIEWS[name]
    own = "&".join(f"{p.name}={p.default}" for p in view.export_params if p.default is not None)
    filtered = FILTERED.split("&start=")[0] if name in WHOLE_RANGE else FILTERED
    query = f"{filtered}&customer=Euro Shopping Channel" + (f"&{own}" if own else "")
    paging = "&limit=1000" if view.param("limit") is not None and not view.param("limit").export else ""
    api = client.get(f"/api/{name}?{query}{paging}&format=csv")
    exported = client.get(f"/api/export?view={name}&format=csv&{query}")
    assert api.status_code == exported.status_code, exported.get_data(as_text=True)
    if api.status_code == 200:
        rows = list(csv.DictReader(io.StringIO(api.get_data(as_text=True))))
        assert rows, name
        assert list(csv.DictReader(io.StringIO(exported.get_data(as_text=True)))) == rows


def test_filters_dataclass_has_exactly_the_declared_filters():
    assert [f.name for f in fields(Filters)] == [f.attr for f in FILTERS]
    assert len(FILTER_PARAMS) == len(FILTERS)


def test_each_declared_filter_is_parsed_checked_described_and_documented(client: FlaskClient):
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    section = text.split("### Filters", 1)[1].split("\n### ", 1)[0]
    for f in FILTERS:
        assert f"`{f.param}`" in section, f.param
    options = client.get("/api/filters").get_json()["data"]
    for f in FILTERS:
        if f.options_key and not f.finder:
            assert options[f.options_key], f.param
        elif f.options_key:  # too many to list (customers, product codes): counted, found through its finder
            assert f.options_key not in options and options[f.count_key] > 0, f.param
            found = client.get(f.finder, query_string={"q": "", "limit": 50}).get_json()
            assert found["meta"]["total"] == options[f.count_key] and found["data"], f.param
            assert f"GET {f.finder}?q=" in f.finds
    parsed = Filters.parse({"country": ["france,SPAIN"], "dealsize": ["large"], "end": ["2004-12-31"]})
    checked = parsed.checked(options)
    assert checked.countries == ("France", "Spain") and checked.deal_sizes == ("Large",)
    described = dict(checked.describe())
    assert described["Countries"] == "France, Spain"
    assert described["Order dates"] == "up to 2004-12-31"
    assert (
        checked.applied_text() == "Order dates: up to 2004-12-31; Countries: France, Spain; Deal sizes: Large"
    )
    assert {f.param for f in SIDEBAR} == {f.param for f in FILTERS if f.sidebar}


def test_unknown_values_of_every_checked_filter_are_one_400(client: FlaskClient):
    checked = [f for f in FILTERS if f.options_key]
    query = "&".join(f"{f.param}=Atlantis" for f in checked)
    error = assert_error(client.get(f"/api/kpis?{query}"), 400, code="invalid_parameter")
    assert {d["parameter"] for d in error["details"]} == {f.param for f in checked}


def test_every_api_path_the_dashboard_calls_is_a_route(app: APIFlask):
    """The dashboard cannot import the registry (it reads through the API only); its calls are checked here."""
    dashboard = Path(__file__).resolve().parents[2] / "src" / "salesdash" / "dashboard"
    called = {
        m for p in dashboard.rglob("*.py") for m in re.findall(r'"(/api/[a-z-]+)', p.read_text("utf-8"))
    }
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert called and called <= routes, called - routes


def test_the_view_listing_is_the_registry(client: FlaskClient, spec: dict):
    """GET /api/views (what the dashboard's export menus are made from) lists every declared view, in order,
    with its chart, CSV and parameters, and is documented in the OpenAPI document."""
    response = client.get("/api/views")
    assert response.status_code == 200 and "max-age" in response.headers["Cache-Control"]
    listed = response.get_json()["data"]
    assert [v["name"] for v in listed] == [v.name for v in CATALOG]
    for info, view in zip(listed, CATALOG, strict=True):
        assert info["path"] == f"/api/{view.name}" and info["title"] == view.title
        assert info["chart"] == (view.chart is not None) and info["tabular"] == view.tabular
        assert info["export_params"] == [p.name for p in view.export_params]
        assert [p["name"] for p in info["params"]] == [p.name for p in view.params]
        for given, param in zip(info["params"], view.params, strict=True):
            assert (given["default"], given["minimum"], given["maximum"]) == (
                param.default,
                param.low,
                param.high,
            )
            assert given["choices"] == (list(param.choices) or None)
    assert "/api/views" in spec["paths"]


def _row_columns(view: View) -> list[dict]:
    """Every parameter value that changes the rows' columns (level, dimension), computed."""
    choices = [p for p in view.params if p.name in ("level", "dimension")]
    values = [{}] + [{p.name: c} for p in choices for c in p.choices]
    return values


@pytest.mark.parametrize("name", [v.name for v in CATALOG if v.many])
def test_declared_columns_are_the_rows_and_their_schema(client: FlaskClient, spec: dict, name: str):
    """A view's declared columns (View.columns) are the columns its rows have, with the JSON types and nulls
    their vocabulary units say; the OpenAPI row schema is made from them (title = the column's label)."""
    view = VIEWS[name]
    if not view.columns:  # a view that names a hand-written row schema instead (declaring columns is better)
        assert view.schema in spec["components"]["schemas"], f"{name}: declare its columns (View.columns)"
        return
    assert set(view.optional) | set(view.nullable) <= set(view.columns)
    row = spec["components"]["schemas"][view.schema]
    assert set(row["properties"]) == set(view.columns)
    assert set(row["required"]) == set(view.columns) - set(view.optional)
    for column in view.columns:
        assert row["properties"][column]["title"] == COLUMNS[column].label
    for extra in _row_columns(view):
        limit = view.param("limit")
        query = "&".join(
            f"{k}={v}" for k, v in {**extra, "limit": limit and limit.high}.items() if view.param(k)
        )
        body = client.get(f"/api/{name}?{query}").get_json()
        rows = body["data"]
        assert rows, (name, extra)
        keys = set(rows[0])
        years = {str(y) for y in body["meta"].get("years") or []} if name == "heatmap" else set()
        assert set(view.columns) - set(view.optional) <= keys <= set(view.columns) | years, (name, extra)
        for r in rows:
            for column in keys - years:
                value, unit = r[column], COLUMNS[column].unit
                if value is None:
                    assert COLUMNS[column].nullable or column in view.nullable, (name, column)
                    continue
                expected = {
                    "currency": (int, float),
                    "ratio": (int, float),
                    "count": int,
                    "plain": int,
                    "flag": bool,
                    "date": str,
                    "text": str,
                }[unit]
                assert isinstance(value, expected), (name, column, value)
                assert unit in ("flag", "currency", "ratio") or not isinstance(value, bool), (name, column)


def _export_menus() -> None:
    """A Streamlit script: the dashboard's export buttons for every view the API lists (its whole menu)."""
    from salesdash.dashboard.components import context
    from salesdash.dashboard.components.exports import export_buttons, view_of
    from salesdash.dashboard.state import FilterState

    ctx = context.start(FilterState(), context.check_version(), {})
    for name in context.views():
        info = view_of(f"/api/{name}")
        assert info is not None
        export_buttons(ctx, info, key=name)


def test_every_declared_view_is_in_the_dashboard_export_menu(
    sample_sqlite: Engine, monkeypatch: pytest.MonkeyPatch
):
    """The dashboard's export menus come from the registry (over GET /api/views): every declared view has its
    Excel and PDF buttons, a PNG button exactly when it has a chart, and its export parameters (and only
    those) go into the export's query."""
    from streamlit.testing.v1 import AppTest

    from salesdash.config import Settings
    from salesdash.dashboard.client import ApiClient
    from salesdash.dashboard.components.context import Context
    from salesdash.dashboard.components.exports import export_query, view_of
    from salesdash.dashboard.state import FilterState
    from tests.dashboard.conftest import serve

    url = sample_sqlite.url.render_as_string(hide_password=False)
    server, thread = serve(Settings(database_url=url, source_path=SAMPLE_CSV), sample_sqlite)
    try:
        api = f"http://127.0.0.1:{server.server_port}"
        monkeypatch.setenv("SALESDASH_API_URL", api)
        at = AppTest.from_function(_export_menus, default_timeout=60).run()
        assert not at.exception, at.exception
        keys = {str(b.proto.id) for b in at.get("download_button")}
        for view in CATALOG:
            for fmt in ("xlsx", "pdf", "png"):
                shown = any(f"export-{view.name}-{fmt}" in k for k in keys)
                assert shown == (fmt != "png" or view.chart is not None), (view.name, fmt)
        ctx = Context(Settings(api_url=api), ApiClient(api), FilterState(Filters(countries=("France",))), {})
        given = {"limit": 7, "offset": 3, "sort": "units", "level": "product", "unknown": "x"}
        for view in CATALOG:
            info = view_of(f"/api/{view.name}")
            assert info is not None and info["name"] == view.name
            query = export_query(ctx, info, "xlsx", given)
            own = {p.name for p in view.export_params} & set(given)
            assert set(query) == {"view", "format", "country"} | own, view.name
        assert view_of("/api/filters") is None
    finally:
        server.shutdown()
        thread.join(timeout=10)
