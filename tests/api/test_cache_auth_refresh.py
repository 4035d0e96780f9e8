"""Cache + ETag, auth (viewer/admin, require_auth), and the data refresh (upload, source, 409, 413, 422)."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date
from pathlib import Path

from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash.metrics import Filters, kpis
from salesdash.store import current_version, make_engine, snapshot
from salesdash.tokens import create_token
from tests.api.conftest import app_for, assert_error, bearer, data_of
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.orderlines import line, write_csv
from tests.reference import REVENUE

# ---- cache and ETag ----


def test_etag_and_if_none_match_give_304(small_app: APIFlask):
    client = small_app.test_client()
    first = client.get("/api/sales-by-country?country=USA")
    etag = first.headers["ETag"]
    assert first.headers["X-Cache"] == "miss"
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/api/sales-by-country?country=USA")
    assert again.headers["X-Cache"] == "hit"
    assert again.headers["ETag"] == etag
    assert again.get_data() == first.get_data()
    not_modified = client.get("/api/sales-by-country?country=USA", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag
    weak = client.get("/api/sales-by-country?country=USA", headers={"If-None-Match": f'W/{etag}, "x"'})
    assert weak.status_code == 304
    other = client.get("/api/sales-by-country?country=USA", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_etag_depends_on_normalised_parameters(small_app: APIFlask):
    client = small_app.test_client()
    a = client.get("/api/kpis?country=USA,France")
    b = client.get("/api/kpis?country=France&country=usa")
    c = client.get("/api/kpis?country=France")
    assert a.headers["ETag"] == b.headers["ETag"] != c.headers["ETag"]
    assert b.headers["X-Cache"] == "hit"
    csv = client.get("/api/sales-by-category?format=csv")
    js = client.get("/api/sales-by-category")
    assert csv.headers["ETag"] != js.headers["ETag"]


def test_refresh_changes_the_version_and_invalidates_exactly(
    small_app: APIFlask, small_engine: Engine, tokens
):
    client = small_app.test_client()
    before = client.get("/api/kpis")
    etag, version = before.headers["ETag"], before.headers["X-Data-Version"]
    refreshed = client.post("/api/data-refresh", headers=bearer(tokens["admin"]))  # reloads the sample
    new_version = data_of(refreshed)["data_version"]
    assert new_version != version
    after = client.get("/api/kpis", headers={"If-None-Match": etag})
    assert after.status_code == 200  # the old ETag no longer matches
    assert after.headers["X-Cache"] == "miss"
    assert after.headers["X-Data-Version"] == new_version
    assert after.get_json()["meta"]["data_version"] == new_version
    assert data_of(after)["revenue"] == REVENUE
    assert data_of(before)["revenue"] != REVENUE


def test_an_answer_a_new_version_left_unchanged_keeps_its_etag(
    small_app: APIFlask, small_engine: Engine, tokens
):
    """The ETag is the answer's content, not its data version: reloading the same lines makes a new version
    under which the old ETag still answers 304 (no body); an answer the new lines change gets another ETag."""
    client = small_app.test_client()
    refresh = {"headers": bearer(tokens["admin"])}
    client.post("/api/data-refresh", **refresh)  # the sample
    first = client.get("/api/kpis?country=France")
    etag, version = first.headers["ETag"], first.headers["X-Data-Version"]
    client.post("/api/data-refresh", **refresh)  # the same lines again: a new version
    again = client.get("/api/kpis?country=France", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["X-Data-Version"] != version
    fresh = client.get("/api/kpis?country=France")
    assert fresh.headers["ETag"] == etag and fresh.headers["X-Cache"] == "hit"
    assert fresh.get_json()["meta"]["data_version"] == again.headers["X-Data-Version"]
    other = client.get("/api/kpis?country=USA")
    assert other.headers["ETag"] != etag  # other parameters, other answer


def test_cache_can_be_turned_off(small_engine: Engine):
    client = app_for(small_engine, cache_entries=0).test_client()
    assert client.get("/api/kpis").headers["X-Cache"] == "miss"
    assert client.get("/api/kpis").headers["X-Cache"] == "miss"
    etag = client.get("/api/kpis").headers["ETag"]
    assert client.get("/api/kpis", headers={"If-None-Match": etag}).status_code == 304


def test_version_endpoint_follows_the_data(small_app: APIFlask, small_engine: Engine):
    data = data_of(small_app.test_client().get("/api/version"))
    assert data == {"data_version": current_version(small_engine).version, "data_loaded": True}


# ---- auth ----


def test_refresh_needs_an_admin_token(small_app: APIFlask, tokens):
    client = small_app.test_client()
    response = client.post("/api/data-refresh")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.post("/api/data-refresh", headers=bearer("sd_not-a-token")), 401, "unauthorized")
    assert_error(client.post("/api/data-refresh", headers={"Authorization": "Basic abc"}), 401)
    assert_error(client.post("/api/data-refresh", headers=bearer(tokens["viewer"])), 403, "forbidden")


def test_auth_comes_before_parameter_checks(small_app: APIFlask, tokens):
    client = small_app.test_client()
    assert_error(client.post("/api/data-refresh?on_error=bogus"), 401)
    assert_error(client.post("/api/data-refresh?on_error=bogus", headers=bearer(tokens["admin"])), 400)


def test_reads_are_open_by_default(small_app: APIFlask):
    assert small_app.test_client().get("/api/kpis").status_code == 200


def test_require_auth_makes_reads_need_a_viewer_token(make_app, fresh_engine: Engine, tokens):
    from salesdash.ingest import ingest_file

    ingest_file(fresh_engine, SMALL_CSV)
    client = make_app(require_auth=True).test_client()
    assert_error(client.get("/api/kpis"), 401, "unauthorized")
    assert_error(client.get("/api/orders", headers=bearer("sd_wrong")), 401)
    assert client.get("/api/kpis", headers=bearer(tokens["viewer"])).status_code == 200
    assert client.get("/api/kpis", headers=bearer(tokens["admin"])).status_code == 200
    # liveness and the docs stay open
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api").status_code == 200
    # a CORS preflight carries no credentials and is not refused
    preflight = client.options(
        "/api/kpis",
        headers={"Origin": "http://127.0.0.1:8501", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200


# ---- refresh ----


def _upload(client, token: str, content: bytes, name: str = "sales.csv", query: str = ""):
    return client.post(
        f"/api/data-refresh{query}",
        headers=bearer(token),
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_refresh_from_the_configured_source(small_app: APIFlask, small_engine: Engine, tokens):
    old = current_version(small_engine).version
    response = small_app.test_client().post("/api/data-refresh", headers=bearer(tokens["admin"]))
    data = data_of(response)
    assert data["previous_data_version"] == old
    assert data["data_version"] == current_version(small_engine).version != old
    assert data["rows_loaded"] == 2823
    assert data["source"] == SAMPLE_CSV.name
    assert data["report"]["rows_loaded"] == 2823
    assert data["report"]["distinct"]["orders"] == 307


def test_refresh_from_an_upload(small_app: APIFlask, small_engine: Engine, tokens, tmp_path: Path):
    csv = write_csv(
        tmp_path / "two.csv",
        [line(1, date(2004, 3, 1), 1000.0), line(2, date(2004, 4, 1), 250.5, country="France")],
    )
    response = _upload(small_app.test_client(), tokens["admin"], csv.read_bytes(), "two.csv")
    data = data_of(response)
    assert data["rows_loaded"] == 2 and data["source"] == "two.csv"
    assert current_version(small_engine).source == "upload:two.csv"
    with snapshot(small_engine) as conn:
        assert kpis(conn, Filters())["revenue"] == 1250.5
    kpi = data_of(small_app.test_client().get("/api/kpis"))
    assert kpi["revenue"] == 1250.5 and kpi["order_count"] == 2


def test_bad_upload_is_422_with_details_and_changes_nothing(
    small_app: APIFlask, small_engine: Engine, tokens
):
    before = current_version(small_engine)
    bad = SMALL_CSV.read_text().replace("600.25", "abc").encode()
    error = assert_error(_upload(small_app.test_client(), tokens["admin"], bad), 422, "validation_failed")
    assert any(d.get("line") == 3 and d.get("column") == "SALES" for d in error["details"])
    assert current_version(small_engine) == before
    not_csv = assert_error(
        _upload(small_app.test_client(), tokens["admin"], b"\x89PNG\r\n\x1a\n\x00\x00"), 422
    )
    assert not_csv["code"] in ("invalid_file", "validation_failed")
    assert current_version(small_engine) == before


def test_upload_with_skip_loads_the_good_rows(small_app: APIFlask, small_engine: Engine, tokens):
    bad = SMALL_CSV.read_text().replace("600.25", "abc").encode()
    data = data_of(_upload(small_app.test_client(), tokens["admin"], bad, query="?on_error=skip"))
    assert data["report"]["rows_rejected"] == 1
    assert data["rows_loaded"] == data["report"]["rows_read"] - 1


def test_upload_over_the_limit_is_413(make_app, tokens):
    client = make_app(max_upload_mb=1).test_client()
    big = b"x" * (1024 * 1024 + 10)
    error = assert_error(_upload(client, tokens["admin"], big), 413, "payload_too_large")
    assert "1 MiB" in error["message"]


def test_missing_source_is_422(make_app, tokens, tmp_path: Path):
    client = make_app(source_path=tmp_path / "missing.csv").test_client()
    error = assert_error(
        client.post("/api/data-refresh", headers=bearer(tokens["admin"])), 422, "invalid_file"
    )
    assert "SALESDASH_SOURCE_PATH" in error["message"]


def _big_csv(path: Path, copies: int) -> Path:
    """The sample repeated ``copies`` times with distinct order numbers (valid, and slow enough to load)."""
    rows = list(csv.reader(io.StringIO(SAMPLE_CSV.read_text(encoding="cp437"))))
    header, body = rows[0], rows[1:]
    order = header.index("ORDERNUMBER")
    with path.open("w", newline="", encoding="cp437") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for copy in range(copies):
            for row in body:
                writer.writerow([*row[:order], str(int(row[order]) + copy * 100_000), *row[order + 1 :]])
    return path


def test_second_refresh_while_one_runs_is_409(tmp_path: Path):
    """Two real uploads at the same moment: one refreshes, the other is refused at once (it does not wait).

    The lock lives in the API process, not in the database, so one engine (SQLite) is enough here."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    app = app_for(engine)
    tokens = {"admin": create_token(engine, "admin")}
    big = _big_csv(tmp_path / "big.csv", copies=8)
    start = threading.Barrier(2)
    responses: list = []

    def refresh() -> None:
        client = app.test_client()
        with big.open("rb") as fh:
            start.wait()
            responses.append(
                client.post(
                    "/api/data-refresh",
                    headers=bearer(tokens["admin"]),
                    data={"file": (fh, "big.csv")},
                    content_type="multipart/form-data",
                )
            )

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(r.status_code for r in responses) == [200, 409]
    refused = next(r for r in responses if r.status_code == 409)
    error = assert_error(refused, 409, "refresh_in_progress")
    assert "already running" in error["message"]
    assert refused.headers["Retry-After"]
    assert current_version(engine).row_count == 8 * 2823
    engine.dispose()
