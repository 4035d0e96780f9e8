"""The ONE client the dashboard uses to talk to the salesdash REST API.

Every call has a timeout. Every failure becomes an :class:`ApiError` (or a subclass) that carries a message a
person can act on, so the dashboard can show one clear notice instead of a traceback. No Streamlit here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

# Query value: one string, or several (sent as repeated parameters, e.g. country=France&country=Spain).
QueryValue = str | int | Sequence[str] | None
Query = Mapping[str, QueryValue]


class ApiError(Exception):
    """The API did not give a usable answer. ``message`` says what happened, ``hint`` what to do."""

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        url: str = "",
        status: int | None = None,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.url = url
        self.status = status
        self.code = code
        self.details: list[dict[str, Any]] = details or []


class ApiUnavailable(ApiError):
    """The API could not be reached, or did not answer within the timeout."""


class ApiRequestError(ApiError):
    """The API answered with an error envelope (4xx/5xx)."""


@dataclass(frozen=True)
class ApiResult:
    """One successful answer: the envelope's ``data`` and ``meta`` and the exact URL that produced them."""

    data: Any
    meta: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    etag: str | None = None  # the API's validator of this answer's content (``ETag``)

    @property
    def data_version(self) -> str | None:
        value = self.meta.get("data_version")
        return str(value) if value is not None else None


def build_query(params: Query | None) -> str:
    """A canonical query string: keys in the given order, lists as repeated parameters, empties dropped."""
    if not params:
        return ""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, str(v)) for v in value if str(v) != "")
    return urlencode(pairs)


class ApiClient:
    """Thin, typed access to the API. Thread-safe: one ``requests.Session`` per thread (keep-alive).
    ``token`` (a viewer token) is sent with every call; it is needed when the API requires auth."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/json"
            session.headers.update(self._auth)
            self._local.session = session
        return session

    def url(self, path: str, params: Query | None = None) -> str:
        """The exact URL of a call (what "API call" shows and what the cache is keyed on)."""
        query = build_query(params)
        return f"{self.base_url}/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def get(self, path: str, params: Query | None = None, *, token: str | None = None) -> ApiResult:
        """GET an endpoint; ``token`` (an admin token) replaces the configured one for this call only."""
        return self.get_url(self.url(path, params), token=token)

    def get_url(self, url: str, *, token: str | None = None, known: ApiResult | None = None) -> ApiResult:
        """GET a URL. With ``known`` (an earlier answer of the same URL that has an ETag) the request is
        conditional: when the API answers 304 Not Modified, ``known`` itself is returned (nothing changed)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if known is not None and known.etag and known.url == url:
            headers["If-None-Match"] = known.etag
        response = self._request("GET", url, headers=headers)
        if response.status_code == 304 and known is not None:
            return known
        body = self._json(response, url)
        if not isinstance(body, dict) or "data" not in body:
            raise ApiRequestError(
                "The API answered in an unexpected shape (no 'data').",
                hint="Check that SALESDASH_API_URL points at a salesdash API.",
                url=url,
                status=response.status_code,
            )
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return ApiResult(data=body["data"], meta=meta or {}, url=url, etag=response.headers.get("ETag"))

    def get_csv(self, path: str, params: Query | None = None) -> bytes:
        """The CSV form of a tabular endpoint (``?format=csv``)."""
        query = dict(params or {})
        query["format"] = "csv"
        url = self.url(path, query)
        return self._request("GET", url, accept="text/csv").content

    def get_file(self, path: str, params: Query | None = None, *, timeout: float | None = None) -> bytes:
        """A file the API answers (``/api/export``: CSV, Excel, PNG, PDF), as bytes."""
        return self._request("GET", self.url(path, params), accept="*/*", timeout=timeout).content

    def post(
        self,
        path: str,
        *,
        token: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> ApiResult:
        url = self.url(path)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self._request(
            "POST", url, headers=headers, files=files, data=data, json=json, timeout=timeout
        )
        body = self._json(response, url)
        if not isinstance(body, dict):
            raise ApiRequestError("The API answered in an unexpected shape.", url=url)
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return ApiResult(data=body.get("data"), meta=meta or {}, url=url)

    def delete(self, path: str, *, token: str) -> ApiResult:
        url = self.url(path)
        response = self._request("DELETE", url, headers={"Authorization": f"Bearer {token}"})
        body = self._json(response, url)
        meta = body.get("meta") if isinstance(body, dict) and isinstance(body.get("meta"), dict) else {}
        return ApiResult(data=body.get("data") if isinstance(body, dict) else None, meta=meta or {}, url=url)

    def _request(
        self,
        method: str,
        url: str,
        *,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
        data: Any = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if accept:
            all_headers["Accept"] = accept
        wait = timeout or self.timeout
        try:
            response = self._session().request(
                method, url, headers=all_headers, files=files, data=data, json=json, timeout=wait
            )
        except requests.Timeout:
            raise ApiUnavailable(
                f"The API at {self.base_url} did not answer within {wait:g} seconds.",
                hint="It may be busy loading data. Retry in a moment; if it keeps happening, raise "
                "SALESDASH_REQUEST_TIMEOUT or check the API's log.",
                url=url,
            ) from None
        except requests.ConnectionError:
            raise ApiUnavailable(
                f"Cannot reach the API at {self.base_url}.",
                hint="Start it with `salesdash serve` (or `make run`), or set SALESDASH_API_URL to where it "
                "runs, then retry.",
                url=url,
            ) from None
        except requests.RequestException as exc:
            raise ApiUnavailable(
                f"The request to the API failed ({type(exc).__name__}).", hint="Retry in a moment.", url=url
            ) from None
        if response.status_code >= 400:
            raise self._error(response, url)
        return response

    @staticmethod
    def _json(response: requests.Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ApiRequestError(
                "The API answered with something that is not JSON.",
                hint="Check that SALESDASH_API_URL points at a salesdash API (base URL, without /api).",
                url=url,
                status=response.status_code,
            ) from None

    @staticmethod
    def _error(response: requests.Response, url: str) -> ApiError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or f"The API refused the request (HTTP {status}).")
            code = str(error.get("code")) if error.get("code") else None
            raw_details = error.get("details")
            details = [d for d in raw_details if isinstance(d, dict)] if isinstance(raw_details, list) else []
        else:
            message, code, details = f"The API answered HTTP {status}.", None, []
        hint = _hint_for(status, code)
        kind: type[ApiError] = ApiUnavailable if status in (502, 503, 504) else ApiRequestError
        return kind(message, hint=hint, url=url, status=status, code=code, details=details)


def _hint_for(status: int, code: str | None) -> str:
    if code == "no_data":
        return "Load data first: `salesdash ingest` (or the Data page's refresh), then retry."
    if status in (401, 403):
        return (
            "Check the token. Reading from an API that requires auth needs SALESDASH_API_TOKEN set to a viewer "
            "token for the dashboard; reloading data needs an admin token (`salesdash token create --role ...`)."
        )
    if code == "refresh_in_progress":
        return "Another load is running; wait for it to finish and retry."
    if code == "duplicate_order_lines":
        return "Remove those lines from the file, or replace the data instead of appending."
    if status == 409:
        return "The request conflicts with the stored data; see the message above."
    if status in (400, 404, 422):
        return "Change the filters or the input and try again."
    if status in (502, 503, 504):
        return "The API or its database is not available right now; retry in a moment."
    return "Retry; if it keeps failing, check the API's log."
