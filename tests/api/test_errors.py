"""Every bad request gets the one error envelope with a clear message naming what is wrong; never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import assert_error

BAD_PARAMETERS = [
    ("/api/sales-over-time?period=hourly", "period"),
    ("/api/sales-over-time?period=", "period"),
    ("/api/top-customers?limit=0", "limit"),
    ("/api/top-customers?limit=101", "limit"),
    ("/api/top-customers?limit=abc", "limit"),
    ("/api/top-customers?limit=1.5", "limit"),
    ("/api/top-customers?limit=-3", "limit"),
    ("/api/orders?limit=1001", "limit"),
    ("/api/orders?offset=-1", "offset"),
    ("/api/orders?offset=x", "offset"),
    ("/api/orders?sort=DROP TABLE order_lines", "sort"),
    ("/api/orders?order=sideways", "order"),
    ("/api/product-performance?level=galaxy", "level"),
    ("/api/product-performance?sort=price", "sort"),
    ("/api/heatmap?metric=profit", "metric"),
    ("/api/sales-by-country?format=xml", "format"),
    ("/api/kpis?start=2004-13-01", "start"),
    ("/api/kpis?start=01/02/2004", "start"),
    ("/api/kpis?end=2004-02-30", "end"),
    ("/api/kpis?end=yesterday", "end"),
    ("/api/kpis?start=2005-01-01&end=2004-01-01", "start"),
    ("/api/kpis?country=Narnia", "country"),
    ("/api/kpis?country=France,Narnia", "country"),
    ("/api/kpis?productline=Spaceships", "productline"),
    ("/api/kpis?status=Lost", "status"),
    ("/api/kpis?dealsize=Huge", "dealsize"),
    ("/api/kpis?customer=Nobody Inc", "customer"),
    ("/api/kpis?customer=a&customer=b", "customer"),
    ("/api/kpis?start=2004-01-01&start=2004-02-01", "start"),
    ("/api/top-customers?limit=5&limit=6", "limit"),
    ("/api/kpis?colour=red", "colour"),
    ("/api/kpis?format=csv", "format"),  # kpis is not tabular
    ("/api/filters?country=France", "country"),  # filters takes no filters
    ("/api/version?x=1", "x"),
    ("/api/health?verbose=1", "verbose"),
    ("/api?page=2", "page"),
]


@pytest.mark.parametrize(("path", "parameter"), BAD_PARAMETERS, ids=[p for p, _ in BAD_PARAMETERS])
def test_bad_parameter_is_400_naming_it(sample_client: FlaskClient, path: str, parameter: str):
    assert_error(sample_client.get(path), 400, "invalid_parameter", parameter)


def test_unknown_parameter_lists_the_accepted_ones(sample_client: FlaskClient):
    error = assert_error(sample_client.get("/api/top-customers?limt=5"), 400, "invalid_parameter", "limt")
    assert "limit" in error["details"][0]["accepted"]
    assert "limit" in error["message"]


def test_unknown_value_suggests_close_matches(sample_client: FlaskClient):
    error = assert_error(sample_client.get("/api/kpis?country=Frnace"), 400, "invalid_parameter", "country")
    assert error["details"][0]["did_you_mean"] == ["France"]
    assert "/api/filters" in error["message"]


def test_several_bad_values_are_reported_at_once(sample_client: FlaskClient):
    error = assert_error(sample_client.get("/api/kpis?country=Narnia&dealsize=Huge"), 400)
    assert {d["parameter"] for d in error["details"]} == {"country", "dealsize"}


def test_404_is_an_envelope(sample_client: FlaskClient):
    error = assert_error(sample_client.get("/api/no-such-thing"), 404, "not_found")
    assert "/api/no-such-thing" in error["message"]
    assert_error(sample_client.get("/nothing/here"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/kpis"), ("delete", "/api/orders"), ("put", "/api/filters"), ("get", "/api/data-refresh")],
)
def test_405_is_an_envelope_with_allow(sample_client: FlaskClient, method: str, path: str):
    response = getattr(sample_client, method)(path)
    error = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in error["message"]
    assert response.headers["Allow"]


def test_no_data_is_503_with_the_command_to_run(make_app):
    client = make_app().test_client()
    for path in ("/api/kpis", "/api/sales-by-country", "/api/filters", "/api/orders"):
        error = assert_error(client.get(path), 503, "no_data")
        assert "salesdash ingest" in error["message"]
    health = client.get("/api/health").get_json()["data"]
    assert health["data_loaded"] is False and health["database"] == "reachable"
    assert client.get("/api/version").get_json()["data"] == {"data_version": None, "data_loaded": False}
    assert client.get("/api").get_json()["data"]["data_version"] is None


def test_unreachable_database_is_503_not_500(tmp_path):
    from salesdash.api import create_app
    from salesdash.config import Settings

    # a directory where the database file should be: SQLite cannot open it
    (tmp_path / "db").mkdir()
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'db'}", cors_origins=["http://x.test"]))
    client = app.test_client()
    assert_error(client.get("/api/health"), 503, "store_unavailable")
    assert_error(client.get("/api/kpis"), 503, "store_unavailable")


def test_unexpected_errors_are_500_envelopes_without_details(make_app):
    app = make_app()

    @app.get("/api/boom")
    def boom():  # an endpoint that fails the way a bug would
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/api/boom")
    error = assert_error(response, 500, "internal_error")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "reference" in error["message"]


def test_database_failing_mid_request_is_503(make_app, tmp_path):
    from sqlalchemy import create_engine, text

    app = make_app()
    broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")  # SQLite cannot open it

    @app.get("/api/lost-connection")
    def lost():  # a handler whose database goes away under it
        with broken.connect() as conn:
            conn.execute(text("SELECT 1"))

    response = app.test_client().get("/api/lost-connection")
    error = assert_error(response, 503, "store_unavailable")
    assert "unable to open" not in error["message"]  # no driver internals
    assert response.headers["Retry-After"]
