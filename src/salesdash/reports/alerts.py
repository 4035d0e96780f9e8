"""Alert rules on any KPI over a rolling period, with any filters; checked after every load or stream batch
(:func:`after_load`) and on a schedule; notified by e-mail and optionally a JSON webhook.

Kinds (``threshold`` means):

- ``below``: the metric over the period is below ``threshold`` (in the metric's unit, e.g. dollars);
- ``drop_vs_last_year``: the metric over the period is more than ``threshold`` percent below the same period
  one year earlier (no comparison, so no alert, when last year's value is 0);
- ``no_orders``: no order in the period (``last_24h``: order dates on or after the date 24 hours ago; the
  store keeps order dates, not times).

An alert notifies once when its condition starts to hold (``fired``) and once when it stops (``cleared``);
checks in between send nothing. The state change is claimed in the database (``UPDATE ... WHERE firing =
<old>``), so two checkers never both notify. Every change is kept in the history (``alert_events``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, false, insert, select, true, update
from sqlalchemy.exc import DBAPIError

from salesdash.audit import now as utc_now
from salesdash.errors import ConfigError, InvalidParameter, NotFound
from salesdash.metrics import kpis
from salesdash.reports import mail, specs
from salesdash.store import current_version_label_in, snapshot
from salesdash.store.engine import ensure_schema
from salesdash.store.schema import alert_events, alert_rules
from salesdash.telemetry import count_send
from salesdash.vocabulary import METRICS

log = logging.getLogger(__name__)

KINDS = ("below", "drop_vs_last_year", "no_orders")
PERIODS = ("last_24h", "last_7_days", "last_30_days", "last_complete_week", "last_complete_month")
ALERT_METRICS = tuple(name for name, m in METRICS.items() if m.unit != "ratio")
FIELDS = ("name", "kind", "metric", "period", "threshold", "filters", "recipients", "webhook_url", "paused")
HISTORY = 20


def period_bounds(period: str, now: datetime) -> tuple[date, date]:
    """The first and last order date of ``period`` as seen at ``now`` (UTC)."""
    today = now.date()
    if period == "last_24h":
        return (now - timedelta(hours=24)).date(), today
    if period == "last_7_days":
        return today - timedelta(days=7), today - timedelta(days=1)
    if period == "last_30_days":
        return today - timedelta(days=30), today - timedelta(days=1)
    if period == "last_complete_week":  # Monday to Sunday before this week
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if period == "last_complete_month":
        first = today.replace(day=1)
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    raise InvalidParameter(f"unknown period {period!r}")


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _choice(body: Mapping[str, Any], name: str, options: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name, default)
    if value not in options:
        raise InvalidParameter(
            f"{name} must be one of {', '.join(options)}; got {value!r}.",
            details=[{"parameter": name, "value": value, "message": f"one of {', '.join(options)}"}],
        )
    return str(value)


def check_spec(engine: Engine, body: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidParameter(
            f"Unknown field(s) {', '.join(map(repr, unknown))}; an alert has: {', '.join(FIELDS)}.",
            details=[{"parameter": k, "message": "unknown field"} for k in unknown],
        )
    kind = _choice(body, "kind", KINDS)
    metric = "order_count" if kind == "no_orders" else _choice(body, "metric", ALERT_METRICS, "revenue")
    period = _choice(body, "period", PERIODS, "last_24h" if kind == "no_orders" else None)
    threshold_raw = body.get("threshold", 0 if kind == "no_orders" else None)
    if isinstance(threshold_raw, bool) or not isinstance(threshold_raw, int | float):
        raise InvalidParameter(
            "threshold must be a number (below: in the metric's unit; drop_vs_last_year: a percentage).",
            details=[{"parameter": "threshold", "value": threshold_raw, "message": "a number"}],
        )
    threshold = float(threshold_raw)
    if kind == "drop_vs_last_year" and not 0 < threshold <= 100:
        raise InvalidParameter(
            "threshold of drop_vs_last_year is a percentage between 0 and 100.",
            details=[{"parameter": "threshold", "value": threshold, "message": "0 < threshold <= 100"}],
        )
    filters = specs.check_filters(engine, body.get("filters"))
    dated = [k for k in ("start", "end") if k in filters]
    if dated:
        raise InvalidParameter(
            "An alert's period sets its dates; leave start and end out of its filters.",
            details=[{"parameter": f"filters.{k}", "message": "set by the period"} for k in dated],
        )
    webhook = mail.check_webhook(body.get("webhook_url"))
    given = specs.split_list(body.get("recipients"))
    recipients = mail.check_recipients(given) if given or webhook is None else []
    return {
        "name": specs.check_name(body.get("name")),
        "kind": kind,
        "metric": metric,
        "period": period,
        "threshold": threshold,
        "filters": filters,
        "recipients": recipients,
        "webhook_url": webhook,
        "paused": specs.check_bool(body.get("paused", False), "paused"),
    }


def _public(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["filters"] = json.loads(out["filters"])
    out["recipients"] = [r for r in out["recipients"].split(",") if r]
    return out


def create(engine: Engine, body: Mapping[str, Any], *, clock: datetime | None = None) -> dict[str, Any]:
    ensure_schema(engine)
    spec = check_spec(engine, body)
    values = {
        **spec,
        "filters": specs.dumps(spec["filters"]),
        "recipients": ",".join(spec["recipients"]),
        "created_at": clock or utc_now(),
        "firing": False,
    }
    with engine.begin() as conn:
        new_id = conn.execute(insert(alert_rules).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    return get(engine, int(new_id))


def get(engine: Engine, rule_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(alert_rules).where(alert_rules.c.id == rule_id)).mappings().first()
    if row is None:
        raise NotFound(
            f"No alert with id {rule_id}.",
            details=[{"parameter": "id", "value": rule_id, "message": "unknown alert"}],
        )
    out = _public(row)
    out["history"] = history(engine, rule_id)
    return out


def all_rules(engine: Engine) -> list[dict[str, Any]]:
    ensure_schema(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(alert_rules).order_by(alert_rules.c.id)).mappings().all()
    return [_public(r) for r in rows]


def history(engine: Engine, rule_id: int | None = None, limit: int = HISTORY) -> list[dict[str, Any]]:
    e = alert_events
    query = select(e).order_by(e.c.id.desc()).limit(limit)
    if rule_id is not None:
        query = query.where(e.c.rule_id == rule_id)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        row["delivery"] = json.loads(row["delivery"])
    return rows


def set_paused(engine: Engine, rule_id: int, paused: bool) -> dict[str, Any]:
    get(engine, rule_id)
    with engine.begin() as conn:
        conn.execute(update(alert_rules).where(alert_rules.c.id == rule_id).values(paused=paused))
    return get(engine, rule_id)


def remove(engine: Engine, rule_id: int) -> dict[str, Any]:
    current = get(engine, rule_id)
    with engine.begin() as conn:
        conn.execute(delete(alert_events).where(alert_events.c.rule_id == rule_id))
        conn.execute(delete(alert_rules).where(alert_rules.c.id == rule_id))
    current.pop("history", None)
    return current


@dataclass(frozen=True)
class Evaluation:
    holds: bool
    value: float | None
    message: str
    start: date
    end: date
    data_version: str | None


def _amount(metric: str, value: Any) -> str:
    from salesdash.reports.runner import figure_text

    return figure_text(metric, value)


def evaluate(engine: Engine, rule: Mapping[str, Any], now: datetime) -> Evaluation:
    """Whether ``rule``'s condition holds at ``now``, with the value and a sentence saying why."""
    filters = specs.filters_from(rule["filters"])
    start, end = period_bounds(rule["period"], now)
    metric = rule["metric"]
    label = METRICS[metric].label.lower()
    with snapshot(engine) as conn:
        version = current_version_label_in(conn)
        value = kpis(conn, filters.with_dates(start, end)).get(metric) if version else None
        previous = None
        if rule["kind"] == "drop_vs_last_year" and version:
            previous = kpis(conn, filters.with_dates(_year_earlier(start), _year_earlier(end))).get(metric)
    span = f"{start.isoformat()} to {end.isoformat()}"
    where = filters.applied_text()
    scope = f" ({where})" if where else ""
    number = float(value) if value is not None else None
    if rule["kind"] == "no_orders":
        holds = not number
        text = f"no order from {span}{scope}" if holds else f"{int(number or 0):,} orders from {span}{scope}"
    elif rule["kind"] == "below":
        holds = number is not None and number < rule["threshold"]
        relation = "below" if holds else "not below"
        text = (
            f"{label} from {span}{scope} is {_amount(metric, number)}, "
            f"{relation} {_amount(metric, rule['threshold'])}"
        )
    else:
        base = float(previous) if previous else 0.0
        change = (number or 0.0) / base * 100 - 100 if base else None
        holds = change is not None and change < -rule["threshold"]
        shown = f"{change:+.1f}%" if change is not None else "no value a year earlier"
        text = (
            f"{label} from {span}{scope} is {_amount(metric, number)}, {shown} vs the same period a year "
            f"earlier ({_amount(metric, previous)}); alert below -{rule['threshold']:g}%"
        )
    return Evaluation(holds, number, text, start, end, version)


