"""`salesdash serve`: the API under waitress (one process, ``settings.api_threads`` application threads).

Why waitress: its event loop (one thread) reads every request whole, headers and body, before a request reaches
an application thread, so a client that opens a connection and sends its headers slowly (or never finishes
them) holds no thread; 200 such sockets leave /api/health and /api/kpis answering at once. Connections that send
nothing for ``settings.api_client_timeout`` seconds (an idle keep-alive connection or a half-sent request) are
closed. Gunicorn's threaded worker, used before, reads the headers in an application thread: 8 half-open sockets
held its 8 threads and the API stopped answering for as long as they stayed.

One process because a DuckDB file may be opened by one process at a time; threads give the concurrency (the
metric queries release the GIL in the database drivers), as before. SIGTERM and SIGINT both stop gracefully: the
server stops accepting, requests in flight are finished and their answers sent (up to ``GRACEFUL_SECONDS``),
then the process exits 0. Flask's debug server is used only when ``settings.debug`` is on (which the settings
refuse off loopback).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from salesdash.config import Settings
from salesdash.errors import ConfigError
from salesdash.lifecycle import ignore_stop_signals

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 20
MIB = 1024 * 1024
# The app refuses an upload over SALESDASH_MAX_UPLOAD_MB with its 413 envelope; waitress reads a body before the
# app sees it, so its own ceiling sits well above the app's limit (a body past it gets waitress' plain-text 413).
BODY_CEILING_FACTOR = 4
BODY_CEILING_FLOOR_MIB = 1024
# How often waitress looks for connections idle past the client timeout (at most this late in closing them).
CLEANUP_SECONDS = 1
LOOP_TICK_SECONDS = 0.5


def build_app(settings: Settings) -> Any:
    """The WSGI app, with a warning when there is no data yet (the database may also be down at start)."""
    from salesdash.api import create_app
    from salesdash.store import current_version_label

    app = create_app(settings)
    try:
        if current_version_label(app.extensions["salesdash"].engine) is None:
            log.warning("No data loaded yet: run `salesdash ingest` (data endpoints answer 503 until then).")
    except Exception as exc:  # the database may be down at start; /api/health reports it
        log.warning("Cannot read the data version yet: %s", exc)
    if settings.scheduler_enabled:  # in this process: a DuckDB file opens in one process only
        from salesdash.reports.scheduler import start_background

        app.extensions["salesdash.scheduler"] = start_background(app.extensions["salesdash"].engine, settings)
    if settings.stream_enabled:  # likewise: the consumer shares the API's engine
        start_stream_consumer(app)
    return app


def envelope_error(error: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    """The JSON envelope (and the security headers) for an error the server itself answers, before the app sees
    the request: not valid HTTP (400), headers over 64 KiB (431), a body past the server's ceiling (413),
    an unsupported transfer coding (501)."""
    from salesdash.api.envelope import CODES, error_body
    from salesdash.api.http import API_CSP, SECURITY_HEADERS

    status = int(error.code)
    message = f"{error.reason}: {error.body}."
    if status == 431:
        message += " Send shorter headers (a long filter list fits in the query string)."
    body = json.dumps(error_body(status, CODES.get(status, "bad_request"), message)).encode()
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    headers += [*SECURITY_HEADERS.items(), ("Content-Security-Policy", API_CSP)]
    return f"{status} {error.reason}", headers, body


def _channel_class() -> type:
    """waitress' connection class with its error answers in the envelope."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class EnvelopeErrorTask(ErrorTask):
        def execute(self) -> None:
            status, headers, body = envelope_error(self.request.error)
            self.status = status
            self.response_headers.extend(headers)
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class Channel(HTTPChannel):
        error_task_class = EnvelopeErrorTask

    return Channel


def server_options(settings: Settings) -> dict[str, Any]:
    """waitress adjustments for ``settings`` (one place, so the tests and the docs read the same numbers)."""
    body_ceiling = max(settings.max_upload_mb * BODY_CEILING_FACTOR, BODY_CEILING_FLOOR_MIB) * MIB
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        "threads": settings.api_threads,
        "connection_limit": settings.api_max_connections,
        "channel_timeout": settings.api_client_timeout,
        "cleanup_interval": CLEANUP_SECONDS,
        "asyncore_use_poll": True,  # select() stops at 1024 file descriptors
        "max_request_body_size": body_ceiling,
        "max_request_header_size": 64 * 1024,
        # reading ahead lets waitress notice a client that hangs up mid-request
        # (environ["waitress.client_disconnected"]): an abandoned export stops rendering
        "channel_request_lookahead": 1,
        "ident": "salesdash",
        "expose_tracebacks": False,
        # The scheme a loopback proxy reports is believed (as gunicorn's forwarded_allow_ips did); nothing else.
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": {"x-forwarded-proto"},
        "clear_untrusted_proxy_headers": True,
        "log_untrusted_proxy_headers": False,
    }


