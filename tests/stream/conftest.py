"""Fixtures of the live-orders tests: the machine's NATS server (it must answer), unique stream names per test,
a private nats-server for restart tests, and a consumer thread with a deadline-polling wait."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import Engine, func, select

from benchmarks.reliability.common import free_port
from salesdash.config import Settings, load_settings
from salesdash.store import has_schema, snapshot
from salesdash.store.schema import order_lines
from salesdash.stream.consumer import StreamConsumer, dead_letter_stream

NATS_HOST, NATS_PORT = "127.0.0.1", 4222
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def nats_answers(host: str = NATS_HOST, port: int = NATS_PORT, timeout: float = 2.0) -> bool:
    """Whether a NATS server greets on host:port (its first line is INFO {...})."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


@pytest.fixture(scope="session")
def nats_url() -> str:
    if not nats_answers():
        pytest.fail(
            f"NATS (with JetStream) does not answer at {NATS_HOST}:{NATS_PORT}: the live-orders tests need it. "
            f"Start one: {NATS_SERVER} -a 127.0.0.1 -p 4222 -js",
            pytrace=False,
        )
    return f"nats://{NATS_HOST}:{NATS_PORT}"


def stream_settings(url: str, db_url: str, **overrides: Any) -> Settings:
    """Settings with a stream, subjects and durable of their own (parallel tests never share them)."""
    tag = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "database_url": db_url,
        "stream_url": url,
        "stream_name": f"TEST_{tag}",
        "stream_subject": f"test.{tag}.orders",
        "stream_dead_letter_subject": f"test.{tag}.dead",
        "stream_durable": f"test-{tag}",
        "stream_batch_size": 500,
        "stream_batch_seconds": 0.3,
        "stream_ack_wait_seconds": 10,  # a loaded machine may take seconds per batch (re-delivery is harmless)
    }
    values.update(overrides)
    return load_settings(**values)


async def _delete_streams(settings: Settings) -> None:
    nc = await nats.connect(servers=[settings.stream_url], connect_timeout=2, max_reconnect_attempts=1)
    js = nc.jetstream()
    for name in (settings.stream_name, dead_letter_stream(settings)):
        with contextlib.suppress(NotFoundError):  # never created
            await js.delete_stream(name)
    await nc.close()


@pytest.fixture
def make_settings(nats_url: str, db_url: str) -> Iterator[Callable[..., Settings]]:
    made: list[Settings] = []

    def make(**overrides: Any) -> Settings:
        settings = stream_settings(nats_url, db_url, **overrides)
        made.append(settings)
        return settings

    yield make
    for settings in made:
        host, port = settings.stream_url.removeprefix("nats://").rsplit(":", 1)
        if nats_answers(host, int(port)):  # a private server may be stopped already
            asyncio.run(_delete_streams(settings))


def line_count(engine: Engine) -> int:
    if not has_schema(engine):
        return 0
    with snapshot(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy or the deadline passes (a wait for an event, not a sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def run_consumer() -> Iterator[Callable[..., StreamConsumer]]:
    """Start consumers in threads; every one is stopped (and joined) at the end of the test."""
    running: list[tuple[StreamConsumer, Any]] = []

    def start(settings: Settings, engine: Engine, **kwargs: Any) -> StreamConsumer:
        consumer = StreamConsumer(settings, engine, **kwargs)
        running.append((consumer, consumer.start_thread()))
        return consumer

    yield start
    for consumer, thread in running:
        consumer.stop()
        thread.join(timeout=30)


class PrivateNats:
    """A nats-server of this test on a free port with its own JetStream directory (stop/start at will)."""

    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: nats_answers(port=self.port), 20, "the private nats-server to answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()
