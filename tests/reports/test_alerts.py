"""Alerts: checked with an injected clock against the real metric layer, notified through a real SMTP server
and a real HTTP webhook receiver; exactly one message when the condition starts and one when it clears."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from salesdash.metrics import Filters, kpis
from salesdash.reports import alerts
from salesdash.store import make_engine, snapshot
from salesdash.tokens import create_token
from tests.api.conftest import app_for, assert_error, bearer, data_of, settings_for
from tests.reports.conftest import SmtpSink, WebhookSink, body_text, wait_until

FRANCE = Filters(countries=("France",))


def month_revenue(engine: Engine, year: int, month: int) -> float:
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with snapshot(engine) as conn:
        return float(kpis(conn, FRANCE.with_dates(first, last))["revenue"])


def checked_in(year: int, month: int) -> datetime:
    """A clock in the month after (year, month): its last complete month is (year, month)."""
    first = date(year, month, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime(following.year, following.month, 10, 9, 30)


def test_crossing_and_clearing_send_exactly_two_messages(
    loaded_engine: Engine, smtp_sink: SmtpSink, webhook_sink: WebhookSink
):
    months = [(2004, m) for m in range(1, 13)]
    values = {m: month_revenue(loaded_engine, *m) for m in months}
    low, high = min(months, key=values.__getitem__), max(months, key=values.__getitem__)
    assert values[low] < values[high]
    threshold = round((values[low] + values[high]) / 2, 2)
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    rule = alerts.create(
        loaded_engine,
        {
            "name": "France monthly revenue",
            "kind": "below",
            "metric": "revenue",
            "period": "last_complete_month",
            "threshold": threshold,
            "filters": {"country": ["France"]},
            "recipients": ["sales-team@example.com"],
            "webhook_url": webhook_sink.url,
        },
    )
    sequence = [high, low, low, low, high, high, low]  # ok, FIRE, -, -, CLEAR, -, FIRE
    events = [alerts.check_all(loaded_engine, settings, now=checked_in(*m)) for m in sequence]
    assert [[e["event"] for e in batch] for batch in events] == [
        [],
        ["fired"],
        [],
        [],
        ["cleared"],
        [],
        ["fired"],
    ]
    assert len(smtp_sink.messages) == 3 and len(webhook_sink.bodies) == 3
    first, second = smtp_sink.messages[:2]
    assert "fired" in str(first["Subject"]) and "cleared" in str(second["Subject"])
    text = body_text(first)
    assert "below" in text and "France" in text and f"{low[0]}-{low[1]:02d}-01" in text
    hook = webhook_sink.bodies[0]
    assert hook["event"] == "fired" and hook["alert"]["id"] == rule["id"]
    assert hook["value"] == pytest.approx(values[low]) and hook["data_version"]
    assert [b["event"] for b in webhook_sink.bodies] == ["fired", "cleared", "fired"]
    history = alerts.history(loaded_engine, rule["id"])
    assert [h["event"] for h in history] == ["fired", "cleared", "fired"]
    assert history[0]["delivery"] == {"email": "sent", "webhook": "sent"}


def test_drop_versus_the_same_period_last_year(loaded_engine: Engine, smtp_sink: SmtpSink):
    changes = {}
    for month in range(1, 13):
        before = month_revenue(loaded_engine, 2003, month)
        if before:
            changes[month] = month_revenue(loaded_engine, 2004, month) / before * 100 - 100
    dropped = next(m for m, c in changes.items() if c < -20)
    steady = next(m for m, c in changes.items() if c > -20)
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    alerts.create(
        loaded_engine,
        {
            "name": "France down vs last year",
            "kind": "drop_vs_last_year",
            "metric": "revenue",
            "period": "last_complete_month",
            "threshold": 20,
            "filters": {"country": ["France"]},
            "recipients": ["sales@example.com"],
        },
    )
    assert alerts.check_all(loaded_engine, settings, now=checked_in(2004, steady)) == []
    (fired,) = alerts.check_all(loaded_engine, settings, now=checked_in(2004, dropped))
    assert fired["event"] == "fired" and f"{changes[dropped]:+.1f}%" in fired["message"]
    assert len(smtp_sink.messages) == 1


def test_no_order_in_the_last_24_hours(loaded_engine: Engine, smtp_sink: SmtpSink):
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    alerts.create(
        loaded_engine, {"name": "Feed stalled", "kind": "no_orders", "recipients": ["ops@example.com"]}
    )
    with snapshot(loaded_engine) as conn:
        last = conn.exec_driver_sql("SELECT MAX(order_date) FROM order_lines").scalar_one()
    last = date.fromisoformat(str(last)[:10])
    live = datetime(last.year, last.month, last.day, 18, 0)
    assert alerts.check_all(loaded_engine, settings, now=live) == []
    (stalled,) = alerts.check_all(loaded_engine, settings, now=live + timedelta(days=3))
    assert stalled["event"] == "fired" and "no order" in stalled["message"]
    (back,) = alerts.check_all(loaded_engine, settings, now=live)
    assert back["event"] == "cleared"
    assert len(smtp_sink.messages) == 2


def test_two_checkers_notify_once(loaded_engine: Engine, db_url: str, smtp_sink: SmtpSink):
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    alerts.create(
        loaded_engine, {"name": "Feed stalled", "kind": "no_orders", "recipients": ["ops@example.com"]}
    )
    other = make_engine(db_url)
    barrier = threading.Barrier(2)
    found: list[list[dict[str, Any]]] = []

    def checker(engine: Engine) -> None:
        barrier.wait()
        found.append(alerts.check_all(engine, settings, now=datetime(2026, 1, 1, 12)))

    threads = [threading.Thread(target=checker, args=(e,)) for e in (loaded_engine, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    assert sorted(len(f) for f in found) == [0, 1]
    assert len(smtp_sink.messages) == 1


def test_a_load_through_the_api_runs_the_alert_check(loaded_engine: Engine, smtp_sink: SmtpSink):
    """The post-load hook: a refresh commits, then every alert is checked (real clock: the sample's orders
    are years old, so 'no order in the last 24 h' fires)."""
    client = app_for(loaded_engine, smtp_url=smtp_sink.url).test_client()
    admin = create_token(loaded_engine, "admin", "ops")
    body = {"name": "Feed stalled", "kind": "no_orders", "recipients": ["ops@example.com"]}
    created = client.post("/api/alerts", json=body, headers=bearer(admin))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert client.post("/api/data-refresh", headers=bearer(admin)).status_code == 200
    wait_until(lambda: len(alerts.history(loaded_engine)) == 1, what="the firing in the history")
    assert len(smtp_sink.messages) == 1  # recorded after it was delivered
    rule = data_of(client.get(f"/api/alerts/{created.get_json()['data']['id']}", headers=bearer(admin)))
    assert rule["firing"] is True and rule["history"][0]["trigger"] == "load"
    history = data_of(client.get("/api/alerts/history", headers=bearer(admin)))
    assert [h["event"] for h in history] == ["fired"]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"kind": "above"}, "kind"),
        ({"kind": "below", "metric": "happiness", "period": "last_7_days", "threshold": 1}, "metric"),
        ({"kind": "below", "period": "last_century", "threshold": 1}, "period"),
        ({"kind": "below", "period": "last_7_days", "threshold": "lots"}, "threshold"),
        ({"kind": "drop_vs_last_year", "period": "last_7_days", "threshold": 150}, "threshold"),
        ({"kind": "no_orders", "webhook_url": "file:///etc/passwd"}, "webhook_url"),
        ({"kind": "no_orders", "filters": {"start": "2004-01-01"}}, "filters.start"),
        ({"kind": "no_orders", "recipients": ["not an address"]}, "recipients"),
    ],
)
def test_bad_alerts_get_one_clear_error(small_engine: Engine, body: dict[str, Any], parameter: str):
    client = app_for(small_engine).test_client()
    admin = create_token(small_engine, "admin", "a")
    response = client.post(
        "/api/alerts", json={"name": "x", "recipients": ["a@example.com"], **body}, headers=bearer(admin)
    )
    error = assert_error(response, 400)
    assert any(d.get("parameter") == parameter for d in error["details"]), error


def test_the_stream_batch_hook_checks_alerts_after_a_batch_that_added_lines(
    loaded_engine: Engine, smtp_sink: SmtpSink
):
    @dataclass
    class Outcome:  # what the stream consumer hands its after_batch hooks
        version: object | None

    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    alerts.create(
        loaded_engine, {"name": "Feed stalled", "kind": "no_orders", "recipients": ["ops@example.com"]}
    )
    hook = alerts.batch_hook(loaded_engine, settings)
    hook(Outcome(version=None))  # a batch of duplicates only: nothing to check
    assert alerts.history(loaded_engine) == []
    hook(Outcome(version="v2"))
    assert [h["trigger"] for h in alerts.history(loaded_engine)] == ["load"]
    assert len(smtp_sink.messages) == 1
