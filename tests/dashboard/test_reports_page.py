"""The Reports page and the Data page's audit section (AppTest) against a real API with a real SMTP server:
schedule a report with the sidebar's filters, send it now, pause, delete; create an alert; read the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from benchmarks.reliability.common import free_port
from salesdash.config import Settings
from salesdash.ingest import ingest_file
from salesdash.reports import alerts, schedules
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.conftest import SAMPLE_CSV
from tests.dashboard.conftest import APP, serve
from tests.reports.conftest import SmtpSink, wait_until

TIMEOUT = 60


@dataclass
class Stack:
    url: str
    engine: Engine
    admin: str
    sink: SmtpSink


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    smtp_sink = SmtpSink(free_port()).start()
    url = f"sqlite:///{tmp_path_factory.mktemp('reports-page') / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    admin = create_token(engine, "admin", "dashboard")
    server, thread = serve(Settings(database_url=url, smtp_url=smtp_sink.url), engine)
    api = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("SALESDASH_API_URL", api)
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "60")
    yield Stack(api, engine, admin, smtp_sink)
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()
    smtp_sink.stop()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def frame(at: AppTest, column: str):
    """The first table with ``column`` (tables carry no key in AppTest)."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no table with a {column!r} column")


def test_schedule_send_pause_delete_from_the_reports_page(stack: Stack) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.multiselect(key="country").set_value(["France"]).run()
    at.switch_page("views/reports.py").run()
    assert not at.exception
    assert any("admin token" in i.value for i in at.info)
    at.text_input(key="session_token").set_value(stack.admin).run()  # the sidebar's one token field
    assert not at.exception and not at.error
    at.text_input(key="report_name").set_value("Weekly France <b>bold</b>")
    at.text_input(key="report_to").set_value("sales-team@example.com")
    button(at, "Schedule").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (created,) = schedules.all_schedules(stack.engine)
    assert created["filters"] == {"country": ["France"]} and created["cron"] == "0 8 * * mon"
    assert created["timezone"] == "Europe/Paris" and created["recipients"] == ["sales-team@example.com"]
    table = frame(at, "last run")
    assert list(table["name"]) == ["Weekly France <b>bold</b>"]  # shown as text in a table
    assert list(table["last run"]) == ["never"]

    button(at, "Send now").click().run()
    assert not at.exception
    wait_until(lambda: len(stack.sink.messages) == 1, what="the report e-mail")
    assert list(frame(at, "last run")["last run"]) == ["sent"]
    button(at, "Pause").click().run()
    assert schedules.all_schedules(stack.engine)[0]["paused"] is True
    assert list(frame(at, "last run")["state"]) == ["paused"]
    button(at, "Delete").click().run()
    assert schedules.all_schedules(stack.engine) == []
    assert stack.admin not in "\n".join(
        str(e.value) for e in (*at.markdown, *at.caption, *at.code, *at.success)
    )


def test_create_an_alert_and_read_the_audit_log(stack: Stack) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/reports.py").run()
    at.text_input(key="session_token").set_value(stack.admin).run()
    at.text_input(key="alert_name").set_value("Feed stalled")
    at.selectbox(key="alert_kind").set_value("no_orders")
    at.text_input(key="alert_to").set_value("ops@example.com")
    button(at, "Create alert").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (rule,) = alerts.all_rules(stack.engine)
    assert rule["kind"] == "no_orders" and rule["recipients"] == ["ops@example.com"]
    button(at, "Check now").click().run()
    wait_until(lambda: len(stack.sink.messages) == 1, what="the alert e-mail")
    assert list(frame(at, "last check")["state"]) == ["FIRING"]
    assert list(frame(at, "trigger")["event"]) == ["fired"]

    at.switch_page("views/data.py").run()  # the token entered once serves the Data page's audit log too
    assert not at.exception
    log = frame(at, "actor")
    assert list(log["action"])[:2] == ["alert.check", "alert.create"]
    assert set(log["role"]) == {"admin"}
    assert stack.admin not in log.to_csv()
