"""Scheduled reports end to end: the API defines them, the scheduler's "run due now" (with an injected clock)
sends them through a real SMTP server, and the attachment is the file /api/export gives."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import Engine, select

from salesdash import cli
from salesdash.charts.format import money
from salesdash.reports import runner, schedules
from salesdash.store import make_engine
from salesdash.store.schema import report_runs, report_schedules
from salesdash.tokens import create_token
from tests.api.conftest import app_for, assert_error, bearer, data_of, settings_for
from tests.reports.conftest import SmtpSink, attachments, body_text, wait_until

FRANCE_WEEKLY = {
    "name": "France weekly",
    "view": "kpis",
    "filters": {"country": ["france"]},  # matched to the data as the API matches it
    "formats": ["pdf"],
    "cron": "0 8 * * mon",
    "timezone": "Europe/Paris",
    "recipients": ["sales-team@example.com", "head-of-sales@example.com"],
}


def _schedule(client: Any, token: str, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/reports", json={**FRANCE_WEEKLY, **changes}, headers=bearer(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def test_monday_8am_pdf_of_france_arrives_once_with_the_apis_numbers(
    loaded_engine: Engine, smtp_sink: SmtpSink
):
    app = app_for(loaded_engine, smtp_url=smtp_sink.url)
    client = app.test_client()
    admin = create_token(loaded_engine, "admin", "reports admin")
    created = _schedule(client, admin)
    due = _at(created["next_run_at"])
    # Monday 08:00 in Paris is 07:00 UTC in winter
    assert due.weekday() == 0 and due.hour == 7 and due.minute == 0
    assert created["filters"] == {"country": ["France"]}
    settings = app.extensions["salesdash"].settings

    before = runner.run_due(loaded_engine, settings, now=due - timedelta(seconds=1))
    assert before.sent == [] and smtp_sink.messages == []
    outcome = runner.run_due(loaded_engine, settings, now=due + timedelta(seconds=5))
    assert len(outcome.sent) == 1 and not outcome.failed
    again = runner.run_due(loaded_engine, settings, now=due + timedelta(seconds=30))
    assert again.sent == []
    assert len(smtp_sink.messages) == 1
    message = smtp_sink.messages[0]
    assert sorted(smtp_sink.envelopes[0][1]) == sorted(FRANCE_WEEKLY["recipients"])

    api = data_of(client.get("/api/kpis?country=France"))
    version = client.get("/api/version").get_json()["data"]["data_version"]
    (name, pdf), *_ = attachments(message).items()
    assert name.endswith(".pdf") and version[:15] in name
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    revenue = api["revenue"]["value"] if isinstance(api["revenue"], dict) else api["revenue"]
    orders = api["order_count"]["value"] if isinstance(api["order_count"], dict) else api["order_count"]
    assert money(revenue) in text and f"{orders}" in text and version in text and "France" in text
    # the same file as /api/export (same pages and numbers; only the generation time differs)
    exported = client.get("/api/export?view=kpis&format=pdf&country=France")
    assert exported.status_code == 200
    exported_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(exported.data)).pages)
    assert len(PdfReader(io.BytesIO(exported.data)).pages) == len(PdfReader(io.BytesIO(pdf)).pages)
    assert money(revenue) in exported_text

    body = body_text(message)
    assert f"Data version: {version}" in body
    assert "Countries: France" in body and "Statuses: all except Cancelled" in body
    assert f"Revenue: {money(revenue)}" in body and f"Orders: {orders}" in body
    assert "/api/export?view=kpis&format=pdf&country=France" in body
    assert "France weekly" in str(message["Subject"])

    listed = data_of(client.get("/api/reports", headers=bearer(admin)))
    assert listed[0]["last_run"]["status"] == "sent" and listed[0]["last_run"]["data_version"] == version
    assert _at(listed[0]["next_run_at"]) == due + timedelta(days=7)


def test_two_schedulers_send_one_email(loaded_engine: Engine, db_url: str, smtp_sink: SmtpSink):
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    created = schedules.create(loaded_engine, {**FRANCE_WEEKLY, "formats": ["xlsx"]})
    due = created["next_run_at"] + timedelta(seconds=1)
    other = make_engine(db_url)  # a second scheduler with its own connections
    barrier = threading.Barrier(2)
    outcomes: list[runner.Outcome] = []

    def scheduler(engine: Engine, name: str) -> None:
        barrier.wait()
        outcomes.append(runner.run_due(engine, settings, now=due, worker=name))

    threads = [
        threading.Thread(target=scheduler, args=(loaded_engine, "one")),
        threading.Thread(target=scheduler, args=(other, "two")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other.dispose()
    assert len(outcomes) == 2
    assert sorted(len(o.sent) for o in outcomes) == [0, 1]
    assert len(smtp_sink.messages) == 1
    with loaded_engine.connect() as conn:
        assert len(conn.execute(select(report_runs)).all()) == 1
    workbook = load_workbook(io.BytesIO(next(iter(attachments(smtp_sink.messages[0]).values()))))
    assert "About" in workbook.sheetnames


def test_smtp_down_is_retried_with_backoff_and_reported(loaded_engine: Engine, smtp_later: SmtpSink):
    app = app_for(loaded_engine, smtp_url=smtp_later.url, report_retries=2, report_retry_seconds=60)
    client = app.test_client()
    admin = create_token(loaded_engine, "admin", "reports admin")
    settings = app.extensions["salesdash"].settings
    created = _schedule(client, admin, formats=["xlsx"])
    due = _at(created["next_run_at"])

    first = runner.run_due(loaded_engine, settings, now=due)
    assert len(first.failed) == 1
    shown = data_of(client.get(f"/api/reports/{created['id']}", headers=bearer(admin)))["last_run"]
    assert shown["status"] == "retrying" and shown["attempts"] == 1
    assert f"127.0.0.1:{smtp_later.port}" in shown["error"]
    assert _at(shown["next_attempt_at"]) == due + timedelta(seconds=60)

    assert runner.run_due(loaded_engine, settings, now=due + timedelta(seconds=59)).failed == []
    second = runner.run_due(loaded_engine, settings, now=due + timedelta(seconds=60))
    assert len(second.failed) == 1  # still down: the next wait doubles
    shown = data_of(client.get(f"/api/reports/{created['id']}", headers=bearer(admin)))["last_run"]
    assert shown["attempts"] == 2 and _at(shown["next_attempt_at"]) == due + timedelta(seconds=180)

    smtp_later.start()  # the server is back
    third = runner.run_due(loaded_engine, settings, now=due + timedelta(seconds=180))
    assert len(third.sent) == 1
    assert len(smtp_later.messages) == 1
    shown = data_of(client.get(f"/api/reports/{created['id']}", headers=bearer(admin)))["last_run"]
    assert shown["status"] == "sent" and shown["attempts"] == 3 and shown["error"] is None


def test_a_send_that_keeps_failing_gives_up_after_the_retries(loaded_engine: Engine, smtp_later: SmtpSink):
    settings = settings_for(loaded_engine, smtp_url=smtp_later.url, report_retries=1, report_retry_seconds=10)
    created = schedules.create(loaded_engine, {**FRANCE_WEEKLY, "formats": ["xlsx"]})
    due = created["next_run_at"]
    runner.run_due(loaded_engine, settings, now=due)
    runner.run_due(loaded_engine, settings, now=due + timedelta(seconds=10))
    later = runner.run_due(loaded_engine, settings, now=due + timedelta(days=1))
    assert later.failed == []  # nothing left to retry
    (run,) = schedules.runs(loaded_engine, created["id"])
    assert run["status"] == "failed" and run["attempts"] == 2 and run["next_attempt_at"] is None


@pytest.mark.parametrize("late_minutes", [30, 180])
def test_missed_run_rule_after_downtime(loaded_engine: Engine, smtp_sink: SmtpSink, late_minutes: int):
    """Down for three weeks: only the latest missed run counts; sent if within the grace period (60 min)."""
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url, report_grace_minutes=60)
    created = schedules.create(loaded_engine, {**FRANCE_WEEKLY, "formats": ["xlsx"]})
    latest = created["next_run_at"] + timedelta(days=14)
    outcome = runner.run_due(loaded_engine, settings, now=latest + timedelta(minutes=late_minutes))
    runs = schedules.runs(loaded_engine, created["id"])
    assert len(runs) == 1 and runs[0]["due_at"] == latest
    if late_minutes <= 60:
        assert len(outcome.sent) == 1 and len(smtp_sink.messages) == 1 and runs[0]["status"] == "sent"
    else:
        assert outcome.missed and smtp_sink.messages == [] and runs[0]["status"] == "missed"
    assert schedules.get(loaded_engine, created["id"])["next_run_at"] == latest + timedelta(days=7)


def test_paused_schedules_are_not_sent_and_send_now_sends(loaded_engine: Engine, smtp_sink: SmtpSink):
    app = app_for(loaded_engine, smtp_url=smtp_sink.url)
    client = app.test_client()
    admin = create_token(loaded_engine, "admin", "reports admin")
    settings = app.extensions["salesdash"].settings
    created = _schedule(client, admin, formats=["xlsx"])
    paused = data_of(client.post(f"/api/reports/{created['id']}/pause", headers=bearer(admin)))
    assert paused["paused"] is True
    assert (
        runner.run_due(loaded_engine, settings, now=_at(created["next_run_at"]) + timedelta(days=1)).sent
        == []
    )
    run = data_of(client.post(f"/api/reports/{created['id']}/send", headers=bearer(admin)))
    assert run["status"] == "sent" and run["trigger"] == "manual"
    assert len(smtp_sink.messages) == 1
    assert (
        data_of(client.delete(f"/api/reports/{created['id']}", headers=bearer(admin)))["id"] == created["id"]
    )
    assert_error(client.get(f"/api/reports/{created['id']}", headers=bearer(admin)), 404, "not_found")


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"cron": "0 8 * *"}, "cron"),
        ({"cron": "61 8 * * *"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"recipients": ["sales@example.com\r\nBcc: spy@example.com"]}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"filters": {"country": ["Atlantis"]}}, "country"),
        ({"filters": {"planet": ["Mars"]}}, "filters.planet"),
        ({"view": "nope"}, "view"),
        ({"formats": ["png"]}, "formats"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_schedules_get_one_clear_error(small_engine: Engine, changes: dict[str, Any], parameter: str):
    client = app_for(small_engine).test_client()
    admin = create_token(small_engine, "admin", "a")
    response = client.post(
        "/api/reports", json={**FRANCE_WEEKLY, "filters": {}, **changes}, headers=bearer(admin)
    )
    error = assert_error(response, 400)
    assert any(d.get("parameter") == parameter for d in error["details"]), error
    with small_engine.connect() as conn:
        assert conn.execute(select(report_schedules)).all() == []


def test_reports_need_an_admin_token(small_engine: Engine):
    client = app_for(small_engine).test_client()
    viewer = create_token(small_engine, "viewer", "v")
    assert_error(client.get("/api/reports"), 401)
    assert_error(client.get("/api/reports", headers=bearer(viewer)), 403)
    assert_error(client.post("/api/reports", json=FRANCE_WEEKLY, headers=bearer(viewer)), 403)


def test_cli_report_add_list_send_remove(
    loaded_engine: Engine, db_url: str, smtp_sink: SmtpSink, monkeypatch, capsys
):
    monkeypatch.setenv("SALESDASH_DATABASE_URL", db_url)
    monkeypatch.setenv("SALESDASH_SMTP_URL", smtp_sink.url)
    loaded_engine.dispose()  # DuckDB: the CLI opens the file itself
    args = ["report", "add", "--name", "Weekly France", "--cron", "0 8 * * mon", "--timezone", "Europe/Paris"]
    args += ["--to", "sales@example.com", "--filter", "country=France", "--format", "xlsx"]
    assert cli.main(args) == 0
    assert "Weekly France" in capsys.readouterr().out
    assert cli.main(["report", "list"]) == 0
    listed = capsys.readouterr().out
    assert (
        "0 8 * * mon Europe/Paris" in listed and '"country": ["France"]' in listed and "never run" in listed
    )
    assert cli.main(["report", "send", "1"]) == 0
    assert "sent" in capsys.readouterr().out and len(smtp_sink.messages) == 1
    assert cli.main(["scheduler", "--once"]) == 0  # nothing due yet (next Monday 08:00)
    assert "reports: 0 sent, 0 failed, 0 missed" in capsys.readouterr().out
    assert cli.main(["report", "remove", "1"]) == 0
    assert cli.main(["report", "remove", "1"]) == 2
    assert "No report schedule with id 1" in capsys.readouterr().err
    assert cli.main(["report", "add", "--name", "x", "--cron", "bad", "--to", "a@example.com"]) == 2
    assert "cron='bad'" in capsys.readouterr().err


def test_the_background_scheduler_sends_what_is_due(loaded_engine: Engine, smtp_sink: SmtpSink):
    """The APScheduler wiring (as inside `salesdash serve`): a schedule whose time has passed is sent by the
    scheduler's own job, without anyone calling run_due."""
    from salesdash.reports.scheduler import start_background

    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url, scheduler_interval_seconds=1)
    created = schedules.create(loaded_engine, {**FRANCE_WEEKLY, "formats": ["xlsx"]})
    with loaded_engine.begin() as conn:  # due a minute ago
        conn.execute(
            report_schedules.update()
            .where(report_schedules.c.id == created["id"])
            .values(next_run_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1))
        )
    scheduler = start_background(loaded_engine, settings)
    try:
        wait_until(lambda: len(smtp_sink.messages) == 1, timeout=60, what="the scheduler's e-mail")
    finally:
        scheduler.shutdown(wait=True)
    assert schedules.runs(loaded_engine, created["id"])[0]["status"] == "sent"


