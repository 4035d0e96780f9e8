"""What every page needs: the settings, the API client, the global filters and cached, versioned API access.

``app.py`` builds one :class:`Context` per script run (:func:`start`) and pages get it with :func:`current`.
API results are cached with ``st.cache_data`` keyed on (data version, exact URL): a new data version or a
different filter is a different key, and a failed call raises instead of returning, so it is never cached.
Under a new data version a URL is asked again with a conditional GET (``If-None-Match`` with the ETag of its
last answer): an answer the new data left unchanged is a 304 without a body.

Every answer a page draws is recorded under the live view drawing it (:func:`drawing`, used by
``components/live.py``) or under the page itself; :func:`changed_views` tells, for a new data version, which of
them changed (the rule is the pure :func:`salesdash.dashboard.live.changed_views`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from salesdash.config import Settings, load_settings
from salesdash.dashboard import live
from salesdash.dashboard.client import ApiClient, ApiError, ApiResult, Query
from salesdash.dashboard.state import FilterState
from salesdash.filters import Filter

_CTX_KEY = "_salesdash_context"
VERSION_KEY = "_salesdash_data_version"
VERSION_CHECKED_KEY = "_salesdash_version_checked"
SHOWN_KEY = "_salesdash_shown_version"  # the data version the page's answers are current for
DRAWN_KEY = "_salesdash_drawn"  # {view key (or live.PAGE): {URL: ETag of the answer drawn}}
DRAWING_KEY = "_salesdash_drawing"  # the live view being drawn now (absent: the page)


class _LastAnswers:
    """The last answer of each URL (any session of this process), for conditional GETs; least recently used
    first out."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._items: OrderedDict[str, ApiResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> ApiResult | None:
        with self._lock:
            found = self._items.get(url)
            if found is not None:
                self._items.move_to_end(url)
            return found

    def put(self, url: str, result: ApiResult) -> None:
        with self._lock:
            self._items[url] = result
            self._items.move_to_end(url)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@st.cache_resource(show_spinner=False)
def _last_answers() -> _LastAnswers:
    return _LastAnswers()


@st.cache_resource(show_spinner=False)
def _client(base_url: str, timeout: float, _secret: str | None, secret_id: str) -> ApiClient:
    # ``_secret`` is not hashed into the cache key; ``secret_id`` (a digest) tells clients apart instead.
    return ApiClient(base_url, timeout=timeout, token=_secret)


@st.cache_data(show_spinner=False, max_entries=512, ttl=24 * 3600)
def _cached_get(_client: ApiClient, url: str, data_version: str) -> ApiResult:
    """One successful API answer per (data version, URL). Exceptions propagate and are not cached. A URL
    answered before is asked conditionally: a 304 (the new data left the answer as it was) returns the last
    answer again, with the ETag it was drawn with."""
    last = _last_answers()
    result = _client.get_url(url, known=last.get(url))
    last.put(url, result)
    return result


@st.cache_data(show_spinner=False, max_entries=64, ttl=24 * 3600)
def _cached_csv(
    _client: ApiClient, path: str, query: tuple[tuple[str, Any], ...], data_version: str
) -> bytes:
    return _client.get_csv(path, dict(query))


PREFETCH_THREADS = 6  # API calls of one page started at once (the Overview has six)
Call = tuple[
    str, Query | None, bool
]  # an API call of a page: path, extra parameters, with the global filters


@st.cache_resource(show_spinner=False)
def _prefetch_pool() -> ThreadPoolExecutor:
    """One pool per dashboard process for :meth:`Context.prefetch` (its threads keep their keep-alive
    connections to the API)."""
    return ThreadPoolExecutor(max_workers=PREFETCH_THREADS, thread_name_prefix="salesdash-prefetch")


def _prefetch_one(client: ApiClient, url: str, data_version: str) -> None:
    # a failed call is not cached: the page's own fetch() asks again and shows the error where it belongs
    with contextlib.suppress(ApiError):
        _cached_get(client, url, data_version)


def clear_cache() -> None:
    """Forget every cached API answer (selections live in widget state and are kept)."""
    _cached_get.clear()
    _cached_csv.clear()
    _last_answers().clear()


