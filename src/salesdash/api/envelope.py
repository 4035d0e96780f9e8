"""The one error envelope, for every 4xx/5xx the API sends:

    {"error": {"status": int, "code": str, "message": str, "details": [{"parameter"|...: ..., "message": ...}]}}

Flask/Werkzeug HTTP errors (404, 405, 413...), apiflask validation errors, salesdash errors and unexpected
exceptions all end up here. A user never sees a traceback or a raw exception string.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, current_app, g, json, request
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from salesdash.errors import SalesdashError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "unprocessable_content",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "service_unavailable",
}


def error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    return {"error": {"status": status, "code": code, "message": message, "details": details or []}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response = Response(
        json.dumps(error_body(status, code, message, details)),
        status=status,
        mimetype="application/json",
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _accepted_parameters() -> list[str]:
    """The query parameters the current endpoint declares (for 'unknown parameter' messages)."""
    view = current_app.view_functions.get(request.endpoint or "")
    spec = getattr(view, "_spec", None) or {}
    names: list[str] = []
    for schema, location in spec.get("args", []):
        if location == "query":
            names.extend(f.data_key or n for n, f in schema.fields.items())
    return sorted(names)


def _validation_details(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """apiflask/webargs {"query": {"limit": ["msg", ...]}} -> [{"parameter": "limit", "message": "msg"}]."""
    details: list[dict[str, Any]] = []
    for location, fields in detail.items():
        if not isinstance(fields, dict):
            details.append({"location": location, "message": str(fields)})
            continue
        for name, messages in fields.items():
            texts = messages if isinstance(messages, list) else [messages]
            for text in texts:
                if isinstance(text, dict):  # nested (list items): {index: [messages]}
                    text = "; ".join(f"item {i}: {' '.join(map(str, m))}" for i, m in text.items())
                entry: dict[str, Any] = {"parameter": name, "location": location, "message": str(text)}
                if text == "Unknown field.":
                    entry["message"] = "unknown parameter"
                    entry["accepted"] = _accepted_parameters()
                details.append(entry)
    return details


def _too_large_message() -> str:
    """Name the limit a 413 is about: the form's part count, a text field's size, or the body size."""
    config = current_app.config
    which = g.get("form_limit")
    if which == "parts":
        return (
            f"The form has more than {config['MAX_FORM_PARTS']:,} parts; an upload sends one file (field "
            "'file') and at most a few small text fields."
        )
    if which == "field":
        return (
            f"A text field of the form is larger than {config['MAX_FORM_MEMORY_SIZE'] // 1024:,} KiB; only "
            "the file (field 'file') may be large."
        )
    limit = config.get("MAX_CONTENT_LENGTH")
    mib = f" ({limit // (1024 * 1024)} MiB)" if limit else ""
    return f"The request body is larger than the limit{mib}; see SALESDASH_MAX_UPLOAD_MB."


def handle_http_error(error: HTTPError) -> Response:
    """apiflask's error processor: HTTP errors and validation errors -> the envelope."""
    status = error.status_code
    headers = {str(k): str(v) for k, v in Headers(error.headers or {}).items() if k.lower() != "content-type"}
    if isinstance(error.detail, dict) and error.detail and status in (400, 422):
        details = _validation_details(error.detail)
        names = ", ".join(dict.fromkeys(d["parameter"] for d in details if "parameter" in d))
        message = f"Invalid request parameter(s): {names}." if names else "Invalid request."
        first = details[0] if details else None
        if first and len(details) == 1 and "parameter" in first:
            message = f"Invalid parameter {first['parameter']!r}: {first['message'].rstrip('.')}."
        return error_response(status, "invalid_parameter", message, details, headers)
    code = CODES.get(status, "error")
    message = error.message or "Error"
    if status == 404:
        message = f"No such endpoint: {request.path}. GET /api lists every endpoint."
    elif status == 405:
        allowed = headers.get("Allow", "")
        message = f"{request.method} is not allowed on {request.path}" + (
            f"; allowed: {allowed}." if allowed else "."
        )
    elif status == 413:
        message = _too_large_message()
    elif status == 500:
        message = "Internal server error."
    details = error.extra_data.get("details", []) if error.extra_data else []
    return error_response(status, code, message, details, headers)


def handle_salesdash_error(error: SalesdashError) -> Response:
    headers = {"Retry-After": "5"} if error.http_status in (409, 503) else None
    return error_response(error.http_status, error.code, error.message, error.details, headers)


def handle_database_down(error: OperationalError) -> Response:
    """The database stopped answering mid-request (connection lost, server restarting, file locked)."""
    from salesdash.store import explain

    if (known := explain(error)) is not None:  # a full disk, a damaged database file
        log.warning("storage failure on %s %s: %s", request.method, request.path, known.message)
        return handle_salesdash_error(known)
    log.warning("database error on %s %s: %s", request.method, request.path, error.orig)
    return error_response(
        503,
        "store_unavailable",
        "The database did not answer; try again shortly (if it persists, check SALESDASH_DATABASE_URL).",
        headers={"Retry-After": "5"},
    )


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # pragma: no cover - apiflask handles these first
        return handle_http_error(HTTPError(error.code or 500, message=error.name))
    from salesdash.store import explain

    if (known := explain(error)) is not None:  # a full disk, a damaged database file
        log.warning("storage failure on %s %s: %s", request.method, request.path, known.message)
        return handle_salesdash_error(known)
    reference = uuid.uuid4().hex[:12]
    log.exception("unexpected error (reference %s) on %s %s", reference, request.method, request.path)
    return error_response(
        500,
        "internal_error",
        f"An unexpected error occurred (reference {reference}); it has been logged.",
    )


def register(app: APIFlask) -> None:
    app.error_processor(handle_http_error)
    app.register_error_handler(SalesdashError, handle_salesdash_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)


# JSON schema of the envelope, for the OpenAPI document (every documented error response uses it).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "details"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