class Server:
    """A waitress server with a graceful stop: :meth:`run` until :meth:`stop` (or SIGTERM/SIGINT)."""

    def __init__(self, settings: Settings, app: Any | None = None) -> None:
        from waitress.server import create_server

        self.settings = settings
        self.app = app if app is not None else build_app(settings)
        try:
            self.server: Any = create_server(self.app, **server_options(settings))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {settings.api_host}:{settings.api_port}: {exc.strerror or exc} "
                "(choose another with --port or SALESDASH_API_PORT)"
            ) from None
        self.server.channel_class = _channel_class()
        self.port = int(self.server.effective_port)
        self._stopping = threading.Event()

    def stop(self, *_: object) -> None:
        """Stop serving (a signal handler: a second signal, or one that arrives while the process exits after
        the server has closed its sockets, is a no-op)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with contextlib.suppress(OSError):  # the wake-up pipe is already closed once the server has shut down
            self.server.pull_trigger()  # wake the event loop now

    def _loop_once(self, timeout: float) -> None:
        from waitress import wasyncore

        wasyncore.loop(timeout=timeout, map=self.server._map, use_poll=True, count=1)

    def _busy(self) -> bool:
        channels = list(self.server.active_channels.values())
        return any(ch.requests or ch.total_outbufs_len for ch in channels)

    def run(self) -> None:
        from waitress import wasyncore

        try:
            while not self._stopping.is_set():
                self._loop_once(LOOP_TICK_SECONDS)
            # Graceful stop: no new connections; finish what is in flight and send it.
            self.server.accepting = False
            self.server.del_channel()
            self.server.socket.close()
            deadline = time.monotonic() + GRACEFUL_SECONDS
            while self._busy() and time.monotonic() < deadline:
                self._loop_once(0.1)
            if self._busy():
                log.warning("Stopped with requests still running after %d s.", GRACEFUL_SECONDS)
        finally:
            self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            wasyncore.close_all(self.server._map)
            close_app(self.app)


def close_app(app: Any) -> None:
    """Stop what the app runs besides requests (the scheduler, the stream consumer, work a request left behind)
    and close its store, before the interpreter exits (see :meth:`ApiState.close`)."""
    from salesdash.api.state import EXTENSION

    scheduler = app.extensions.pop("salesdash.scheduler", None)
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=True)  # a report or alert run in progress finishes
    consumer = app.extensions.get("salesdash.stream")
    if consumer is not None:
        consumer.stop()
    state = app.extensions.get(EXTENSION)
    if state is not None:
        state.close(GRACEFUL_SECONDS)


def start_stream_consumer(app: Any) -> None:
    """Consume the live order feed in this process (SALESDASH_STREAM_ENABLED): with DuckDB the API holds the
    database file, so the consumer must share its engine. Stopped by :func:`close_app` when the server stops."""
    from salesdash.stream.consumer import StreamConsumer, default_hooks

    state = app.extensions["salesdash"]
    consumer = StreamConsumer(
        state.settings, state.engine, after_batch=default_hooks(state.settings, state.engine)
    )
    thread = consumer.start_thread()
    app.extensions["salesdash.stream"] = consumer
    state.background.add(thread)  # close_app stops the consumer, then waits for it
    log.info("consuming the live order feed %s in the API process", state.settings.stream_subject)


def serve(settings: Settings) -> None:
    """Serve the API until SIGINT/SIGTERM."""
    print(
        f"salesdash API on http://{settings.api_host}:{settings.api_port}/api "
        f"(docs: /api/docs; {settings.api_threads} threads)",
        flush=True,
    )
    if settings.debug:
        from salesdash.api import create_app

        app = create_app(settings)
        if settings.stream_enabled:
            start_stream_consumer(app)
        try:
            app.run(
                host=settings.api_host, port=settings.api_port, debug=True, use_reloader=False, threaded=True
            )
        finally:
            close_app(app)  # as the production server does when it stops
        return
    server = Server(settings)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.run()
    finally:
        ignore_stop_signals()
