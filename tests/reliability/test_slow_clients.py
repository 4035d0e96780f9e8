"""Slow clients on the real server (`salesdash serve`) over HTTP: sockets that never finish their headers hold no
application thread (the API keeps answering with far more of them open than it has threads), and the server
closes them once they have sent nothing for SALESDASH_API_CLIENT_TIMEOUT seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from benchmarks.reliability.common import Server, start_server
from benchmarks.reliability.slow_clients import open_slow_sockets, wait_closed
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from tests.conftest import SMALL_CSV

pytestmark = pytest.mark.e2e

THREADS = 2
SLOW_SOCKETS = 100  # 50 times the application threads
CLIENT_TIMEOUT = 3


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    engine.dispose()
    server = start_server(tmp_path, url, api_threads=str(THREADS), api_client_timeout=str(CLIENT_TIMEOUT))
    yield server
    assert server.stop() == 0, server.output()
    assert "Traceback" not in server.output()


def test_half_open_sockets_hold_no_thread_and_are_closed(served: Server):
    slow = open_slow_sockets(served.url, SLOW_SOCKETS)
    try:
        # With 100 half-sent requests open on a 2-thread server, a normal client is answered (a generous client
        # timeout: the point is that it is answered at all; before, it waited for as long as the slow ones stayed).
        for path in ("/api/health", "/api/kpis", "/api/sales-by-country"):
            response = requests.get(served.url + path, timeout=20)
            assert response.status_code == 200, (path, response.text[:200])
        assert requests.get(served.url + "/api/kpis", timeout=20).json()["data"]["order_count"] > 0
        # Nothing more arrives on them, so the server closes every one (an event per socket, not a sleep).
        closed = wait_closed(slow, deadline_seconds=CLIENT_TIMEOUT * 10 + 30)
        assert len(closed) == SLOW_SOCKETS
    finally:
        for sock in slow:
            sock.close()
    assert requests.get(served.url + "/api/health", timeout=20).status_code == 200


def test_a_connection_that_keeps_sending_is_not_cut(served: Server):
    """The timeout is for silence, not for a request's length: a client that sends one header line a second
    for longer than the timeout still gets its answer."""
    (sock,) = open_slow_sockets(served.url, 1)
    try:
        started = time.monotonic()
        while time.monotonic() - started < CLIENT_TIMEOUT + 2:
            sock.sendall(b"X-Slow: still here\r\n")
            assert not wait_closed(
                [sock], deadline_seconds=1.0
            )  # paced by waiting for a close that must not come
            sock.setblocking(True)
        sock.sendall(b"Connection: close\r\n\r\n")
        sock.settimeout(20)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