def _notify(
    engine: Engine,
    settings: Any,
    rule: Mapping[str, Any],
    event: str,
    result: Evaluation,
    at: datetime,
    trigger: str,
) -> dict[str, str]:
    subject = f"salesdash alert {event}: {rule['name']}"
    sentence = f'Alert "{rule["name"]}" {event}: {result.message}.'
    body = f"{sentence}\n\nData version: {result.data_version}\nChecked at: {at.isoformat(timespec='seconds')}Z ({trigger})\n"
    delivery: dict[str, str] = {}
    if rule["recipients"]:
        try:
            target = mail.smtp_target(settings)
            mail.send(target, mail.compose(target, rule["recipients"], subject, body))
            delivery["email"] = "sent"
            count_send("alert", "email", True)
        except (mail.DeliveryError, ConfigError) as exc:
            delivery["email"] = getattr(exc, "message", None) or str(exc)
            count_send("alert", "email", False)
    if rule["webhook_url"]:
        payload = {
            "alert": {k: rule[k] for k in ("id", "name", "kind", "metric", "period", "threshold", "filters")},
            "event": event,
            "value": result.value,
            "message": sentence,
            "period": {"start": result.start.isoformat(), "end": result.end.isoformat()},
            "data_version": result.data_version,
            "checked_at": at.isoformat(timespec="seconds") + "Z",
            "trigger": trigger,
        }
        try:
            mail.post_json(rule["webhook_url"], payload, settings.webhook_timeout)
            delivery["webhook"] = "sent"
            count_send("alert", "webhook", True)
        except mail.DeliveryError as exc:
            delivery["webhook"] = str(exc)
            count_send("alert", "webhook", False)
    return delivery


