"""Inputs at the edges of what parses: every date the calendar holds (0001-01-01 .. 9999-12-31) on every read
endpoint and /api/export gives a 200 or a clear 4xx in the error envelope, never a 500; JSON nested past the
limit is a 400; a 413 names the limit that was hit (form parts, a text field, the body); an over-long request
line gets exactly what docs/api.md says."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from benchmarks.reliability.common import start_server
from salesdash.api.http import MAX_FORM_FIELD_BYTES, MAX_FORM_PARTS, MAX_JSON_DEPTH
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.api.conftest import app_for, assert_error
from tests.conftest import SMALL_CSV

EDGE_DATES = [
    "start=9999-12-31",
    "start=9999-12-02",
    "end=9999-12-31",
    "start=9999-12-01&end=9999-12-31",
    "start=0001-01-01&end=9999-12-31",
    "start=0001-01-01&end=0001-01-31",
    "start=9998-12-31&end=9999-01-01",
]
EXPORTS = ["/api/export?view=kpis&format=csv", "/api/export?view=sales-over-time&format=csv"]


def read_endpoints(client: FlaskClient) -> list[str]:
    rules = client.application.url_map.iter_rules()
    paths = {
        r.rule
        for r in rules
        if "GET" in (r.methods or set())
        and r.rule.startswith("/api")
        and "<" not in r.rule
        and not r.rule.startswith(("/api/docs", "/api/openapi"))
    }
    return sorted(paths)


@pytest.mark.parametrize("query", EDGE_DATES)
def test_edge_dates_are_a_200_or_a_clear_4xx_everywhere(sample_client: FlaskClient, query: str):
    paths = read_endpoints(sample_client)
    assert len(paths) >= 15
    for path in paths + EXPORTS:
        if sample_client.get(path).status_code in (401, 403):
            continue  # admin-only (audit, alerts, reports): refused before any parameter is read
        url = path + ("&" if "?" in path else "?") + query
        response = sample_client.get(url)
        if response.status_code != 200:
            assert response.status_code in (400, 404, 422), (url, response.status_code)
            assert_error(response, response.status_code)


# ---- request bodies at and past their limits ------------------------------------------------------------------


@pytest.fixture
def admin_client(tmp_path: Path) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    """An app over small.csv in SQLite (body limits do not depend on the engine) and an admin token."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bodies.db'}")
    ingest_file(engine, SMALL_CSV)
    token = create_token(engine, "admin", "edge inputs")
    yield app_for(engine, require_auth=True).test_client(), {"Authorization": f"Bearer {token}"}
    engine.dispose()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_500(admin_client: tuple[FlaskClient, dict[str, str]], depth: int):
    client, headers = admin_client
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = client.post(
            "/api/uploads/0123/confirm", data=body, headers=headers, content_type="application/json"
        )
        error = assert_error(response, 400, code="invalid_parameter")
        assert f"nested more than {MAX_JSON_DEPTH} levels deep" in error["message"]


def test_json_within_the_depth_limit_reaches_the_endpoint(admin_client: tuple[FlaskClient, dict[str, str]]):
    client, headers = admin_client
    body = {"mode": "replace", "confirm": "yes", "x": [[[[1]]]]}
    response = client.post("/api/uploads/0123/confirm", json=body, headers=headers)
    assert response.status_code in (400, 404)  # judged by the endpoint (no such upload / unknown field)
    assert "nested" not in response.get_json()["error"]["message"]


def test_a_form_with_too_many_parts_is_a_413_naming_the_part_limit(
    admin_client: tuple[FlaskClient, dict[str, str]],
):
    client, headers = admin_client
    data = {f"field{i}": "x" for i in range(5_000)}
    response = client.post("/api/uploads", data=data, headers=headers, content_type="multipart/form-data")
    error = assert_error(response, 413, code="payload_too_large")
    assert error["message"].startswith(f"The form has more than {MAX_FORM_PARTS:,} parts")
    assert "SALESDASH_MAX_UPLOAD_MB" not in error["message"]


def test_a_big_text_field_is_a_413_naming_the_field_limit(admin_client: tuple[FlaskClient, dict[str, str]]):
    client, headers = admin_client
    data = {"note": "x" * (2 << 20), "file": (io.BytesIO(SMALL_CSV.read_bytes()), "small.csv")}
    response = client.post("/api/uploads", data=data, headers=headers, content_type="multipart/form-data")
    error = assert_error(response, 413, code="payload_too_large")
    assert error["message"].startswith(
        f"A text field of the form is larger than {MAX_FORM_FIELD_BYTES // 1024:,} KiB"
    )


def test_a_body_over_the_upload_limit_is_a_413_naming_that_limit(
    admin_client: tuple[FlaskClient, dict[str, str]],
):
    client, headers = admin_client
    data = {"file": (io.BytesIO(b"a" * (21 << 20)), "big.csv")}  # the test app allows 20 MiB
    response = client.post("/api/uploads", data=data, headers=headers, content_type="multipart/form-data")
    error = assert_error(response, 413, code="payload_too_large")
    assert (
        error["message"] == "The request body is larger than the limit (20 MiB); see SALESDASH_MAX_UPLOAD_MB."
    )


@pytest.mark.e2e
def test_an_over_long_request_line_is_what_docs_api_md_says(tmp_path: Path):
    """Request line plus headers over 64 KiB are refused by the server (waitress) before the API sees them, with
    the same JSON envelope (431, as docs/api.md says); a 9,000-byte line reaches the API and gets its envelope."""
    database = f"sqlite:///{tmp_path / 'edge.db'}"
    engine = make_engine(database)
    ingest_file(engine, SMALL_CSV)
    engine.dispose()
    server = start_server(tmp_path, database)
    try:
        host, port = server.url.removeprefix("http://").split(":")

        def raw(query_bytes: int) -> bytes:
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                sock.sendall(b"GET /api/kpis?x=" + b"a" * query_bytes + b" HTTP/1.1\r\nHost: x\r\n")
                sock.sendall(b"Connection: close\r\n\r\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            return data

        long_line, short_line = raw(70_000), raw(9_000)
    finally:
        server.stop()
    head, _, body = long_line.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") or head.startswith(b"HTTP/1.0 431"), head
    assert b"Content-Type: application/json" in head
    assert b'"code": "request_header_fields_too_large"' in body
    assert b"Content-Type: application/json" in short_line.partition(b"\r\n\r\n")[0]
    assert b'"code": "invalid_parameter"' in short_line  # unknown parameter x: the API's own envelope
