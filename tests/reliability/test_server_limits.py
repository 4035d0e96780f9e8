"""Limits and headers as a client meets them on the real server (`salesdash serve`, waitress) over HTTP: an upload
over SALESDASH_MAX_UPLOAD_MB is a 413 envelope (not a reset connection), with or without a token, on every upload
endpoint; every kind of response carries the security headers; a cross-origin write from an unknown origin gets
no CORS grant."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from benchmarks.reliability.common import Server, start_server
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.conftest import SMALL_CSV

pytestmark = pytest.mark.e2e

UPLOAD_ENDPOINTS = ("/api/data-refresh", "/api/uploads")
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, Path]]:
    workdir = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{workdir / 'limits.db'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    admin = create_token(engine, "admin", "limits")
    engine.dispose()
    big = workdir / "big.csv"
    big.write_bytes(SMALL_CSV.read_bytes() * 6000)  # ~9 MB, over the 1 MiB limit below
    server = start_server(workdir, url, max_upload_mb="1", api_threads="4")
    yield server, admin, big
    assert server.stop() == 0, server.output()
    assert "Traceback" not in server.output()


@pytest.mark.parametrize("endpoint", UPLOAD_ENDPOINTS)
@pytest.mark.parametrize("authorised", [True, False], ids=["admin", "anonymous"])
def test_upload_over_the_limit_is_413_or_401_never_a_reset(
    served: tuple[Server, str, Path], endpoint: str, authorised: bool
):
    server, admin, big = served
    before = server.get("/api/version").json()["data"]
    headers = {"Authorization": f"Bearer {admin}"} if authorised else {}
    with big.open("rb") as fh:
        response = requests.post(
            server.url + endpoint, headers=headers, files={"file": ("big.csv", fh, "text/csv")}, timeout=60
        )
    expected = 413 if authorised else 401
    assert response.status_code == expected, response.text[:300]
    error = response.json()["error"]
    assert error["status"] == expected
    if authorised:
        assert error["code"] == "payload_too_large"
        assert "SALESDASH_MAX_UPLOAD_MB" in error["message"]
    assert server.get("/api/version").json()["data"] == before  # nothing changed
    assert server.get("/api/kpis").status_code == 200  # and the server still answers


def test_security_headers_on_every_kind_of_response(served: tuple[Server, str, Path]):
    server, _, _ = served
    responses = {
        "200": server.get("/api/kpis"),
        "csv": server.get("/api/top-customers", params={"format": "csv"}),
        "400": server.get("/api/kpis", params={"nope": "1"}),
        "401": requests.post(server.url + "/api/data-refresh", timeout=30),
        "404": server.get("/api/does-not-exist"),
        "405": requests.delete(server.url + "/api/kpis", timeout=30),
    }
    for kind, response in responses.items():
        for header in SECURITY_HEADERS:
            assert response.headers.get(header), f"{kind}: no {header}"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Traceback" not in response.text


def test_cross_origin_write_from_an_unknown_origin_is_not_granted(served: tuple[Server, str, Path]):
    server, _, _ = served
    preflight = requests.options(
        server.url + "/api/data-refresh",
        headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    allowed = requests.options(
        server.url + "/api/data-refresh",
        headers={
            "Origin": "http://127.0.0.1:8501",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
        timeout=30,
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:8501"
    assert allowed.headers.get("Access-Control-Allow-Credentials") != "true"


def test_errors_the_server_answers_itself_are_the_envelope(served: tuple[Server, str, Path]):
    """Requests refused before the app sees them (not HTTP, headers over 64 KiB) get the same JSON envelope and
    security headers as the app's errors, never a plain-text page."""
    server, _, _ = served
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400") or head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(body)["error"]["status"] == 400
    assert b"Content-Type: application/json" in head
    huge = requests.get(server.url + "/api/kpis", headers={"X-Huge": "h" * 70_000}, timeout=30)
    assert huge.status_code == 431
    assert huge.json()["error"]["code"] == "request_header_fields_too_large"
    for header in SECURITY_HEADERS:
        assert huge.headers.get(header), header
    assert server.get("/api/kpis").status_code == 200
