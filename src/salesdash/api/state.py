"""Per-app state: settings, the engine, the result cache and the refresh lock (no globals)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from salesdash.api.cache import LRUCache
from salesdash.config import Settings
from salesdash.errors import NoData, StoreUnavailable
from salesdash.export.images import Renderer, renderer_for
from salesdash.filters import FILTERS
from salesdash.lookup import NameIndex
from salesdash.metrics import filter_options, filter_values
from salesdash.store import current_version_label_in, explain, snapshot
from salesdash.store.watch import VersionWatch

log = logging.getLogger(__name__)

EXTENSION = "salesdash"
NO_DATA_MESSAGE = (
    "No data has been loaded yet. Load a CSV with `salesdash ingest [path]` (or POST a file to "
    "/api/data-refresh with an admin token), then try again."
)


@dataclass
class ApiState:
    settings: Settings
    engine: Engine
    cache: LRUCache
    # data version -> filter options (every value each filter may take); a few versions at most
    options: LRUCache = field(default_factory=lambda: LRUCache(4))
    refresh_lock: threading.Lock = field(default_factory=threading.Lock)
    watch: VersionWatch = field(init=False)
    # work a request left running after its response (the alert check after a load); joined by close()
    background: set[threading.Thread] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.watch = VersionWatch(self.engine)

    def run_later(self, name: str, target: Callable[..., object], *args: object) -> None:
        """Run ``target(*args)`` in a thread of its own that :meth:`close` waits for."""

        def run() -> None:
            try:
                target(*args)
            finally:
                self.background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.background.add(thread)
        thread.start()

    def close(self, timeout: float) -> None:
        """End this app's use of the store: wait up to ``timeout`` seconds for background work, then close the
        engine's connections. A process must do this before the interpreter exits: a DuckDB query still running
        in a daemon thread at exit aborts the process (the thread is unwound through DuckDB's C++ code)."""
        deadline = time.monotonic() + timeout
        for thread in list(self.background):
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.background):
            log.warning("background work still running after %.0f s; closing the store anyway", timeout)
        self.engine.dispose()

    @property
    def renderer(self) -> Renderer:
        """The renderer for this app's export bounds (shared by apps with the same bounds in a process)."""
        s = self.settings
        return renderer_for(s.export_renders, s.export_queue, float(s.export_browser_idle_seconds))

    def version(self) -> str | None:
        """The current data version name, or None when nothing is loaded (one indexed lookup, or none when the
        store can tell that nothing changed since the last: ``store/watch.py``)."""
        try:
            return self.watch.label()
        except SQLAlchemyError as exc:
            # a damaged file, a full disk: one clear line
            if (known := explain(exc, self.engine)) is not None:
                log.warning("data version lookup failed: %s", known.message)
                raise known from None
            log.warning("data version lookup failed: %s", exc)
            raise StoreUnavailable(
                "The database is unreachable or not initialised; check SALESDASH_DATABASE_URL."
            ) from None

    def require_version(self) -> str:
        version = self.version()
        if version is None:
            raise NoData(NO_DATA_MESSAGE)
        return version

    def filter_options(self, version: str) -> dict[str, Any]:
        """Every value each filter can take in data version ``version`` (cached per version); the values of a
        filter with a finder (customers, product codes) as a :class:`NameIndex`, built once per version for the
        filter's check and its finder endpoint."""
        cached = self.options.get(version)
        if cached is not None:
            return dict(cached)
        with snapshot(self.engine) as conn:
            seen = current_version_label_in(conn)
            if seen is None:
                raise NoData(NO_DATA_MESSAGE)
            options = filter_options(conn, listed=False)
        # the values found as people type (customers, product codes): counted now, read and indexed once at
        # the version's first lookup
        for f in FILTERS:
            if f.finder and f.options_key and f.column:
                options[f.options_key] = NameIndex.deferred(options[f.options_key], self._values_of(f.column))
        self.options.put(seen, options)
        return dict(options)

    def _values_of(self, column: str) -> Callable[[], list[str]]:
        """Reads a filter's values when its index is first used. A load that landed since the options were read
        gives the newer values: a request of the older version checks its filter against those, as one that
        started just after the load would (the answer is computed in a snapshot of its own either way)."""

        def load() -> list[str]:
            with snapshot(self.engine) as conn:
                return filter_values(conn, column)

        return load


def client_gone() -> Callable[[], bool]:
    """True once the client of the current request has disconnected (waitress tells; elsewhere: never)."""
    check = request.environ.get("waitress.client_disconnected")
    return check if callable(check) else _never


def _never() -> bool:
    return False


def state() -> ApiState:
    value: ApiState = current_app.extensions[EXTENSION]
    return value
