"""Fixtures for reports, alerts, metrics and the audit log: a real SMTP server (aiosmtpd) and a real HTTP
webhook receiver, each on a free 127.0.0.1 port, and a fresh store holding the bundled sample."""

from __future__ import annotations

import email
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from benchmarks.reliability.common import free_port
from salesdash.ingest import ingest_file
from tests.conftest import SAMPLE_CSV


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds (no fixed sleeps: the deadline is generous, the poll is short)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class SmtpSink:
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[object] = field(default_factory=list)  # the AUTH login of each message's session (or None)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.logins.append(session.login_data if session.authenticated else None)
        return "250 OK"

    def start(self) -> SmtpSink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_later() -> Iterator[SmtpSink]:
    """An SMTP server on a free port that is NOT started yet (SMTP down; ``start()`` brings it up)."""
    sink = SmtpSink(free_port())
    yield sink
    sink.stop()


@dataclass
class WebhookSink:
    server: ThreadingHTTPServer
    bodies: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            assert self.headers.get("Content-Type") == "application/json"
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield WebhookSink(server, bodies)
    server.shutdown()
    server.server_close()


@pytest.fixture
def loaded_engine(fresh_engine: Engine) -> Engine:
    """A fresh store (each engine) holding the bundled sample; tests may write schedules and alerts to it."""
    ingest_file(fresh_engine, SAMPLE_CSV)
    return fresh_engine


def attachments(message: Message) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for part in message.walk():
        if part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[str(part.get_filename())] = payload
    return out


def body_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")
