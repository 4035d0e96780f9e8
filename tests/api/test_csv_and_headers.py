"""?format=csv on every tabular endpoint (spreadsheet-safe), security headers, CORS."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.export_safety import neutralise, to_csv
from salesdash.ingest import ingest_file
from tests.api.conftest import ORIGIN, assert_error, data_of
from tests.api.test_endpoints import TABULAR
from tests.orderlines import line, write_csv


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("path", TABULAR)
def test_every_tabular_endpoint_exports_csv(sample_client: FlaskClient, path: str):
    response = sample_client.get(f"{path}?format=csv&country=France")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = parse_csv(response.get_data(as_text=True))
    records = data_of(sample_client.get(f"{path}?country=France"))
    assert len(rows) == len(records)
    assert list(rows[0]) == list(records[0])  # same columns, same order
    for row, record in zip(rows, records, strict=True):
        for key, value in record.items():
            if value is None:
                assert row[key] == ""
            elif isinstance(value, bool):
                assert row[key] == str(value).lower()
            elif isinstance(value, float):
                assert float(row[key]) == value
            else:  # text is neutralised (phone numbers such as "+33 1 ..." get a leading quote)
                assert row[key] == neutralise(str(value))


def test_csv_neutralises_formula_cells(fresh_engine: Engine, tmp_path: Path):
    from tests.api.conftest import app_for

    rows = [
        line(1, date(2004, 1, 5), 1000.0, customer='=HYPERLINK("http://evil.test","x")'),
        line(2, date(2004, 1, 6), 900.0, customer="+cmd|' /C calc'!A0"),
        line(3, date(2004, 1, 7), 800.0, customer="@SUM(1+1)"),
        line(4, date(2004, 1, 8), 700.0, customer="-2+3"),
        line(5, date(2004, 1, 9), 600.0, customer="Plain Co"),
    ]
    ingest_file(fresh_engine, write_csv(tmp_path / "evil.csv", rows))
    client = app_for(fresh_engine).test_client()
    text = client.get("/api/top-customers?format=csv").get_data(as_text=True)
    names = [r["customer_name"] for r in parse_csv(text)]
    assert names == [
        '\'=HYPERLINK("http://evil.test","x")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(1+1)",
        "'-2+3",
        "Plain Co",
    ]
    # JSON is data, not a spreadsheet: it keeps the values as stored
    assert data_of(client.get("/api/top-customers"))[0]["customer_name"].startswith("=HYPERLINK")
    # the filter value is matched against the stored name
    one = client.get("/api/kpis", query_string={"customer": "@SUM(1+1)"})
    assert data_of(one)["revenue"] == 800.0


def test_export_safety_helpers():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("Euro Shopping Channel") == "Euro Shopping Channel"
    assert neutralise(-5) == -5  # numbers stay numbers
    text = to_csv([{"a": "=x", "b": None, "c": 1.5, "d": date(2004, 1, 2)}], ["a", "b", "c", "d"])
    assert text.splitlines() == ["a,b,c,d", "'=x,,1.5,2004-01-02"]


def test_security_headers_on_every_kind_of_response(sample_client: FlaskClient):
    for response in (
        sample_client.get("/api/kpis"),
        sample_client.get("/api/kpis?format=csv&country=France".replace("kpis", "deal-sizes")),
        sample_client.get("/api/nope"),
        sample_client.get("/api/openapi.json"),
        sample_client.get("/api/health"),
    ):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "Cache-Control" in headers
    assert sample_client.get("/api/health").headers["Cache-Control"] == "no-store"


def test_docs_page_works_under_its_csp(sample_client: FlaskClient):
    response = sample_client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "swagger-ui" in html and "/api/openapi.json" in html
    csp = response.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert "connect-src 'self'" in csp and "http" not in csp  # nothing from other origins
    # Swagger UI is served by the API itself (works offline)
    for asset in re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+)"', html):
        served = sample_client.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert html.count("/api/docs/assets/") >= 4


def test_cors_allows_only_the_configured_origins(sample_client: FlaskClient):
    allowed = sample_client.get("/api/kpis", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = sample_client.get("/api/kpis", headers={"Origin": "http://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = sample_client.options(
        "/api/kpis",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    for response in (allowed, other, preflight):
        assert response.headers.get("Access-Control-Allow-Origin") != "*"


def test_index_links_every_endpoint(small_app: APIFlask):
    client = small_app.test_client()
    for path in ("/", "/api"):
        data = data_of(client.get(path))
        assert data["name"] == "salesdash"
        assert data["docs"].endswith("/api/docs") and data["openapi"].endswith("/api/openapi.json")
        paths = {e["path"] for e in data["endpoints"]}
        rules = {r.rule for r in small_app.url_map.iter_rules() if not r.endpoint.endswith("static")}
        assert paths == rules
        assert all(
            e["description"]
            for e in data["endpoints"]
            if e["path"].startswith("/api/") and "docs" not in e["path"] and "openapi" not in e["path"]
        )


def test_health_reports_the_database(small_app: APIFlask, small_engine: Engine):
    data = data_of(small_app.test_client().get("/api/health"))
    assert data["status"] == "ok" and data["database"] == "reachable" and data["data_loaded"] is True


def test_head_requests_work(sample_client: FlaskClient):
    response = sample_client.head("/api/kpis")
    assert response.status_code == 200 and response.get_data() == b""


def test_bad_multipart_is_a_clean_error(small_app: APIFlask, tokens):
    response = small_app.test_client().post(
        "/api/data-refresh",
        headers={"Authorization": f"Bearer {tokens['admin']}", "Content-Type": "multipart/form-data"},
        data=b"--nope\r\nbroken",
    )
    assert_error(response, 400, "invalid_parameter", "file")
    raw = small_app.test_client().post(
        "/api/data-refresh",
        headers={"Authorization": f"Bearer {tokens['admin']}", "Content-Type": "text/csv"},
        data=b"ORDERNUMBER\n1\n",
    )
    assert_error(raw, 400, "invalid_parameter", "file")
