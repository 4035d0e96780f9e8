"""Sending scheduled reports: find due runs, claim each one, build the e-mail, send, retry with backoff.

Only one process sends a given run: a scheduler claims a due schedule by moving its ``next_run_at`` forward
with ``UPDATE ... WHERE next_run_at = <the value it read>`` (one process's update matches; the others' match
no row) and records the run under the unique key (schedule id, due time). A retry is claimed the same way
(``status = 'retrying'`` -> ``'sending'``). A claimed run holds a lease: if its process dies mid-send, another
scheduler takes it over when the lease ends.

Call :func:`run_due` with an injected ``now`` to run everything due at that time (the scheduler does this
every ``SALESDASH_SCHEDULER_INTERVAL_SECONDS``; tests call it directly).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, false, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from salesdash.audit import now as utc_now
from salesdash.errors import NoData, SalesdashError
from salesdash.export import ExportContext, prepare, render, view_params
from salesdash.metrics import Filters, kpis
from salesdash.reports import mail, schedules, specs, timing
from salesdash.store import current_version_label_in, snapshot
from salesdash.store.schema import report_runs, report_schedules
from salesdash.telemetry import count_send
from salesdash.vocabulary import METRICS

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
KEY_FIGURES = ("revenue", "order_count", "average_order_value", "customer_count", "units")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


@dataclass
class Outcome:
    """What one :func:`run_due` call did."""

    sent: list[int] = field(default_factory=list)  # run ids
    failed: list[int] = field(default_factory=list)  # run ids that failed (retrying or given up)
    missed: list[int] = field(default_factory=list)  # run ids recorded as missed
    lost: int = 0  # claims another process won


def figure_text(name: str, value: Any) -> str:
    from salesdash.charts.format import count, money  # the one number style (as the PDF report)

    metric = METRICS[name]
    return money(value) if metric.unit == "currency" else count(value)


def export_path(view: str, fmt: str, stored_filters: dict[str, Any]) -> str:
    """The /api/export call that gives the same file (shown in the e-mail)."""
    from urllib.parse import urlencode

    pairs: list[tuple[str, str]] = [("view", view), ("format", fmt)]
    for key, value in stored_filters.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return "/api/export?" + urlencode(pairs)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    attachments: list[tuple[str, str, bytes]]
    data_version: str


def build_message(engine: Engine, schedule: dict[str, Any], at: datetime) -> Message:
    """The e-mail of ``schedule``: filters and data version named, key figures as text, the export files
    attached (built by the export module exactly as GET /api/export builds them)."""
    filters: Filters = specs.filters_from(schedule["filters"])
    view = schedule["view"]
    generated = at.isoformat(timespec="seconds") + "Z"
    with snapshot(engine) as conn:
        version = current_version_label_in(conn)
        if version is None:
            raise NoData("No data is loaded; a report needs data (`salesdash ingest`).")
        figures = kpis(conn, filters)
        context = ExportContext(version, generated, filters)
        prepared = [
            prepare(conn, filters, view, view_params(view, {}), fmt, context) for fmt in schedule["formats"]
        ]
    files = [
        render(p) for p in prepared
    ]  # after the snapshot, as the API does: rendering holds no transaction
    lines = [
        f'Scheduled report "{schedule["name"]}" from salesdash.',
        "",
        f"Data version: {version}",
        f"Generated at: {generated}",
        "",
        "Filters:",
        *(f"  {label}: {value}" for label, value in filters.describe()),
        "",
        "Key figures:",
        *(f"  {METRICS[name].label}: {figure_text(name, figures.get(name))}" for name in KEY_FIGURES),
        "",
        "Attached:",
        *(
            f"  {f.filename} (the file of GET {export_path(view, fmt, schedule['filters'])})"
            for f, fmt in zip(files, schedule["formats"], strict=True)
        ),
        "",
        f"Schedule: {schedule['cron']} ({schedule['timezone']}); id {schedule['id']}.",
    ]
    subject = f"salesdash report: {schedule['name']} ({version})"
    return Message(
        subject, "\n".join(lines) + "\n", [(f.filename, f.media_type, f.content) for f in files], version
    )


def _deliver(engine: Engine, settings: Any, run_id: int, schedule: dict[str, Any], at: datetime) -> bool:
    """Build and send run ``run_id`` (already claimed); record the outcome. True when sent."""
    r = report_runs
    with engine.connect() as conn:
        attempts = int(conn.execute(select(r.c.attempts).where(r.c.id == run_id)).scalar_one()) + 1
    version = None
    try:
        target = mail.smtp_target(settings)
        message = build_message(engine, schedule, at)
        version = message.data_version
        mail.send(
            target,
            mail.compose(target, schedule["recipients"], message.subject, message.body, message.attachments),
        )
    except (mail.DeliveryError, SalesdashError) as exc:
        error = exc.message if isinstance(exc, SalesdashError) else str(exc)
        retry = attempts <= settings.report_retries
        delay = timedelta(seconds=settings.report_retry_seconds * 2 ** (attempts - 1))
        values: dict[str, Any] = {
            "attempts": attempts,
            "status": "retrying" if retry else "failed",
            "error": error,
            "data_version": version,
            "next_attempt_at": at + delay if retry else None,
            "finished_at": None if retry else at,
        }
        with engine.begin() as conn:
            conn.execute(update(r).where(r.c.id == run_id).values(**values))
        count_send("report", "email", False)
        log.warning(
            "report %s (run %s) attempt %s failed: %s%s",
            schedule["id"],
            run_id,
            attempts,
            error,
            f"; retry at {values['next_attempt_at']:%Y-%m-%d %H:%M:%S} UTC" if retry else "; giving up",
        )
        return False
    with engine.begin() as conn:
        conn.execute(
            update(r)
            .where(r.c.id == run_id)
            .values(
                attempts=attempts,
                status="sent",
                error=None,
                data_version=version,
                next_attempt_at=None,
                finished_at=utc_now(),
            )
        )
    count_send("report", "email", True)
    log.info(
        "report %s (run %s) sent to %d recipient(s)", schedule["id"], run_id, len(schedule["recipients"])
    )
    return True


def _claim_run(
    engine: Engine, schedule_id: int, due_at: datetime, trigger: str, status: str, worker: str, at: datetime
) -> int | None:
    values = {
        "schedule_id": schedule_id,
        "due_at": due_at,
        "trigger": trigger,
        "status": status,
        "attempts": 0,
        "claimed_by": worker,
        "next_attempt_at": at + LEASE if status == "sending" else None,
        "finished_at": at if status == "missed" else None,
    }
    try:
        with engine.begin() as conn:
            result = conn.execute(insert(report_runs).values(**values))
            run_id = result.inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError:
        return None  # another process recorded this run first
    return int(run_id)


def run_due(
    engine: Engine, settings: Any, *, now: datetime | None = None, worker: str | None = None
) -> Outcome:
    """Send every report due at ``now`` (UTC-naive; default: the clock) and every retry whose time came."""
    at = now or utc_now()
    me = worker or worker_id()
    grace = timedelta(minutes=settings.report_grace_minutes)
    outcome = Outcome()
    s = report_schedules
    with engine.connect() as conn:
        due_rows = conn.execute(
            select(s.c.id, s.c.cron, s.c.timezone, s.c.next_run_at).where(
                s.c.paused == false(), s.c.next_run_at <= at
            )
        ).all()
    for row in due_rows:
        due = timing.catch_up(row.cron, row.timezone, row.next_run_at, at, grace)
        try:
            with engine.begin() as conn:
                claimed = conn.execute(
                    update(s)
                    .where(s.c.id == row.id, s.c.next_run_at == row.next_run_at)
                    .values(next_run_at=due.next_run_at)
                ).rowcount
        except DBAPIError:  # a write conflict (DuckDB) is a lost claim too
            claimed = 0
        if claimed != 1:
            outcome.lost += 1
            continue
        if due.missed is not None:
            run_id = _claim_run(engine, row.id, due.missed, "schedule", "missed", me, at)
            if run_id is not None:
                outcome.missed.append(run_id)
                log.warning("report %s: run due %s missed (older than the grace period)", row.id, due.missed)
        if due.run_at is not None:
            run_id = _claim_run(engine, row.id, due.run_at, "schedule", "sending", me, at)
            if run_id is None:
                outcome.lost += 1
                continue
            schedule = schedules.get(engine, row.id)
            (outcome.sent if _deliver(engine, settings, run_id, schedule, at) else outcome.failed).append(
                run_id
            )
    _retry_due(engine, settings, at, me, outcome)
    return outcome


def _retry_due(engine: Engine, settings: Any, at: datetime, me: str, outcome: Outcome) -> None:
    r = report_runs
    with engine.connect() as conn:
        rows = conn.execute(
            select(r.c.id, r.c.schedule_id, r.c.status).where(
                or_(r.c.status == "retrying", r.c.status == "sending"), r.c.next_attempt_at <= at
            )
        ).all()
    for row in rows:
        try:
            with engine.begin() as conn:
                claimed = conn.execute(
                    update(r)
                    .where(r.c.id == row.id, r.c.status == row.status, r.c.next_attempt_at <= at)
                    .values(status="sending", claimed_by=me, next_attempt_at=at + LEASE)
                ).rowcount
        except DBAPIError:
            claimed = 0
        if claimed != 1:
            outcome.lost += 1
            continue
        try:
            schedule = schedules.get(engine, row.schedule_id)
        except SalesdashError:  # the schedule was removed meanwhile
            continue
        (outcome.sent if _deliver(engine, settings, row.id, schedule, at) else outcome.failed).append(row.id)


def send_now(
    engine: Engine, settings: Any, schedule_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Send schedule ``schedule_id`` at once (also when paused); returns the run (sent, or retrying)."""
    at = now or utc_now()
    schedule = schedules.get(engine, schedule_id)
    run_id = _claim_run(engine, schedule_id, at, "manual", "sending", worker_id(), at)
    if run_id is None:  # pragma: no cover - two manual sends in the same microsecond
        raise SalesdashError("This report is being sent right now; try again.")
    _deliver(engine, settings, run_id, schedule, at)
    with engine.connect() as conn:
        return dict(conn.execute(select(report_runs).where(report_runs.c.id == run_id)).mappings().one())
