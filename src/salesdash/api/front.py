"""The front cache: a repeated data request answered before Flask's machinery, from the final bytes.

A WSGI layer around the app (``create_app`` installs it). The first time a data endpoint answers a ``GET`` with
200 (``respond.data_response`` marks the answer as storable), the whole response is kept: status, headers and
body bytes, keyed by (data version, path, canonical query string). The same request afterwards is answered
from there without routing, hooks, schema parsing or the snapshot: what is left is the data version lookup
(``VersionWatch``: on SQLite a ``PRAGMA data_version``, no query) and copying bytes.

Every guarantee of the full path holds for a stored answer, because only answers that went through it are
stored and the key holds everything they depend on:

- **validation and unknown-parameter refusal**: only 200s are stored, and the same path and parameters against
  the same data version pass the same checks (a refused request is never stored, so it is refused every time);
- **cache invalidated exactly by the data version**: the version is part of the key and is looked up on every
  request, so a load makes every stored answer unreachable at once (they age out of the LRU);
- **security headers, ETag, Cache-Control, X-Data-Version**: stored with the answer; ``X-Cache`` says ``hit``;
  ``X-Request-ID`` and ``Server-Timing`` are made for each request as the full path makes them;
- **auth, CORS, conditional requests**: the layer steps aside (the full path answers) for anything but a GET,
  when ``SALESDASH_REQUIRE_AUTH`` is on (a token must be checked on every read), for a cross-origin request
  (``Origin``: CORS headers depend on it) and for ``If-None-Match`` (the full path answers 304);
- **request metrics**: a stored answer is counted and timed under its URL rule like any other.

The layer keeps its answers in the API's one cache (``ApiState.cache``, under keys of their own), so the result
cache and the front cache share one budget: ``SALESDASH_CACHE_ENTRIES`` answers and ``respond.CACHE_BYTES``
bytes in all (0 entries turns both off); it stores no answer bigger than ``respond.MAX_CACHED_BYTES``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from salesdash.api.cache import LRUCache
from salesdash.api.http import request_id_of, server_timing
from salesdash.api.state import ApiState

log = logging.getLogger("salesdash.api.access")

# respond.data_response puts (data version, URL rule) here when its answer may be stored
STORABLE = "salesdash.front.storable"
# the headers made per request (never stored)
PER_REQUEST = frozenset({"x-request-id", "server-timing"})
HIT = ("X-Cache", "hit")
# the first part of the front cache's keys in the shared cache (the result cache's keys start with a version)
FRONT = "front"

StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Stored:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    rule: str


def canonical_query(query: str) -> str:
    """The query string with its parameters in name order (values of one name keep their order): requests that
    differ only in the order of their parameter names share one key. Nothing is decoded in the result."""
    parts = [part for part in query.split("&") if part]
    if len(parts) < 2:
        return "&".join(parts)
    parts.sort(key=lambda part: unquote_plus(part.partition("=")[0]))
    return "&".join(parts)


class FrontCache:
    """WSGI middleware around ``app.wsgi_app`` (see the module docstring)."""

    def __init__(
        self,
        app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        st: ApiState,
        metrics: Any,
        *,
        max_answer_bytes: int,
    ) -> None:
        self.app = app
        self.state = st
        self.metrics = metrics
        self.cache: LRUCache = st.cache  # one budget with the result cache (the module docstring)
        self.max_answer_bytes = max_answer_bytes
        self.hits = 0  # answers this layer gave (the shared cache's own counter adds the result cache's)

    def _key(self, environ: dict[str, Any]) -> tuple[str, str, str, str] | None:
        if (
            self.cache.size <= 0
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_ORIGIN" in environ
            or "HTTP_IF_NONE_MATCH" in environ
            or self.state.settings.require_auth
        ):
            return None
        try:
            version = self.state.version()
        except Exception:  # the full path answers with the error envelope
            return None
        if version is None:
            return None
        path, query = environ.get("PATH_INFO", ""), canonical_query(environ.get("QUERY_STRING", ""))
        return (FRONT, version, path, query)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        key = self._key(environ)
        if key is None:
            return self.app(environ, start_response)
        # a miss goes on to the result cache, which counts the request's one hit or miss
        stored: Stored | None = self.cache.get(key, count_miss=False)
        if stored is not None:
            self.hits += 1
            return self._answer(stored, environ, start_response, started)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = self.app(environ, capture)
        mark = environ.get(STORABLE)
        if mark is None or mark[0] != key[1] or not str(captured.get("status", "")).startswith("200"):
            return body
        chunks = list(body)
        close = getattr(body, "close", None)
        if close is not None:
            close()
        data = b"".join(chunks)
        if len(data) <= self.max_answer_bytes:
            headers = tuple(
                HIT if name.lower() == "x-cache" else (name, value)
                for name, value in captured["headers"]
                if name.lower() not in PER_REQUEST
            )
            self.cache.put(key, Stored(captured["status"], headers, data, mark[1]), len(data))
        return [data]

    def _answer(
        self, stored: Stored, environ: dict[str, Any], start_response: StartResponse, started: float
    ) -> Iterable[bytes]:
        request_id = request_id_of(environ.get("HTTP_X_REQUEST_ID", ""))
        elapsed = time.perf_counter() - started
        start_response(
            stored.status,
            [*stored.headers, ("X-Request-ID", request_id), ("Server-Timing", server_timing(elapsed))],
        )
        self.metrics.requests.labels(stored.rule, "GET", "200").inc()
        self.metrics.latency.labels(stored.rule).observe(elapsed)
        if log.isEnabledFor(logging.DEBUG):
            query = environ.get("QUERY_STRING", "")
            path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            log.debug("GET %s -> 200 in %.1f ms (%s, front cache)", path, elapsed * 1000, request_id)
        return [stored.body]


__all__ = ["FRONT", "STORABLE", "FrontCache", "Stored", "canonical_query"]
