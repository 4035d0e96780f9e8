"""POST /api/data-versions/<version>/restore on every engine: load A, load B, restore A -> A's figures again."""

from __future__ import annotations

import threading

from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash.store.lock import write_lock
from tests.api.conftest import app_for, assert_error, bearer, data_of
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.reference import ORDERS


def _upload(client, token: str, path) -> dict:
    with path.open("rb") as fh:
        return data_of(
            client.post("/api/data-refresh", headers=bearer(token), data={"file": (fh, path.name)})
        )


def test_load_a_load_b_restore_a(small_app: APIFlask, tokens):
    client = small_app.test_client()
    a = data_of(client.get("/api/data-versions"))[0]
    figures_a = data_of(client.get("/api/kpis"))
    b = _upload(client, tokens["admin"], SAMPLE_CSV)
    assert data_of(client.get("/api/kpis"))["order_count"] == ORDERS != figures_a["order_count"]

    restored = data_of(
        client.post(f"/api/data-versions/{a['data_version']}/restore", headers=bearer(tokens["admin"]))
    )

    assert restored["restored_from"] == a["data_version"]
    assert restored["previous_data_version"] == b["data_version"]
    assert restored["rows_loaded"] == a["row_count"]
    assert data_of(client.get("/api/kpis")) == figures_a
    newest, *rest = data_of(client.get("/api/data-versions"))
    assert (
        newest["data_version"]
        == restored["data_version"]
        == data_of(client.get("/api/version"))["data_version"]
    )
    assert newest["source"] == f"restore:{a['data_version']}"
    assert newest["report"]["restored_from"] == a["data_version"]
    assert all(r["restorable"] for r in [newest, *rest])
    entries = data_of(client.get("/api/audit?action=data.restore", headers=bearer(tokens["admin"])))
    assert entries and entries[0]["result"] == "ok"


def test_restore_needs_admin_and_a_kept_version(fresh_engine: Engine, tokens):
    app = app_for(fresh_engine, keep_versions=1)
    client = app.test_client()
    first = _upload(client, tokens["admin"], SMALL_CSV)
    _upload(client, tokens["admin"], SAMPLE_CSV)
    url = f"/api/data-versions/{first['data_version']}/restore"
    assert_error(client.post(url), 401)
    assert_error(client.post(url, headers=bearer(tokens["viewer"])), 403)
    assert_error(client.post(url, headers=bearer(tokens["admin"])), 404, "not_found")  # pruned (keep 1)
    assert_error(
        client.post("/api/data-versions/nope/restore", headers=bearer(tokens["admin"])), 404, "not_found"
    )
    history = data_of(client.get("/api/data-versions"))
    assert [r["restorable"] for r in history] == [True, False]
    assert data_of(client.get("/api/kpis"))["order_count"] == ORDERS


def test_restore_while_a_load_runs_is_409(small_app: APIFlask, small_engine: Engine, tokens):
    client = small_app.test_client()
    version = data_of(client.get("/api/data-versions"))[0]["data_version"]
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(small_engine, "test load"):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        response = client.post(f"/api/data-versions/{version}/restore", headers=bearer(tokens["admin"]))
        assert_error(response, 409, "refresh_in_progress")
    finally:
        release.set()
        holder.join()
    assert data_of(client.get("/api/data-versions?limit=1"))[0]["data_version"] == version