def new_run() -> None:
    """A full run draws every view again: forget what the last run drew."""
    st.session_state[DRAWN_KEY] = {}
    st.session_state.pop(DRAWING_KEY, None)


def _record(result: ApiResult) -> ApiResult:
    """Note that the view being drawn (or the page) shows ``result``."""
    drawn = st.session_state.setdefault(DRAWN_KEY, {})
    drawn.setdefault(st.session_state.get(DRAWING_KEY, live.PAGE), {})[result.url] = result.etag
    return result


@contextmanager
def drawing(view: str) -> Iterator[None]:
    """Record the answers fetched inside as those of the live view ``view`` (what it drew last run is
    forgotten: a view may fetch other URLs this time)."""
    st.session_state.setdefault(DRAWN_KEY, {})[view] = {}
    outer = st.session_state.get(DRAWING_KEY)
    st.session_state[DRAWING_KEY] = view
    try:
        yield
    finally:
        if outer is None:
            st.session_state.pop(DRAWING_KEY, None)
        else:
            st.session_state[DRAWING_KEY] = outer


def has_live_views() -> bool:
    """Whether the page drawn last drew any live view (the Data pages draw none: they run whole)."""
    drawn: dict[str, dict[str, str | None]] = st.session_state.get(DRAWN_KEY, {})
    return any(view != live.PAGE for view in drawn)


def changed_views(version: str) -> list[str] | None:
    """The live views whose answers differ under data version ``version`` (each URL asked once, a 304 when
    unchanged), or None when the page itself must run again: an answer drawn outside any live view changed
    (the filter options, say), or the page has no live views. A URL the API now refuses counts as changed
    (its view reruns and shows the error)."""
    drawn: dict[str, dict[str, str | None]] = st.session_state.get(DRAWN_KEY, {})
    if not has_live_views():
        return None
    api = client()
    current: dict[str, str | None] = {}
    for url in {u for urls in drawn.values() for u in urls}:
        try:
            current[url] = _cached_get(api, url, version).etag
        except ApiError:
            current[url] = None
    changed = live.changed_views(drawn, current)
    if live.PAGE in changed:
        return None
    st.session_state[SHOWN_KEY] = version
    return changed


def version_info(client: ApiClient) -> dict[str, Any]:
    """``/api/version`` (never cached: it is how the dashboard notices new data)."""
    result = client.get("/api/version")
    data = result.data if isinstance(result.data, dict) else {}
    version = data.get("data_version") or data.get("version") or result.data_version
    return {**data, "data_version": str(version) if version is not None else "none"}


def stream_info(client: ApiClient) -> dict[str, Any]:
    """``/api/stream`` (never cached): whether a live order feed is active, and its last order. An API that
    cannot tell (an older one, or a failed call) counts as no live feed."""
    try:
        result = client.get("/api/stream")
    except ApiError:
        return {}
    return result.data if isinstance(result.data, dict) else {}


@dataclass
class Context:
    settings: Settings
    client: ApiClient
    filters: FilterState
    version: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def data_version(self) -> str:
        """The data version the page shows: the run's, or the newer one a live update moved it to."""
        return str(st.session_state.get(SHOWN_KEY) or self.version.get("data_version", "none"))

    def query(self, extra: Query | None = None, *, filtered: bool = True) -> dict[str, Any]:
        query: dict[str, Any] = dict(self.filters.to_query()) if filtered else {}
        query.update({k: v for k, v in (extra or {}).items() if v is not None})
        return query

    def api_url(self, path: str, extra: Query | None = None, *, filtered: bool = True) -> str:
        """The exact API URL of a view (shown under "API call")."""
        return self.client.url(path, self.query(extra, filtered=filtered))

    def fetch(self, path: str, extra: Query | None = None, *, filtered: bool = True) -> ApiResult:
        """GET an API endpoint with the global filters (plus ``extra`` parameters), cached per data version."""
        url = self.api_url(path, extra, filtered=filtered)
        return _record(_cached_get(self.client, url, self.data_version))

    def prefetch(self, calls: Sequence[Call]) -> list[Future[None]]:
        """Start the API calls a page is about to make, all at once, into the cache :meth:`fetch` reads; returns
        at once (with the calls' futures, which a page need not wait for). The page then draws in its own
        order: a fetch of a call still in flight waits for that one answer (``st.cache_data`` computes a key
        once), so the page waits for the slowest call instead of the sum of them. A call the page then does
        not make only warms the caches; a failed one is not cached (the page's fetch asks again)."""
        pool = _prefetch_pool()
        urls = dict.fromkeys(self.api_url(path, extra, filtered=filtered) for path, extra, filtered in calls)
        return [pool.submit(_prefetch_one, self.client, url, self.data_version) for url in urls]

    def csv(self, path: str, extra: Query | None = None, *, filtered: bool = True) -> bytes:
        """The CSV of a tabular endpoint for the current filters (for download buttons)."""
        query = self.query(extra, filtered=filtered)
        frozen = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in query.items())
        return _cached_csv(self.client, path, frozen, self.data_version)


