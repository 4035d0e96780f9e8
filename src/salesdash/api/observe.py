"""Operations endpoints and hooks: ``GET /metrics`` (Prometheus), ``GET /api/audit``, and the request hooks
that feed them.

- Every request is counted by endpoint (the URL rule, so ids do not explode the label set), method and status,
  and timed in a latency histogram. Counters live in a registry per app (:class:`AppMetrics`); the process-wide
  ones (loads, export queue, sends: :mod:`salesdash.telemetry`) are served alongside.
- Every write (POST/PUT/PATCH/DELETE to a known endpoint) is written to the audit log after it answered: the
  action, the token's id and role, the parameters (query, JSON body, file names and sizes; never file content,
  never a secret), the result and the data version after it. A successful load also runs the alert check.
- ``/metrics`` is open when the API binds a loopback address; elsewhere it needs an admin token, and with
  ``SALESDASH_METRICS_TOKEN`` set it needs exactly that token.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any, cast

from apiflask import APIBlueprint, APIFlask, Schema
from apiflask.fields import Dict, Integer, List, Nested, String
from apiflask.validators import Range
from flask import Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from werkzeug.exceptions import HTTPException

from salesdash import audit
from salesdash.api import schemas as s
from salesdash.api.auth import CHALLENGE, bearer_token, public, requires
from salesdash.api.envelope import error_response
from salesdash.api.respond import simple_response
from salesdash.api.state import ApiState, state
from salesdash.config import is_loopback
from salesdash.errors import InvalidParameter
from salesdash.store import current_version
from salesdash.tokens import allows, identify

log = logging.getLogger(__name__)

bp = APIBlueprint(
    "observe",
    __name__,
    tag={"name": "Operations", "description": "Metrics, audit log, scheduled reports and alerts."},
)
EXTENSION = "salesdash.observe"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# URL rule -> audit action, for writes that do not name their own (with @audited)
ACTIONS = {
    "/api/data-refresh": "data.refresh",
    "/api/uploads": "upload.validate",
    "/api/uploads/<upload_id>/confirm": "upload.confirm",
    "/api/data-versions/<version>/restore": "data.restore",
}
LOAD_ACTIONS = ("data.refresh", "upload.confirm", "data.restore")
AUDIT_ATTR = "_salesdash_audit"


def audited(action: str) -> Any:
    """Name the audit action of a write view (default: from :data:`ACTIONS`, else method + rule)."""

    def mark(view: Any) -> Any:
        setattr(view, AUDIT_ATTR, action)
        return view

    return mark


class StateCollector(Collector):
    """The app's cache counters and the data version's age, read at scrape time."""

    def __init__(self, st: ApiState) -> None:
        self.st = st

    def collect(self) -> Any:
        stats = self.st.cache.stats()
        # one cache holds both the front cache's final bytes (api/front.py) and the results: a hit in either is
        # a hit; a front-cache miss goes on to the result cache and is counted there as a hit or a miss
        hits = CounterMetricFamily(
            "salesdash_cache_hits", "API answers served from a cache (the front cache or the result cache)."
        )
        hits.add_metric([], stats["hits"])
        misses = CounterMetricFamily("salesdash_cache_misses", "API answers computed (result cache misses).")
        misses.add_metric([], stats["misses"])
        size = GaugeMetricFamily(
            "salesdash_cache_bytes", "Bytes held by the API cache (results and final answers)."
        )
        size.add_metric([], stats["bytes"])
        entries = GaugeMetricFamily(
            "salesdash_cache_entries", "Entries held by the API cache (results and final answers)."
        )
        entries.add_metric([], stats["entries"])
        yield from (hits, misses, size, entries)
        age = GaugeMetricFamily(
            "salesdash_data_version_age_seconds",
            "Seconds since the current data version was loaded (absent before the first load).",
        )
        try:
            version = current_version(self.st.engine)
        except Exception:  # the database is down: no age (health reports it)
            version = None
        if version is not None:
            loaded = version.loaded_at.replace(tzinfo=UTC)
            age.add_metric([], max((datetime.now(UTC) - loaded).total_seconds(), 0.0))
        yield age


@dataclass
class AppMetrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram


def setup(app: APIFlask, st: ApiState) -> None:
    """Install the per-app metrics and the request hooks (called by create_app)."""
    registry = CollectorRegistry(auto_describe=True)
    metrics = AppMetrics(
        registry=registry,
        requests=Counter(
            "salesdash_http_requests",
            "HTTP requests by endpoint (URL rule), method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "salesdash_http_request_duration_seconds",
            "Time to answer, by endpoint (URL rule).",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
    )
    registry.register(StateCollector(st))
    app.extensions[EXTENSION] = metrics
    app.before_request(_start)
    app.after_request(_after)


def _start() -> None:
    g.observe_started = time.perf_counter()


def _rule() -> str:
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def _after(response: Response) -> Response:
    metrics: AppMetrics = current_app.extensions[EXTENSION]
    endpoint = _rule()
    started = getattr(g, "observe_started", None)
    metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
    if started is not None:
        metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
    if request.method in WRITE_METHODS and request.url_rule is not None:
        try:
            _audit(response)
        except Exception as exc:  # the audit log must never turn an answer into an error
            log.warning("audit of %s %s failed: %s", request.method, endpoint, type(exc).__name__)
    return response


def _parameters(status: int) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.view_args or {})
    for name in request.args:
        values = request.args.getlist(name)
        params[name] = values if len(values) > 1 else values[0]
    if status == 413:  # the body was refused unread: say how big it claimed to be
        params["content_length"] = request.content_length
        return params
    try:
        params.update(_body())
    except HTTPException:  # an unreadable body was already answered with its error
        params["body"] = "(unreadable)"
    return params


def _body() -> dict[str, Any]:
    params: dict[str, Any] = {}
    if request.is_json:
        body = request.get_json(silent=True)
        if body is not None:
            params["body"] = body
    if request.mimetype == "multipart/form-data":  # never the content: names and sizes
        files = []
        for field, upload in request.files.items(multi=True):
            size = None
            if not upload.stream.closed:
                upload.stream.seek(0, 2)
                size = upload.stream.tell()
                upload.stream.seek(0)
            files.append({"field": field, "filename": upload.filename, "bytes": size})
        if files:
            params["files"] = files
        params.update({k: v for k, v in request.form.items()})
    return params


def _audit(response: Response) -> None:
    st = state()
    view = current_app.view_functions.get(request.endpoint or "")
    rule = _rule()
    action = getattr(view, AUDIT_ATTR, None) or ACTIONS.get(rule) or f"{request.method} {rule}"
    code = response.status_code
    message = None
    if code >= 400 and response.mimetype == "application/json":
        try:
            message = json.loads(response.get_data())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = None
    try:
        version = st.version()
    except Exception:  # the database is down: the row says so by having no version
        version = None
    entry = audit.Entry(
        action=action,
        result="ok" if code < 400 else ("refused" if code < 500 else "failed"),
        parameters=_parameters(code),
        actor="api",
        token_id=getattr(g, "token_id", None),
        role=getattr(g, "role", None),
        status=code,
        message=message,
        data_version=version,
    )
    audit.record(st.engine, entry)
    if action in LOAD_ACTIONS and code < 400:
        _check_alerts_later(st)


def _check_alerts_later(st: ApiState) -> None:
    """Run the alert check after a load, in the background (the response does not wait for SMTP)."""
    from salesdash.reports.alerts import after_load

    st.run_later("salesdash-alerts-after-load", after_load, st.engine, st.settings)


# ---- GET /metrics -------------------------------------------------------------------------------------------


def _metrics_allowed() -> Response | None:
    st = state()
    expected = st.settings.metrics_token
    token = bearer_token()
    if expected is not None:
        if token is not None and hmac.compare_digest(token, expected.get_secret_value()):
            return None
        return error_response(
            401,
            "unauthorized",
            "GET /metrics needs `Authorization: Bearer <SALESDASH_METRICS_TOKEN>`.",
            [{"header": "Authorization"}],
            CHALLENGE,
        )
    if is_loopback(st.settings.api_host):
        return None
    identity = identify(st.engine, token) if token else None
    if identity is None or not allows(identity.role, "admin"):
        return error_response(
            401 if identity is None else 403,
            "unauthorized" if identity is None else "forbidden",
            "The API is bound to a non-loopback address: GET /metrics needs an admin token "
            "(or set SALESDASH_METRICS_TOKEN for the scraper).",
            [{"header": "Authorization"}],
            CHALLENGE if identity is None else None,
        )
    return None


@bp.get("/metrics")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.doc(
    summary="Prometheus metrics",
    responses=cast(
        Any,
        {
            200: {
                "description": "Prometheus text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            400: "Bad parameter",
            401: "Needs a token (non-loopback bind, or SALESDASH_METRICS_TOKEN set)",
            403: "The token is not an admin token",
        },
    ),
)
@public
def metrics(query: dict[str, Any]) -> Response:
    """Requests by endpoint and status, latency histograms, cache hits/misses/bytes, data version age, load
    and stream batch durations and line counts, export queue length, report and alert sends and failures.
    Open on a loopback bind; otherwise an admin token or SALESDASH_METRICS_TOKEN."""
    refused = _metrics_allowed()
    if refused is not None:
        return refused
    from salesdash.telemetry import process_metrics

    app_metrics: AppMetrics = current_app.extensions[EXTENSION]
    body = generate_latest(app_metrics.registry) + generate_latest(process_metrics().registry)
    response = Response(body, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- GET /api/audit -----------------------------------------------------------------------------------------


class AuditQuery(s.QuerySchema):
    action = List(
        String(),
        metadata={
            "description": "Only these actions (e.g. data.refresh, schedule.create; `schedule.` = every "
            "schedule action). Repeat or comma-separate."
        },
    )
    since = String(metadata={"description": "From this time (ISO 8601, UTC; a date = its midnight)."})
    until = String(metadata={"description": "Before this time (ISO 8601, UTC; a date = the next midnight)."})
    limit = Integer(
        load_default=50,
        validate=Range(min=1, max=audit.MAX_PAGE),
        metadata={"description": f"Rows per page, 1-{audit.MAX_PAGE} (default 50)."},
    )
    offset = Integer(load_default=0, validate=Range(min=0), metadata={"description": "Rows to skip."})


class AuditRow(s.Open):
    id = Integer(required=True)
    recorded_at = String(required=True, metadata={"format": "date-time", "description": "UTC."})
    actor = String(required=True, metadata={"description": "api, cli or scheduler."})
    token_id = Integer(allow_none=True, metadata={"description": "Id of the token used (never the token)."})
    role = String(allow_none=True)
    action = String(required=True)
    parameters = Dict(
        required=True, metadata={"description": "What was asked (no secrets, no file content)."}
    )
    result = String(required=True, metadata={"description": "ok, refused (4xx) or failed (5xx)."})
    status = Integer(allow_none=True)
    message = String(allow_none=True)
    data_version = String(allow_none=True, metadata={"description": "The data version after the write."})


class AuditMeta(s.SimpleMeta):
    total = Integer(required=True)
    limit = Integer(required=True)
    offset = Integer(required=True)


class AuditResponse(Schema):
    data = List(Nested(AuditRow), required=True)
    meta = Nested(AuditMeta, required=True)


def _moment(name: str, text: str | None, *, end: bool) -> datetime | None:
    """A UTC-naive time from ISO 8601 text; a bare date is its midnight (``end``: the next midnight)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            midnight = datetime.combine(date.fromisoformat(text), day_time())
            return midnight + timedelta(days=1) if end else midnight
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f"{name}={text!r} is not an ISO 8601 date or time (e.g. 2026-12-01 or 2026-12-01T08:00:00Z).",
            details=[{"parameter": name, "value": text, "message": "not an ISO 8601 date or time"}],
        ) from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _iso(value: Any) -> Any:
    return value.isoformat(timespec="seconds") + "Z" if isinstance(value, datetime) else value


@bp.get("/api/audit")
@bp.input(AuditQuery, location="query", arg_name="query")
@bp.output(AuditResponse, description="Audit rows, newest first.")
@bp.doc(
    summary="Audit log (admin)",
    responses={
        400: "Bad parameter",
        401: "No or unknown token",
        403: "Not an admin token",
        503: "Database unavailable",
    },
    security="BearerAuth",
)
@requires("admin")
def get_audit(query: dict[str, Any]) -> Response:
    """Every write (uploads, refreshes, token changes, schedules, alerts) with time, token id and role, action,
    parameters, result and data version. Paginated (limit, offset), filterable by action and time."""
    actions = [a.strip() for v in query.get("action", []) for a in v.split(",") if a.strip()]
    since = _moment("since", query.get("since"), end=False)
    until = _moment("until", query.get("until"), end=True)
    rows, total = audit.entries(
        state().engine,
        actions=actions,
        since=since,
        until=until,
        limit=query["limit"],
        offset=query["offset"],
    )
    data = [{k: _iso(v) for k, v in row.items()} for row in rows]
    return simple_response(data, total=total, limit=query["limit"], offset=query["offset"])


__all__ = ["ACTIONS", "EXTENSION", "audited", "bp", "setup"]
