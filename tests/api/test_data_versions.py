"""GET /api/data-versions: the load history with each load's quality report (used by the dashboard's Data page)."""

from __future__ import annotations

from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash.store import version_history
from tests.api.conftest import assert_error, bearer, data_of
from tests.conftest import SMALL_CSV


def test_history_is_newest_first_with_reports(small_app: APIFlask, small_engine: Engine, tokens):
    client = small_app.test_client()
    (first,) = data_of(client.get("/api/data-versions"))
    stored = version_history(small_engine)[0]
    assert first["data_version"] == stored.version == data_of(client.get("/api/version"))["data_version"]
    assert first["source"] == SMALL_CSV.name  # the file name only, never the server's path
    assert "/" not in first["source"]
    assert first["row_count"] == stored.row_count == first["report"]["rows_loaded"]
    assert first["report"]["rows_read"] >= first["report"]["rows_loaded"]

    data_of(client.post("/api/data-refresh", headers=bearer(tokens["admin"])))
    newest, previous = data_of(client.get("/api/data-versions"))
    assert previous["data_version"] == first["data_version"]
    assert newest["data_version"] == data_of(client.get("/api/version"))["data_version"]
    assert newest["loaded_at"] >= previous["loaded_at"]
    assert len(data_of(client.get("/api/data-versions?limit=1"))) == 1


def test_empty_store_has_no_history(make_app):
    assert data_of(make_app().test_client().get("/api/data-versions")) == []


def test_bad_limit_is_400(small_app: APIFlask):
    client = small_app.test_client()
    assert_error(client.get("/api/data-versions?limit=0"), 400)
    assert_error(client.get("/api/data-versions?limit=abc"), 400)
    assert_error(client.get("/api/data-versions?country=France"), 400)