@functools.lru_cache(maxsize=8)
def _settings_for(environment: tuple[tuple[str, str], ...], cwd: str) -> Settings:
    return load_settings()


def settings() -> Settings:
    """Settings from the environment, read again whenever a ``SALESDASH_`` variable (or the working directory,
    which the defaults use) differs, so a test or restart sees new values. Built once per environment: a page
    run asks for them a dozen times, and building them (pydantic-settings) costs milliseconds each time."""
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("SALESDASH_")))
    return _settings_for(environment, os.getcwd())


def client() -> ApiClient:
    s = settings()
    secret = s.api_token.get_secret_value() if s.api_token else None
    secret_id = hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else ""
    return _client(s.api_url, s.request_timeout, secret, secret_id)


def check_version() -> dict[str, Any]:
    """Ask the API for the current data version (raises :class:`ApiError` when it cannot answer)."""
    info = version_info(client())
    st.session_state[VERSION_KEY] = info
    st.session_state[VERSION_CHECKED_KEY] = time.time()
    return info


def filter_options(version: dict[str, Any]) -> dict[str, Any]:
    """Every value each filter can take (``/api/filters``; changes only with the data version)."""
    api = client()
    data = _record(_cached_get(api, api.url("/api/filters"), str(version.get("data_version")))).data
    return data if isinstance(data, dict) else {}


REGISTRY_KEY = "registry"  # /api/views and /api/definitions change with the server, not with the data


def server_answer(path: str) -> ApiResult:
    """An answer that changes with the server, not with the data (``/api/definitions``): cached per API, so
    a new data version neither asks for it again nor counts it as a change of the view showing it."""
    api = client()
    return _cached_get(api, api.url(path), REGISTRY_KEY)


def views() -> dict[str, dict[str, Any]]:
    """The API's views by name (``/api/views``: title, path, chart, parameters), cached per API; {} when the
    API cannot list them (never cached, so the next run asks again)."""
    api = client()
    try:
        data = _cached_get(api, api.url("/api/views"), REGISTRY_KEY).data
    except ApiError:
        return {}
    return {str(v["name"]): v for v in data} if isinstance(data, list) else {}


FOUND_PAGE = (
    20  # values a sidebar search offers at a time (GET /api/customers?q=..., /api/product-codes?q=...)
)


def found_values(f: Filter, text: str, version: dict[str, Any]) -> list[str]:
    """The first page of values of filter ``f`` that match ``text`` (its finder endpoint, cached per data
    version and text)."""
    api = client()
    url = api.url(f.finder, {"q": text.strip(), "limit": FOUND_PAGE})
    rows = _cached_get(api, url, str(version.get("data_version"))).data
    column = f.column or f.attr
    return (
        [str(r[column]) for r in rows if isinstance(r, dict) and r.get(column)]
        if isinstance(rows, list)
        else []
    )


def start(filters: FilterState, version: dict[str, Any], options: dict[str, Any]) -> Context:
    ctx = Context(settings=settings(), client=client(), filters=filters, version=version, options=options)
    st.session_state[_CTX_KEY] = ctx
    st.session_state[SHOWN_KEY] = str(version.get("data_version", "none"))
    return ctx


def current() -> Context:
    """The context of this script run (built by app.py before the page runs)."""
    ctx = st.session_state.get(_CTX_KEY)
    if not isinstance(ctx, Context):
        raise ApiError(
            "The dashboard is not initialised yet.", hint="Open the dashboard from its home page and retry."
        )
    return ctx
