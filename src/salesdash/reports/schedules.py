"""Scheduled reports stored in the database: define, list, pause, remove, and the history of their runs.

A schedule names a view (``kpis`` = the full PDF report), the filters, the formats (``pdf`` and/or ``xlsx``),
a five-field crontab expression in a time zone, and the recipients. Sending lives in :mod:`.runner`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from salesdash.audit import now
from salesdash.errors import InvalidParameter, NotFound
from salesdash.reports import specs, timing
from salesdash.reports.mail import check_recipients
from salesdash.store.engine import ensure_schema
from salesdash.store.schema import report_runs, report_schedules
from salesdash.views import VIEWS

REPORT_FORMATS = ("pdf", "xlsx")
FIELDS = ("name", "view", "filters", "formats", "cron", "timezone", "recipients", "paused")
RUN_HISTORY = 10


def _formats(value: Any) -> list[str]:
    formats = specs.split_list(value) or ["pdf"]
    bad = [f for f in formats if f not in REPORT_FORMATS]
    if bad:
        raise InvalidParameter(
            f"formats: {', '.join(map(repr, bad))} not supported; use pdf and/or xlsx.",
            details=[{"parameter": "formats", "value": b, "message": "pdf or xlsx"} for b in bad],
        )
    return list(dict.fromkeys(formats))


def _view(value: Any) -> str:
    view = str(value or "kpis")
    if view not in VIEWS:
        raise InvalidParameter(
            f"view={view!r} is not a view; use one of {', '.join(VIEWS)} (kpis = the full report).",
            details=[{"parameter": "view", "value": view, "message": "unknown view"}],
        )
    return view


def check_spec(engine: Engine, body: Mapping[str, Any]) -> dict[str, Any]:
    """A schedule definition, validated (every field, with one clear message for the first bad one)."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidParameter(
            f"Unknown field(s) {', '.join(map(repr, unknown))}; a schedule has: {', '.join(FIELDS)}.",
            details=[{"parameter": k, "message": "unknown field"} for k in unknown],
        )
    if "cron" not in body or "recipients" not in body or "name" not in body:
        missing = [k for k in ("name", "cron", "recipients") if k not in body]
        raise InvalidParameter(
            f"Missing field(s): {', '.join(missing)}.",
            details=[{"parameter": k, "message": "required"} for k in missing],
        )
    cron = " ".join(str(body["cron"]).split())
    tz = str(body.get("timezone") or "UTC")
    timing.trigger(cron, tz)
    return {
        "name": specs.check_name(body["name"]),
        "view": _view(body.get("view")),
        "filters": specs.check_filters(engine, body.get("filters")),
        "formats": _formats(body.get("formats")),
        "cron": cron,
        "timezone": tz,
        "recipients": check_recipients(specs.split_list(body["recipients"])),
        "paused": specs.check_bool(body.get("paused", False), "paused"),
    }


def _public(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["filters"] = json.loads(out["filters"])
    out["formats"] = out["formats"].split(",")
    out["recipients"] = out["recipients"].split(",")
    return out


def create(engine: Engine, body: Mapping[str, Any], *, clock: datetime | None = None) -> dict[str, Any]:
    ensure_schema(engine)
    spec = check_spec(engine, body)
    at = clock or now()
    values = {
        **spec,
        "filters": specs.dumps(spec["filters"]),
        "formats": ",".join(spec["formats"]),
        "recipients": ",".join(spec["recipients"]),
        "created_at": at,
        "next_run_at": timing.next_after(spec["cron"], spec["timezone"], at),
    }
    with engine.begin() as conn:
        result = conn.execute(insert(report_schedules).values(**values))
        new_id = result.inserted_primary_key[0]  # type: ignore[index]
    return get(engine, int(new_id))


def get(engine: Engine, schedule_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = (
            conn.execute(select(report_schedules).where(report_schedules.c.id == schedule_id))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(
            f"No report schedule with id {schedule_id}.",
            details=[{"parameter": "id", "value": schedule_id, "message": "unknown schedule"}],
        )
    out = _public(row)
    out["runs"] = runs(engine, schedule_id)
    out["last_run"] = out["runs"][0] if out["runs"] else None
    return out


def all_schedules(engine: Engine) -> list[dict[str, Any]]:
    ensure_schema(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(report_schedules).order_by(report_schedules.c.id)).mappings().all()
        latest = _latest_runs(conn)
    out = []
    for row in rows:
        item = _public(row)
        item["last_run"] = latest.get(item["id"])
        out.append(item)
    return out


def _latest_runs(conn: Any) -> dict[int, dict[str, Any]]:
    r = report_runs
    rows = conn.execute(select(r).order_by(r.c.schedule_id, r.c.id.desc())).mappings()
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        latest.setdefault(int(row["schedule_id"]), dict(row))
    return latest


def runs(engine: Engine, schedule_id: int, limit: int = RUN_HISTORY) -> list[dict[str, Any]]:
    r = report_runs
    with engine.connect() as conn:
        rows = conn.execute(
            select(r).where(r.c.schedule_id == schedule_id).order_by(r.c.id.desc()).limit(limit)
        ).mappings()
        return [dict(row) for row in rows]


def set_paused(
    engine: Engine, schedule_id: int, paused: bool, *, clock: datetime | None = None
) -> dict[str, Any]:
    """Pause or resume. A resumed schedule starts from its next future time (runs while paused are not sent)."""
    current = get(engine, schedule_id)
    values: dict[str, Any] = {"paused": paused}
    if not paused and current["paused"]:
        values["next_run_at"] = timing.next_after(current["cron"], current["timezone"], clock or now())
    with engine.begin() as conn:
        conn.execute(update(report_schedules).where(report_schedules.c.id == schedule_id).values(**values))
    return get(engine, schedule_id)


def remove(engine: Engine, schedule_id: int) -> dict[str, Any]:
    current = get(engine, schedule_id)
    with engine.begin() as conn:
        conn.execute(delete(report_runs).where(report_runs.c.schedule_id == schedule_id))
        conn.execute(delete(report_schedules).where(report_schedules.c.id == schedule_id))
    current.pop("runs", None)
    return current
