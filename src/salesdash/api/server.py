"""`salesdash serve`: the API under gunicorn (one worker process, ``settings.api_threads`` threads).

One process because a DuckDB file may be opened by one process at a time; threads give the concurrency (the
metric queries release the GIL in the database drivers). The app is built inside the worker, so the arbiter
never opens the database. SIGTERM and SIGINT both stop gracefully: requests in flight are finished (up to
``GRACEFUL_SECONDS``) before the process exits. Flask's debug server is used only when ``settings.debug`` is on
(which the settings refuse off loopback).
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from salesdash.config import Settings

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 20
REQUEST_TIMEOUT_SECONDS = 600  # a refresh of a large upload may take minutes; threads keep the worker alive


class GracefulArbiter(Arbiter):
    """Gunicorn's arbiter, with Ctrl-C (SIGINT) as graceful as SIGTERM."""

    def handle_int(self) -> None:
        self.handle_term()


class SalesdashServer(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        level = s.log_level.lower()
        options: dict[str, Any] = {
            "bind": [f"[{s.api_host}]:{s.api_port}" if ":" in s.api_host else f"{s.api_host}:{s.api_port}"],
            "workers": 1,
            "worker_class": "gthread",
            "threads": s.api_threads,
            "timeout": REQUEST_TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_SECONDS,
            "keepalive": 5,
            "loglevel": level,
            "errorlog": "-",
            "accesslog": "-" if level == "debug" else None,
            "proc_name": "salesdash-api",
            "preload_app": False,
            "limit_request_line": 8190,
            "forwarded_allow_ips": "127.0.0.1,::1",
            # gunicorn's control socket is one per user by default; several servers (tests, a second
            # instance) would fight over it, and salesdash does not use it.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from salesdash.api import create_app
        from salesdash.store import current_version_label

        app = create_app(self.settings)
        try:
            if current_version_label(app.extensions["salesdash"].engine) is None:
                log.warning(
                    "No data loaded yet: run `salesdash ingest` (data endpoints answer 503 until then)."
                )
        except Exception as exc:  # the database may be down at start; /api/health reports it
            log.warning("Cannot read the data version yet: %s", exc)
        if self.settings.scheduler_enabled:  # in this process: a DuckDB file opens in one process only
            from salesdash.reports.scheduler import start_background

            start_background(app.extensions["salesdash"].engine, self.settings)
        if self.settings.stream_enabled:
            start_stream_consumer(app)
        return app

    def run(self) -> None:
        GracefulArbiter(self).run()


def start_stream_consumer(app: Any) -> None:
    """Consume the live order feed in this process (SALESDASH_STREAM_ENABLED): with DuckDB the API holds the
    database file, so the consumer must share its engine. Stopped when the worker exits."""
    import atexit

    from salesdash.stream.consumer import StreamConsumer, default_hooks

    state = app.extensions["salesdash"]
    consumer = StreamConsumer(
        state.settings, state.engine, after_batch=default_hooks(state.settings, state.engine)
    )
    thread = consumer.start_thread()
    app.extensions["salesdash.stream"] = consumer

    def stop() -> None:
        consumer.stop()
        thread.join(timeout=GRACEFUL_SECONDS)

    atexit.register(stop)
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
        app.run(host=settings.api_host, port=settings.api_port, debug=True, use_reloader=False, threaded=True)
        return
    SalesdashServer(settings).run()
