"""Cross-cutting HTTP behaviour: query-name checks, security headers, CORS, request ids and timing."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from apiflask import APIFlask
from flask import Response, current_app, g, request
from flask_cors import CORS
from marshmallow import fields

from salesdash.api import docs_ui
from salesdash.api.envelope import error_response
from salesdash.config import Settings

log = logging.getLogger("salesdash.api.access")

# JSON and CSV responses: nothing may load or frame them. (The docs page gets its own, see docs_ui.)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SKIP_QUERY_CHECK = ("openapi.", "static")


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


def start_timer() -> None:
    g.started = time.perf_counter()
    g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex[:16]


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-site")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
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
        elapsed_ms = (time.perf_counter() - started) * 1000
        headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        log.debug(
            "%s %s -> %s in %.1f ms (%s)",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            elapsed_ms,
            request_id,
        )
    return response


def setup(app: APIFlask, settings: Settings) -> None:
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
    app.after_request(security_headers)
