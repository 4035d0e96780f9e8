"""/api/saved-views on every engine: create, list, get, delete; owner vs another viewer vs an admin; the views
survive a re-ingest, an upload that replaces the data, a restore and a new app instance; every bad body is 400."""

from __future__ import annotations

from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash.ingest import ingest_file
from salesdash.tokens import create_token
from tests.api.conftest import app_for, assert_error, bearer, data_of
from tests.conftest import SAMPLE_CSV, SMALL_CSV

URL = "/api/saved-views"


def _save(client, token: str, **body) -> dict:
    response = client.post(URL, headers=bearer(token), json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def test_create_list_get_delete(small_app: APIFlask, tokens):
    client = small_app.test_client()
    saved = _save(
        client,
        tokens["viewer"],
        name="  France   2004 ",
        page="geography",
        state="?start=2004-01-01&country=Spain,France&end=2004-12-31",
    )
    assert saved["name"] == "France 2004"
    assert saved["page"] == "geography"
    # canonical: the filter registry's order, lists sorted and repeated
    assert saved["state"] == "start=2004-01-01&end=2004-12-31&country=France&country=Spain"
    assert saved["link"] == "geography?" + saved["state"]
    assert saved["yours"] is True

    listed = data_of(client.get(URL))
    assert [v["id"] for v in listed] == [saved["id"]]
    assert listed[0]["yours"] is False  # no token sent: nobody's
    assert data_of(client.get(URL, headers=bearer(tokens["viewer"])))[0]["yours"] is True
    assert data_of(client.get(f"{URL}/{saved['id']}"))["state"] == saved["state"]

    home = _save(client, tokens["viewer"], name="Everything")
    assert (home["page"], home["state"], home["link"]) == ("overview", "", "")
    assert [v["name"] for v in data_of(client.get(URL))] == ["Everything", "France 2004"]

    deleted = data_of(client.delete(f"{URL}/{saved['id']}", headers=bearer(tokens["viewer"])))
    assert deleted["id"] == saved["id"]
    assert_error(client.get(f"{URL}/{saved['id']}"), 404, "not_found")
    assert [v["name"] for v in data_of(client.get(URL))] == ["Everything"]

    actions = data_of(client.get("/api/audit?action=saved_view.", headers=bearer(tokens["admin"])))
    assert [(a["action"], a["result"]) for a in actions] == [
        ("saved_view.delete", "ok"),
        ("saved_view.create", "ok"),
        ("saved_view.create", "ok"),
    ]
    assert {a["token_id"] for a in actions} == {deleted["owner_token_id"]}


def test_owner_other_viewer_and_admin(small_app: APIFlask, small_engine: Engine, tokens):
    client = small_app.test_client()
    other = create_token(small_engine, "viewer", "another viewer")
    first = _save(client, tokens["viewer"], name="Mine", state="status=Shipped")
    second = _save(client, tokens["viewer"], name="Mine too")

    assert_error(client.post(URL, json={"name": "anonymous"}), 401)
    assert_error(client.delete(f"{URL}/{first['id']}"), 401)
    refused = assert_error(client.delete(f"{URL}/{first['id']}", headers=bearer(other)), 403, "forbidden")
    assert "owner" in refused["message"]
    assert data_of(client.get(f"{URL}/{first['id']}", headers=bearer(other)))["yours"] is False

    assert (
        data_of(client.delete(f"{URL}/{first['id']}", headers=bearer(tokens["admin"])))["id"] == first["id"]
    )
    assert (
        data_of(client.delete(f"{URL}/{second['id']}", headers=bearer(tokens["viewer"])))["id"]
        == second["id"]
    )
    assert data_of(client.get(URL)) == []
    refusals = data_of(client.get("/api/audit?action=saved_view.delete", headers=bearer(tokens["admin"])))
    assert [r["result"] for r in refusals] == ["ok", "ok", "refused", "refused"]


def test_reads_need_a_token_when_auth_is_required(small_engine: Engine, tokens):
    client = app_for(small_engine, require_auth=True).test_client()
    assert_error(client.get(URL), 401)
    saved = _save(client, tokens["viewer"], name="Kept")
    assert data_of(client.get(URL, headers=bearer(tokens["viewer"])))[0]["id"] == saved["id"]


def test_views_survive_loads_restores_and_a_new_app(small_engine: Engine, small_app: APIFlask, tokens):
    client = small_app.test_client()
    saved = _save(
        client, tokens["viewer"], name="Classic cars", page="products", state="productline=Classic Cars"
    )
    first_version = data_of(client.get("/api/data-versions"))[0]["data_version"]

    ingest_file(small_engine, SAMPLE_CSV)  # a re-ingest (replace) from the command line's library call
    with SMALL_CSV.open("rb") as fh:  # an upload that replaces the data, through the API
        pending = client.post(
            "/api/uploads", headers=bearer(tokens["admin"]), data={"file": (fh, "small.csv")}
        )
    upload = pending.get_json()["data"]
    data_of(client.post(upload["confirm"], headers=bearer(tokens["admin"]), json={"mode": "replace"}))
    data_of(client.post(f"/api/data-versions/{first_version}/restore", headers=bearer(tokens["admin"])))

    fresh = app_for(small_engine).test_client()  # a new app instance over the same store
    kept = data_of(fresh.get(URL))
    assert [(v["id"], v["name"], v["page"], v["state"]) for v in kept] == [
        (saved["id"], "Classic cars", "products", "productline=Classic+Cars")
    ]


def test_bad_bodies_are_one_clear_400(small_app: APIFlask, tokens):
    client = small_app.test_client()
    headers = bearer(tokens["viewer"])
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 7}, "name"),
        ({"name": "ok", "page": "settings"}, "page"),
        ({"name": "ok", "state": "country=France&colour=red"}, "state"),
        ({"name": "ok", "state": "currency=EUR"}, "state"),  # a filter of the API, not of the sidebar
        ({"name": "ok", "state": "start=2004-13-01"}, "state"),
        ({"name": "ok", "state": "start=2005-01-01&end=2004-01-01"}, "state"),
        ({"name": "ok", "state": "country=France&" * 200}, "state"),  # longer than 2,000 characters
        ({"name": "ok", "state": ["country=France"]}, "state"),
        ({"name": "ok", "owner_token_id": 1}, "owner_token_id"),
    ]
    for body, field in cases:
        error = assert_error(client.post(URL, headers=headers, json=body), 400)
        assert field in error["message"] or any(field in str(d) for d in error["details"]), (body, error)
    assert_error(client.post(URL, headers=headers, data="not json", content_type="application/json"), 400)
    assert_error(client.get(f"{URL}/abc"), 404, "not_found")
    assert_error(client.get(f"{URL}/0"), 404, "not_found")
    assert_error(client.get(f"{URL}?page=2"), 400)
    assert data_of(client.get(URL)) == []