def test_a_bad_smtp_url_stops_at_start_without_echoing_it(monkeypatch):
    from salesdash.config import load_settings
    from salesdash.errors import ConfigError

    monkeypatch.setenv("SALESDASH_SMTP_URL", "http://mailer:Hunter2Secret@mail.example.com")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "SALESDASH_SMTP_URL" in info.value.message and "Hunter2Secret" not in info.value.message


def test_smtp_login_is_used_and_a_refused_login_is_reported_without_the_password(loaded_engine: Engine):
    """A real SMTP server with AUTH (plain on loopback): the URL's user and password log in; a wrong password
    fails the run with the server's answer, and the password appears nowhere (run, audit, settings repr)."""
    from aiosmtpd.smtp import AuthResult

    from benchmarks.reliability.common import free_port

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"reports" and auth_data.password == b"c0rrect-h0rse"
        # handled=False: the server answers the refusal itself (535); True would leave the client waiting
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    from aiosmtpd.controller import Controller

    sink = SmtpSink(free_port())

    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        good = settings_for(loaded_engine, smtp_url=f"smtp://reports:c0rrect-h0rse@127.0.0.1:{sink.port}")
        created = schedules.create(loaded_engine, {**FRANCE_WEEKLY, "formats": ["xlsx"]})
        assert runner.send_now(loaded_engine, good, created["id"])["status"] == "sent"
        assert len(sink.messages) == 1 and sink.logins == [b"reports"]
        bad = settings_for(loaded_engine, smtp_url=f"smtp://reports:wr0ng-pass@127.0.0.1:{sink.port}")
        run = runner.send_now(loaded_engine, bad, created["id"])
        assert run["status"] == "retrying" and f"127.0.0.1:{sink.port}" in run["error"]
        assert "535" in run["error"], run["error"]  # the server's refusal, not a timeout
        assert "wr0ng-pass" not in run["error"] and "wr0ng-pass" not in repr(bad)
        assert len(sink.messages) == 1
    finally:
        controller.stop()


def test_a_run_left_sending_by_a_dead_process_is_taken_over_after_its_lease(
    loaded_engine: Engine, smtp_sink: SmtpSink
):
    settings = settings_for(loaded_engine, smtp_url=smtp_sink.url)
    created = schedules.create(loaded_engine, {**FRANCE_WEEKLY, "formats": ["xlsx"]})
    due = created["next_run_at"]
    claimed = runner._claim_run(loaded_engine, created["id"], due, "schedule", "sending", "dead:1", due)
    assert claimed is not None  # claimed, then the process died before sending
    assert runner.run_due(loaded_engine, settings, now=due + runner.LEASE - timedelta(seconds=1)).sent == []
    taken = runner.run_due(loaded_engine, settings, now=due + runner.LEASE)
    assert taken.sent == [claimed] and len(smtp_sink.messages) == 1
    (run,) = schedules.runs(loaded_engine, created["id"])
    assert run["status"] == "sent" and run["claimed_by"] != "dead:1"
