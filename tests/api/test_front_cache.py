"""The front cache (api/front.py): a repeated data request answered from its stored bytes, before Flask, with
every guarantee of the full path (validation, auth, CORS, ETag, security headers, version, metrics)."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash.api.front import FRONT, FrontCache, canonical_query
from salesdash.api.http import SECURITY_HEADERS
from salesdash.api.state import EXTENSION
from tests.api.conftest import ORIGIN, app_for, assert_error, bearer, data_of
from tests.reference import REVENUE

PER_REQUEST = ("X-Request-ID", "Server-Timing", "X-Cache", "Date")


def front(app: APIFlask) -> FrontCache:
    layer = app.wsgi_app
    assert isinstance(layer, FrontCache)
    return layer


def front_hits(app: APIFlask) -> int:
    return front(app).hits


def front_entries(app: APIFlask) -> int:
    return sum(1 for key in front(app).cache.stored_keys() if key[0] == FRONT)


def stable_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in PER_REQUEST}


def test_canonical_query_orders_names_and_keeps_the_order_of_values() -> None:
    assert canonical_query("") == ""
    assert canonical_query("b=2&a=1") == "a=1&b=2"
    assert (
        canonical_query("country=USA&dealsize=Large&country=France")
        == "country=USA&country=France&dealsize=Large"
    )
    assert canonical_query("&b=2&&a=1&") == "a=1&b=2"
    assert canonical_query("countr%79=B&country=A") == "countr%79=B&country=A"  # one name, as sent


def test_a_repeated_request_is_answered_from_the_front_cache_as_the_full_path_answers(
    small_app: APIFlask,
) -> None:
    client = small_app.test_client()
    first = client.get("/api/sales-by-country?country=USA", headers={"X-Request-ID": "first"})
    assert first.headers["X-Cache"] == "miss"
    assert front_hits(small_app) == 0
    second = client.get("/api/sales-by-country?country=USA", headers={"X-Request-ID": "second"})
    assert front_hits(small_app) == 1
    assert second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers["X-Cache"] == "hit"
    assert stable_headers(second) == stable_headers(first)  # ETag, Cache-Control, version, security headers
    for name, value in SECURITY_HEADERS.items():
        assert second.headers[name] == value
    assert second.headers["X-Request-ID"] == "second" and first.headers["X-Request-ID"] == "first"
    assert second.headers["Server-Timing"].startswith("app;dur=")
    generated = client.get("/api/sales-by-country?country=USA").headers["X-Request-ID"]
    assert generated and generated not in ("first", "second")


def test_parameter_order_shares_one_stored_answer(small_app: APIFlask) -> None:
    client = small_app.test_client()
    a = client.get("/api/kpis?country=USA&dealsize=Medium")
    b = client.get("/api/kpis?dealsize=Medium&country=USA")
    assert front_hits(small_app) == 1
    assert a.get_data() == b.get_data()


def test_refused_requests_are_refused_every_time_and_never_stored(small_app: APIFlask) -> None:
    client = small_app.test_client()
    for _ in range(2):
        assert_error(client.get("/api/kpis?bogus=1"), 400, "invalid_parameter", "bogus")
        assert_error(client.get("/api/kpis?country=Atlantis"), 400)
        assert_error(client.get("/api/sales-over-time?period=fortnightly"), 400)
    assert front_hits(small_app) == 0
    assert len(front(small_app).cache) == 0


def test_a_new_data_version_makes_stored_answers_unreachable(
    small_app: APIFlask, tokens: dict[str, str]
) -> None:
    client = small_app.test_client()
    before = client.get("/api/kpis")
    assert client.get("/api/kpis").get_data() == before.get_data()
    hits = front_hits(small_app)
    refreshed = client.post("/api/data-refresh", headers=bearer(tokens["admin"]))  # reloads the sample
    after = client.get("/api/kpis")
    assert front_hits(small_app) == hits  # not answered from the old version's bytes
    assert after.headers["X-Cache"] == "miss"
    assert (
        after.headers["X-Data-Version"]
        == data_of(refreshed)["data_version"]
        != before.headers["X-Data-Version"]
    )
    assert data_of(after)["revenue"] == REVENUE != data_of(before)["revenue"]
    assert client.get("/api/kpis").get_data() == after.get_data()
    assert front_hits(small_app) == hits + 1


def test_cross_origin_and_conditional_requests_take_the_full_path(small_app: APIFlask) -> None:
    client = small_app.test_client()
    plain = client.get("/api/sales-by-category")
    client.get("/api/sales-by-category")
    hits = front_hits(small_app)
    cross = client.get("/api/sales-by-category", headers={"Origin": ORIGIN})
    assert cross.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Origin" not in plain.headers
    conditional = client.get("/api/sales-by-category", headers={"If-None-Match": plain.headers["ETag"]})
    assert conditional.status_code == 304
    assert front_hits(small_app) == hits


def test_with_require_auth_every_read_checks_its_token(
    make_app: Any, fresh_engine: Engine, tokens: dict[str, str]
) -> None:
    from salesdash.ingest import ingest_file
    from tests.conftest import SMALL_CSV

    ingest_file(fresh_engine, SMALL_CSV)
    app = make_app(require_auth=True)
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/kpis", headers=bearer(tokens["viewer"])).status_code == 200
        assert_error(client.get("/api/kpis"), 401, "unauthorized")
    assert front_entries(app) == 0  # the second read came from the result cache, after its token was checked


def test_turning_the_cache_off_turns_the_front_cache_off(small_engine: Engine) -> None:
    app = app_for(small_engine, cache_entries=0)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/kpis").headers["X-Cache"] == "miss"
    assert len(front(app).cache) == 0


def test_answers_from_the_front_cache_are_counted_in_the_request_metrics(small_app: APIFlask) -> None:
    client = small_app.test_client()

    def served() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        line = next(
            (
                ln
                for ln in text.splitlines()
                if ln.startswith("salesdash_http_requests_total{")
                and 'endpoint="/api/sales-by-category"' in ln
                and 'status="200"' in ln
            ),
            None,
        )
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    for _ in range(3):
        client.get("/api/sales-by-category")
    assert front_hits(small_app) == 2
    assert served() == 3


def test_csv_answers_are_stored_with_their_own_type(small_app: APIFlask) -> None:
    client = small_app.test_client()
    first = client.get("/api/sales-by-category?format=csv")
    again = client.get("/api/sales-by-category?format=csv")
    assert front_hits(small_app) == 1
    assert again.mimetype == "text/csv" and again.get_data() == first.get_data()
    assert again.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    assert client.get("/api/sales-by-category").mimetype == "application/json"


def test_the_front_cache_and_the_result_cache_share_one_budget(small_engine: Engine) -> None:
    entries = 3
    app = app_for(small_engine, cache_entries=entries)
    client = app.test_client()
    for path in ("/api/kpis", "/api/sales-by-country", "/api/sales-by-category", "/api/top-customers"):
        assert client.get(path).status_code == 200  # each answer: a result entry and a front entry
    layer = front(app)
    assert layer.cache is app.extensions[EXTENSION].cache
    assert len(layer.cache) == entries  # not 2 x entries: one bound for both
    assert 0 < front_entries(app) < entries
    # one request that missed both is one miss, not two
    misses = layer.cache.stats()["misses"]
    assert client.get("/api/kpis?detail=full").status_code == 200
    assert layer.cache.stats()["misses"] == misses + 1
