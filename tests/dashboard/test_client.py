"""The dashboard's API client against the real API (and real sockets for the failure cases)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from benchmarks.reliability.common import free_port
from salesdash.dashboard.client import ApiClient, ApiRequestError, ApiUnavailable
from tests.dashboard.conftest import LiveApi


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a hung API."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


def test_get_returns_data_meta_and_the_exact_url(live_api: LiveApi) -> None:
    client = ApiClient(live_api.url, timeout=10)
    result = client.get("/api/kpis", {"country": ["France"], "status": []})
    assert result.url == f"{live_api.url}/api/kpis?country=France"
    expected = live_api.get("/api/kpis", country="France")
    assert result.data["revenue"] == expected["data"]["revenue"]
    assert result.data_version == expected["meta"]["data_version"]


def test_csv_is_the_api_csv(live_api: LiveApi) -> None:
    client = ApiClient(live_api.url, timeout=10)
    body = client.get_csv("/api/sales-by-country", {"dealsize": ["Large"]}).decode()
    header = body.splitlines()[0].split(",")
    assert header[:2] == ["country", "iso3"]
    countries = {r["country"] for r in live_api.get("/api/sales-by-country", dealsize="Large")["data"]}
    assert len(body.strip().splitlines()) == len(countries) + 1


def test_api_error_envelope_becomes_a_clear_error(live_api: LiveApi) -> None:
    client = ApiClient(live_api.url, timeout=10)
    with pytest.raises(ApiRequestError) as caught:
        client.get("/api/kpis", {"country": ["Atlantis"]})
    err = caught.value
    assert err.status == 400
    assert "Atlantis" in err.message
    assert err.hint
    assert err.url.endswith("country=Atlantis")


def test_api_down_is_unavailable_with_what_to_do() -> None:
    client = ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ApiUnavailable) as caught:
        client.get("/api/version")
    assert "Cannot reach the API" in caught.value.message
    assert "salesdash serve" in caught.value.hint


def test_a_hung_api_times_out(silent_server: str) -> None:
    client = ApiClient(silent_server, timeout=0.5)
    with pytest.raises(ApiUnavailable) as caught:
        client.get("/api/version")
    assert "did not answer within 0.5 seconds" in caught.value.message
    assert "SALESDASH_REQUEST_TIMEOUT" in caught.value.hint


def test_refresh_needs_an_admin_token(live_api: LiveApi) -> None:
    client = ApiClient(live_api.url, timeout=10)
    with pytest.raises(ApiRequestError) as caught:
        client.post("/api/data-refresh", token="not-a-token")
    assert caught.value.status == 401
    assert "admin token" in caught.value.hint
