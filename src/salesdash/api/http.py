"""Cross-cutting HTTP behaviour: query-name checks, security headers, CORS, request ids and timing."""

from __future__ import annotations

import logging
import time
import uuid
from types import TracebackType
from typing import IO, Any

from apiflask import APIFlask
from flask import Request, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from marshmallow import fields
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from salesdash.api import docs_ui
from salesdash.api.envelope import error_response
from salesdash.config import Settings

log = logging.getLogger("salesdash.api.access")

# JSON and CSV responses: nothing may load or frame them. (The docs page gets its own, see docs_ui.)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SKIP_QUERY_CHECK = ("openapi.", "static")
# Request body limits besides SALESDASH_MAX_UPLOAD_MB (docs/api.md "Errors"): a JSON body may nest this deep, a
# multipart form may have this many parts, and a text field (not the file) may hold this many bytes.
MAX_JSON_DEPTH = 32
MAX_FORM_PARTS = 1000
MAX_FORM_FIELD_BYTES = 1024 * 1024


def _depth(value: Any) -> int:
    """How deep ``value`` nests lists and objects (iteratively: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend(
                    (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
                )
    return deepest


def check_json_depth() -> Response | None:
    """before_request hook: refuse a JSON body nested deeper than MAX_JSON_DEPTH with a clear 400 before the
    request parser (webargs, the stdlib json module) would exhaust Python's recursion limit on it (a 500)."""
    if not request.is_json:
        return None
    try:
        current_app.json.loads(request.get_data(cache=True))
    except ValueError as exc:
        if "nested more than" not in str(exc):
            return None  # not JSON at all: the request parser says so
        return error_response(
            400, "invalid_parameter", f"Invalid request: {exc}.", [{"location": "json", "message": str(exc)}]
        )
    return None


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested deeper than MAX_JSON_DEPTH (deeper ones would exhaust Python's
    recursion limit in the parser or later): a ValueError, which Flask turns into a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        too_deep = f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(too_deep) from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise ValueError(too_deep)
        return value


def _form_limit(tb: TracebackType | None) -> str:
    """Which multipart limit werkzeug's parser hit: "parts" (the part counter is past MAX_FORM_PARTS) or
    "field" (a text field over MAX_FORM_FIELD_BYTES): read from the parser's state where it raised."""
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        parts, limit = getattr(owner, "_parts_decoded", None), getattr(owner, "max_parts", None)
        if parts is not None and limit is not None and parts > limit:
            return "parts"
        tb = tb.tb_next
    return "field"


class FormParser(FormDataParser):
    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> Any:
        try:
            return super()._parse_multipart(stream, mimetype, content_length, options)
        except RequestEntityTooLarge as exc:
            g.form_limit = _form_limit(exc.__traceback__)  # the 413 handler names the limit
            raise


class ApiRequest(Request):
    form_data_parser_class = FormParser


def _query_fields(view: Any) -> dict[str, fields.Field] | None:
    spec = getattr(view, "_spec", None)
    if spec is None:
        return None
    out: dict[str, fields.Field] = {}
    for schema, location in spec.get("args", []):
        if location == "query":
            for name, field in schema.fields.items():
                out[field.data_key or name] = field
    return out


def check_query() -> Response | None:
    """before_request hook: refuse unknown parameter names, and repeats of single-valued ones, naming them.

    Runs for every API view (also blueprints added later); the OpenAPI document and docs are exempt.
    """
    endpoint = request.endpoint or ""
    if (
        not endpoint
        or endpoint.startswith(SKIP_QUERY_CHECK)
        or endpoint.endswith(".static")
        or request.method == "OPTIONS"
    ):
        return None
    known = _query_fields(current_app.view_functions.get(endpoint))
    if known is None:
        known = {}
    details: list[dict[str, Any]] = []
    for name in request.args:
        field = known.get(name)
        if field is None:
            details.append({"parameter": name, "message": "unknown parameter", "accepted": sorted(known)})
        elif not isinstance(field, fields.List) and len(request.args.getlist(name)) > 1:
            details.append({"parameter": name, "message": "may be given only once"})
    if not details:
        return None
    names = ", ".join(repr(d["parameter"]) for d in details)
    accepted = ", ".join(sorted(known)) or "none"
    first = details[0]["message"]
    message = (
        f"Unknown parameter(s) {names}; this endpoint accepts: {accepted}."
        if first == "unknown parameter"
        else f"Parameter {names} may be given only once."
    )
    return error_response(400, "invalid_parameter", message, details)


def request_id_of(sent: str) -> str:
    """The request's id: the client's ``X-Request-ID`` (at most 64 characters), or a new one."""
    return sent[:64] or uuid.uuid4().hex[:16]


def server_timing(seconds: float) -> str:
    """The ``Server-Timing`` header of an answer that took ``seconds`` in the app."""
    return f"app;dur={seconds * 1000:.1f}"


def start_timer() -> None:
    g.started = time.perf_counter()
    g.request_id = request_id_of(request.headers.get("X-Request-ID", ""))


# On every response, the app's and the server's own (api/server.py) alike.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-site",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if request.endpoint == "openapi.docs":
        docs_ui.secure_docs_page(response)
    headers.setdefault("Content-Security-Policy", API_CSP)
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    request_id = getattr(g, "request_id", None)
    if request_id:
        headers["X-Request-ID"] = request_id
    started = getattr(g, "started", None)
    if started is not None:
        elapsed = time.perf_counter() - started
        headers["Server-Timing"] = server_timing(elapsed)
        if log.isEnabledFor(logging.DEBUG):  # the line's arguments cost more than the rest of this hook
            log.debug(
                "%s %s -> %s in %.1f ms (%s)",
                request.method,
                request.full_path.rstrip("?"),
                response.status_code,
                elapsed * 1000,
                request_id,
            )
    return response


def setup(app: APIFlask, settings: Settings) -> None:
    app.request_class = ApiRequest
    app.json = JsonProvider(app)
    app.json.sort_keys = False
    CORS(
        app,
        resources={r"/api/*": {"origins": list(settings.cors_origins)}, r"/": {"origins": []}},
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-Request-ID"],
        expose_headers=["ETag", "X-Data-Version", "X-Cache", "X-Request-ID", "Retry-After"],
        supports_credentials=False,
        always_send=False,  # CORS headers only in answer to a cross-origin request
        max_age=600,
        vary_header=True,
    )
    app.before_request(start_timer)
    app.before_request(check_json_depth)
    app.after_request(security_headers)
