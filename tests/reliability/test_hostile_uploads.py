"""The hostile corpus through the API's upload paths (POST /api/data-refresh and POST /api/uploads): every file
the CLI refuses is refused here too, as a 4xx envelope with the same message, and the data stays as it was;
every accepted file loads. A refresh while another process loads is a 409 at once."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash.api import create_app
from salesdash.config import Settings
from salesdash.store.lock import write_lock
from salesdash.tokens import create_token
from tests.conftest import SMALL_CSV
from tests.reliability.support import BAD, corpus, metric_outputs

CASES = corpus()
REJECTED = [c for c in CASES if not c["accept"]]
ACCEPTED = [c for c in CASES if c["accept"]]


def app_over(engine: Engine) -> APIFlask:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        source_path=SMALL_CSV,
        cors_origins=["http://127.0.0.1:8501"],
        max_upload_mb=5,
    )
    return create_app(settings, engine=engine)


def upload(client: Any, token: str, endpoint: str, name: str) -> Any:
    with (BAD / name).open("rb") as fh:
        return client.post(
            endpoint,
            headers={"Authorization": f"Bearer {token}"},
            data={"file": (fh, name)},
            content_type="multipart/form-data",
        )


# A refused file never reaches the database (the CLI corpus test checks that on every engine): SQLite is enough.
@pytest.mark.parametrize("engine_kind", ["sqlite"], indirect=True)
@pytest.mark.parametrize("endpoint", ["/api/data-refresh", "/api/uploads"])
def test_every_rejected_file_is_a_clear_4xx_and_changes_nothing(small_engine: Engine, endpoint: str):
    app = app_over(small_engine)
    client = app.test_client()
    admin = create_token(small_engine, "admin", "corpus")
    before = metric_outputs(small_engine)
    wrong = []
    for case in REJECTED:
        response = upload(client, admin, endpoint, case["file"])
        body = response.get_json()
        message = (body or {}).get("error", {}).get("message", "")
        if not (response.status_code in (400, 413, 422) and case["message"] in message):
            wrong.append(f"{case['file']}: {response.status_code} {message[:200]}")
        assert "Traceback" not in response.get_data(as_text=True)
    assert wrong == []
    assert metric_outputs(small_engine) == before


def test_every_accepted_file_loads_through_the_api(small_engine: Engine, engine_kind: str):
    client = app_over(small_engine).test_client()
    admin = create_token(small_engine, "admin", "corpus")
    # the format variants are engine-independent; the all-cancelled data set runs the metric SQL on each engine
    cases = (
        ACCEPTED if engine_kind == "sqlite" else [c for c in ACCEPTED if c["file"] == "only_cancelled.csv"]
    )
    for case in cases:
        response = upload(client, admin, "/api/data-refresh", case["file"])
        assert response.status_code == 200, (case["file"], response.get_data(as_text=True)[:300])
        data = response.get_json()["data"]
        assert data["rows_loaded"] == 8
        kpis = client.get("/api/kpis").get_json()
        assert kpis["meta"]["data_version"] == data["data_version"]
        if case["file"] == "only_cancelled.csv":  # zero revenue, no division by zero anywhere in the API
            assert kpis["data"]["revenue"] == 0
            assert kpis["data"]["average_order_value"] is None
            for path in (
                "/api/sales-by-category",
                "/api/sales-by-country",
                "/api/top-customers",
                "/api/heatmap",
                "/api/monthly-trends",
                "/api/quarterly-analysis",
                "/api/deal-sizes",
                "/api/status-distribution",
                "/api/sales-over-time",
                "/api/product-performance",
            ):
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:300])


@contextlib.contextmanager
def held_elsewhere(engine: Engine) -> Iterator[None]:
    """The write lock held by another thread for the block (what a concurrent `salesdash ingest` holds; the
    lock is re-entrant within one thread, and the test client serves requests on this thread)."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(engine, "ingest of other.csv"):
            taken.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(timeout=10)
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=10)


def test_refresh_while_another_process_loads_is_409_at_once(small_engine: Engine):
    client = app_over(small_engine).test_client()
    admin = create_token(small_engine, "admin", "lock")
    before = metric_outputs(small_engine)
    with held_elsewhere(small_engine):
        for endpoint, name in (("/api/data-refresh", "crlf.csv"), ("/api/data-refresh", None)):
            if name:
                response = upload(client, admin, endpoint, name)
            else:
                response = client.post(endpoint, headers={"Authorization": f"Bearer {admin}"})
            assert response.status_code == 409, response.get_data(as_text=True)[:300]
            error = response.get_json()["error"]
            assert error["code"] == "refresh_in_progress"
            assert response.headers.get("Retry-After")
    assert metric_outputs(small_engine) == before
    response = upload(client, admin, "/api/data-refresh", "crlf.csv")  # free again: it goes through
    assert response.status_code == 200
