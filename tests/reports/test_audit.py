"""The audit log: a row for every write (API and CLI) with token id and role, never a token or a secret;
GET /api/audit paginated and filtered; the same on every engine."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import Engine, select

from salesdash import cli
from salesdash.store.schema import audit_log
from salesdash.tokens import create_token, identify, list_tokens
from tests.api.conftest import app_for, assert_error, bearer, data_of
from tests.conftest import SMALL_CSV

SCHEDULE = {"name": "Weekly", "cron": "0 8 * * mon", "recipients": ["sales@example.com"], "formats": ["xlsx"]}


def all_rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]


def test_every_write_is_audited_without_secrets(fresh_engine: Engine, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    secret_smtp = "smtp://mailer:S3cretPassw0rd@127.0.0.1:1"
    client = app_for(fresh_engine, smtp_url=secret_smtp).test_client()
    admin = create_token(fresh_engine, "admin", "ops")
    viewer = create_token(fresh_engine, "viewer", "reader")
    admin_id = identify(fresh_engine, admin).token_id  # type: ignore[union-attr]
    viewer_id = identify(fresh_engine, viewer).token_id  # type: ignore[union-attr]

    refreshed = data_of(client.post("/api/data-refresh", headers=bearer(admin)))
    assert client.post("/api/data-refresh", headers=bearer(viewer)).status_code == 403
    with SMALL_CSV.open("rb") as handle:
        upload = client.post(
            "/api/uploads",
            data={"file": (handle, "small.csv")},
            headers=bearer(admin),
            content_type="multipart/form-data",
        )
    upload_id = upload.get_json()["data"]["upload_id"]
    confirmed = data_of(
        client.post(f"/api/uploads/{upload_id}/confirm", json={"mode": "replace"}, headers=bearer(admin))
    )
    created = client.post("/api/reports", json={**SCHEDULE, "api_token": admin}, headers=bearer(admin))
    assert created.status_code == 400  # unknown field, refused (and audited with the value redacted)
    schedule = client.post("/api/reports", json=SCHEDULE, headers=bearer(admin)).get_json()["data"]
    sent = data_of(client.post(f"/api/reports/{schedule['id']}/send", headers=bearer(admin)))
    assert sent["status"] == "retrying"  # nothing listens on port 1
    assert client.post(f"/api/reports/{schedule['id']}/pause", headers=bearer(admin)).status_code == 200
    assert client.delete(f"/api/reports/{schedule['id']}", headers=bearer(admin)).status_code == 200
    alert = client.post(
        "/api/alerts",
        json={"name": "a", "kind": "no_orders", "recipients": ["o@example.com"]},
        headers=bearer(admin),
    )
    assert (
        client.delete(f"/api/alerts/{alert.get_json()['data']['id']}", headers=bearer(admin)).status_code
        == 200
    )

    rows = all_rows(fresh_engine)
    actions = [(r["action"], r["result"], r["role"]) for r in rows]
    assert actions == [
        ("data.refresh", "ok", "admin"),
        ("data.refresh", "refused", "viewer"),
        ("upload.validate", "ok", "admin"),
        ("upload.confirm", "ok", "admin"),
        ("schedule.create", "refused", "admin"),
        ("schedule.create", "ok", "admin"),
        ("schedule.send", "ok", "admin"),
        ("schedule.pause", "ok", "admin"),
        ("schedule.delete", "ok", "admin"),
        ("alert.create", "ok", "admin"),
        ("alert.delete", "ok", "admin"),
    ]
    assert rows[0]["token_id"] == admin_id and rows[1]["token_id"] == viewer_id
    assert rows[0]["data_version"] == refreshed["data_version"]
    assert rows[3]["data_version"] == confirmed["data_version"]
    assert rows[1]["status"] == 403 and "admin role" in rows[1]["message"]
    upload_params = json.loads(rows[2]["parameters"])
    assert upload_params["files"] == [
        {"field": "file", "filename": "small.csv", "bytes": SMALL_CSV.stat().st_size}
    ]
    assert json.loads(rows[3]["parameters"]) == {"upload_id": upload_id, "body": {"mode": "replace"}}
    assert json.loads(rows[4]["parameters"])["body"]["api_token"] == "[redacted]"
    # no token, hash or password anywhere: audit rows, log lines
    everything = json.dumps(rows, default=str) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (admin, viewer, "S3cretPassw0rd"):
        assert secret not in everything
    first_line = SMALL_CSV.read_text().splitlines()[1]
    assert first_line not in everything  # no file content


def test_get_audit_is_admin_only_paginated_and_filtered(small_engine: Engine):
    client = app_for(small_engine).test_client()
    admin = create_token(small_engine, "admin", "ops")
    viewer = create_token(small_engine, "viewer", "reader")
    for _ in range(3):
        client.post("/api/data-refresh", headers=bearer(admin))
    client.post("/api/reports", json=SCHEDULE, headers=bearer(admin))
    assert_error(client.get("/api/audit"), 401)
    assert_error(client.get("/api/audit", headers=bearer(viewer)), 403)
    body = client.get("/api/audit?limit=2", headers=bearer(admin)).get_json()
    assert body["meta"]["total"] == 4 and len(body["data"]) == 2
    assert body["data"][0]["action"] == "schedule.create"  # newest first
    page2 = client.get("/api/audit?limit=2&offset=2", headers=bearer(admin)).get_json()["data"]
    assert [r["action"] for r in page2] == ["data.refresh", "data.refresh"]
    only = data_of(client.get("/api/audit?action=data.refresh", headers=bearer(admin)))
    assert len(only) == 3 and {r["action"] for r in only} == {"data.refresh"}
    prefix = data_of(client.get("/api/audit?action=schedule.", headers=bearer(admin)))
    assert [r["action"] for r in prefix] == ["schedule.create"]
    stamp = only[1]["recorded_at"]
    since = data_of(client.get(f"/api/audit?since={stamp}", headers=bearer(admin)))
    assert all(r["recorded_at"] >= stamp for r in since) and len(since) >= 2
    assert data_of(client.get("/api/audit?until=2000-01-01", headers=bearer(admin))) == []
    assert_error(client.get("/api/audit?since=yesterday", headers=bearer(admin)), 400, parameter="since")
    assert_error(client.get("/api/audit?limit=0", headers=bearer(admin)), 400, parameter="limit")


def test_cli_token_list_and_revoke_are_audited(fresh_engine: Engine, db_url: str, monkeypatch, capsys):
    monkeypatch.setenv("SALESDASH_DATABASE_URL", db_url)
    fresh_engine.dispose()
    assert cli.main(["ingest", "-q", str(SMALL_CSV)]) == 0
    capsys.readouterr()
    assert cli.main(["token", "create", "--role", "admin", "--name", "ci"]) == 0
    token = capsys.readouterr().out.strip()
    assert cli.main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "admin" in listed and "ci" in listed and token not in listed
    (entry,) = list_tokens(fresh_engine)
    client = app_for(fresh_engine).test_client()
    assert client.get("/api/audit", headers=bearer(token)).status_code == 200
    fresh_engine.dispose()
    assert cli.main(["token", "revoke", str(entry["id"])]) == 0
    assert cli.main(["token", "revoke", str(entry["id"])]) == 2
    assert "No token with id" in capsys.readouterr().err
    assert_error(client.get("/api/audit", headers=bearer(token)), 401)
    rows = all_rows(fresh_engine)
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("data.ingest", "cli"),
        ("token.create", "cli"),
        ("token.revoke", "cli"),
    ]
    assert json.loads(rows[0]["parameters"])["source"] == SMALL_CSV.name and rows[0]["data_version"]
    assert json.loads(rows[2]["parameters"])["token_id"] == entry["id"]
    assert token not in json.dumps(rows, default=str)