def check_all(
    engine: Engine, settings: Any, *, trigger: str = "schedule", now: datetime | None = None
) -> list[dict[str, Any]]:
    """Check every active alert at ``now``; notify and record each one whose state changed. Returns the
    events recorded (by this process)."""
    at = now or utc_now()
    events: list[dict[str, Any]] = []
    for rule in all_rules(engine):
        if rule["paused"]:
            continue
        result = evaluate(engine, rule, at)
        a = alert_rules
        values = {"last_checked_at": at, "last_value": result.value}
        if result.holds == bool(rule["firing"]):
            with engine.begin() as conn:
                conn.execute(update(a).where(a.c.id == rule["id"]).values(**values))
            continue
        try:
            with engine.begin() as conn:
                claimed = conn.execute(
                    update(a)
                    .where(a.c.id == rule["id"], a.c.firing == (true() if rule["firing"] else false()))
                    .values(firing=result.holds, **values)
                ).rowcount
        except DBAPIError:
            claimed = 0
        if claimed != 1:
            continue  # another checker saw the same change and notifies
        event = "fired" if result.holds else "cleared"
        delivery = _notify(engine, settings, rule, event, result, at, trigger)
        row = {
            "rule_id": rule["id"],
            "occurred_at": at,
            "event": event,
            "value": result.value,
            "message": result.message,
            "data_version": result.data_version,
            "trigger": trigger,
            "delivery": json.dumps(delivery),
        }
        with engine.begin() as conn:
            conn.execute(insert(alert_events).values(**row))
        log.info("alert %s %s: %s", rule["id"], event, result.message)
        events.append(row | {"delivery": delivery})
    return events


def after_load(engine: Engine, settings: Any, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The post-load hook: call after every committed load or stream batch (with the store's engine and the
    settings). Checks every alert; never raises (a failed check is logged, the load stays committed)."""
    try:
        return check_all(engine, settings, trigger="load", now=now)
    except Exception:
        log.exception("alert check after a load failed")
        return []


def batch_hook(engine: Engine, settings: Any) -> Callable[[Any], None]:
    """An ``after_batch`` hook for the stream consumer: after each committed batch that added lines (its
    outcome has a new ``version``), check every alert (:func:`after_load`)."""

    def hook(outcome: Any) -> None:
        if getattr(outcome, "version", None) is not None:
            after_load(engine, settings)

    return hook
