"""Scheduled reports and alerts over the API (admin token for every call; writes are audited).

Thin handlers: the body's form is checked by the schemas here, its meaning (cron, time zone, view, filter
values against the data, addresses) by :mod:`salesdash.reports`, which does the work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Boolean, Dict, Float, List, String
from flask import Response
from marshmallow import RAISE

from salesdash.api import schemas as s
from salesdash.api.auth import requires
from salesdash.api.observe import audited
from salesdash.api.respond import jsonable, simple_response
from salesdash.api.state import state
from salesdash.errors import NotFound
from salesdash.reports import alerts, runner, schedules
from salesdash.views import VIEWS

bp = APIBlueprint("reports", __name__, url_prefix="/api", tag="Operations")

ADMIN_ERRORS = {
    400: "Bad parameter or body",
    401: "No or unknown token",
    403: "Not an admin token",
    404: "Unknown id",
    503: "Database unavailable",
}


class Body(s.Schema):
    class Meta:
        unknown = RAISE


class ScheduleBody(Body):
    name = String(required=True, metadata={"description": "What the report is, e.g. Weekly France."})
    view = String(
        load_default="kpis",
        metadata={"description": "An export view (GET /api/export); kpis = the full PDF report."},
    )
    filters = Dict(
        load_default=dict,
        metadata={"description": 'Filter parameters as in the API, e.g. {"country": ["France"]}.'},
    )
    formats = List(String(), load_default=lambda: ["pdf"], metadata={"description": "pdf and/or xlsx."})
    cron = String(
        required=True,
        metadata={"description": "minute hour day month day-of-week, e.g. `0 8 * * mon` (Monday 08:00)."},
    )
    timezone = String(load_default="UTC", metadata={"description": "IANA time zone, e.g. Europe/Paris."})
    recipients = List(String(), required=True, metadata={"description": "E-mail addresses."})
    paused = Boolean(load_default=False)


class AlertBody(Body):
    name = String(required=True)
    kind = String(required=True, metadata={"description": ", ".join(alerts.KINDS) + "."})
    metric = String(
        metadata={"description": "A KPI: " + ", ".join(alerts.ALERT_METRICS) + " (default revenue)."}
    )
    period = String(metadata={"description": ", ".join(alerts.PERIODS) + "."})
    threshold = Float(
        metadata={"description": "below: a value in the metric's unit; drop_vs_last_year: a percentage."}
    )
    filters = Dict(load_default=dict, metadata={"description": "Filter parameters (no start/end)."})
    recipients = List(String(), load_default=list)
    webhook_url = String(allow_none=True, metadata={"description": "Optional: JSON POST on fire and clear."})
    paused = Boolean(load_default=False)


def _out(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, dict):
        return {k: _out(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_out(v) for v in value]
    return jsonable(value)


def _id(text: str) -> int:
    """A path id: a positive whole number, else 404 (as an unknown id)."""
    if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) < 1:
        raise NotFound(
            f"No such id: {text!r} (ids are positive whole numbers).",
            details=[{"parameter": "id", "value": text, "message": "not an id"}],
        )
    return int(text)


def answer(data: Any, status: int = 200) -> Response:
    return simple_response(_out(data), status=status)


# ---- scheduled reports ----------------------------------------------------------------------------------------


@bp.get("/reports")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.doc(summary="List scheduled reports (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
def list_reports(query: dict[str, Any]) -> Response:
    """Every schedule with its next run time and its last run (status, attempts, error)."""
    return simple_response(
        _out(schedules.all_schedules(state().engine)),
        views=list(VIEWS),
        formats=list(schedules.REPORT_FORMATS),
    )


@bp.post("/reports")
@bp.input(ScheduleBody, location="json", arg_name="body")
@bp.doc(summary="Schedule a report (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("schedule.create")
def create_report(body: dict[str, Any]) -> Response:
    """Define a scheduled report: view, filters, formats, cron timing with a time zone, recipients."""
    return answer(schedules.create(state().engine, body), status=201)


@bp.get("/reports/<schedule_id>")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.doc(summary="One scheduled report with its runs (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
def get_report(schedule_id: str, query: dict[str, Any]) -> Response:
    """The schedule and its last runs, newest first."""
    return answer(schedules.get(state().engine, _id(schedule_id)))


@bp.delete("/reports/<schedule_id>")
@bp.doc(summary="Delete a scheduled report (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("schedule.delete")
def delete_report(schedule_id: str) -> Response:
    """Remove the schedule and its run history."""
    return answer(schedules.remove(state().engine, _id(schedule_id)))


@bp.post("/reports/<schedule_id>/pause")
@bp.doc(summary="Pause a scheduled report (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("schedule.pause")
def pause_report(schedule_id: str) -> Response:
    """No runs are sent while paused."""
    return answer(schedules.set_paused(state().engine, _id(schedule_id), True))


@bp.post("/reports/<schedule_id>/resume")
@bp.doc(summary="Resume a scheduled report (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("schedule.resume")
def resume_report(schedule_id: str) -> Response:
    """Resume from the next future run time (runs that fell while paused are not sent)."""
    return answer(schedules.set_paused(state().engine, _id(schedule_id), False))


@bp.post("/reports/<schedule_id>/send")
@bp.doc(summary="Send a scheduled report now (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("schedule.send")
def send_report(schedule_id: str) -> Response:
    """Build and send the report at once. The run is returned: `sent`, or `retrying` with the error (the
    scheduler retries it with backoff)."""
    st = state()
    return answer(runner.send_now(st.engine, st.settings, _id(schedule_id)))


# ---- alerts ---------------------------------------------------------------------------------------------------


@bp.get("/alerts")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.doc(summary="List alerts (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
def list_alerts(query: dict[str, Any]) -> Response:
    """Every alert rule with its state (firing or not), last check and last value."""
    return simple_response(
        _out(alerts.all_rules(state().engine)),
        kinds=list(alerts.KINDS),
        periods=list(alerts.PERIODS),
        metrics=list(alerts.ALERT_METRICS),
    )


@bp.post("/alerts")
@bp.input(AlertBody, location="json", arg_name="body")
@bp.doc(summary="Create an alert (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("alert.create")
def create_alert(body: dict[str, Any]) -> Response:
    """A rule on a KPI over a rolling period with filters: below a threshold, down more than X% vs the same
    period last year, or no order in the last 24 h. Notified by e-mail and/or webhook on fire and on clear."""
    return answer(alerts.create(state().engine, body), status=201)


@bp.get("/alerts/history")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.doc(summary="Alert firings, newest first (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
def alert_history(query: dict[str, Any]) -> Response:
    """The last firings and clearings of every alert, with what was delivered where."""
    return answer(alerts.history(state().engine, limit=100))


@bp.post("/alerts/check")
@bp.doc(summary="Check every alert now (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("alert.check")
def check_alerts() -> Response:
    """Evaluate every active alert now; returns the firings and clearings this check caused."""
    st = state()
    return answer(alerts.check_all(st.engine, st.settings, trigger="manual"))


@bp.get("/alerts/<rule_id>")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.doc(summary="One alert with its history (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
def get_alert(rule_id: str, query: dict[str, Any]) -> Response:
    """The rule, its state and its last firings."""
    return answer(alerts.get(state().engine, _id(rule_id)))


@bp.delete("/alerts/<rule_id>")
@bp.doc(summary="Delete an alert (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("alert.delete")
def delete_alert(rule_id: str) -> Response:
    """Remove the rule and its history."""
    return answer(alerts.remove(state().engine, _id(rule_id)))


@bp.post("/alerts/<rule_id>/pause")
@bp.doc(summary="Pause an alert (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("alert.pause")
def pause_alert(rule_id: str) -> Response:
    """A paused alert is not checked."""
    return answer(alerts.set_paused(state().engine, _id(rule_id), True))


@bp.post("/alerts/<rule_id>/resume")
@bp.doc(summary="Resume an alert (admin)", responses=ADMIN_ERRORS, security="BearerAuth")
@requires("admin")
@audited("alert.resume")
def resume_alert(rule_id: str) -> Response:
    """Checked again from the next check on."""
    return answer(alerts.set_paused(state().engine, _id(rule_id), False))


__all__ = ["bp"]
