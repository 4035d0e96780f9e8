"""GET /metrics in Prometheus text format, parsed with prometheus-client's own parser after known requests."""

from __future__ import annotations

import threading
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from salesdash.ingest import ingest_file
from salesdash.reports import runner, schedules
from salesdash.telemetry import set_export_queue_length
from salesdash.tokens import create_token
from tests.api.conftest import app_for, assert_error, bearer
from tests.conftest import SMALL_CSV
from tests.reports.conftest import SmtpSink


def scrape(client, headers=None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_counts_latency_and_cache_match_the_requests_made(small_engine: Engine):
    client = app_for(small_engine).test_client()
    for _ in range(3):
        assert client.get("/api/kpis?country=France").status_code == 200
    assert client.get("/api/kpis?country=Atlantis").status_code == 400
    for _ in range(2):
        assert client.get("/api/nothing-here").status_code == 404
    samples = scrape(client)
    requests = "salesdash_http_requests_total"
    assert value(samples, requests, endpoint="/api/kpis", method="GET", status="200") == 3
    assert value(samples, requests, endpoint="/api/kpis", method="GET", status="400") == 1
    assert value(samples, requests, endpoint="<unmatched>", method="GET", status="404") == 2
    assert value(samples, "salesdash_http_request_duration_seconds_count", endpoint="/api/kpis") == 4
    assert (
        value(samples, "salesdash_http_request_duration_seconds_bucket", endpoint="/api/kpis", le="+Inf") == 4
    )
    assert value(samples, "salesdash_http_request_duration_seconds_sum", endpoint="/api/kpis") > 0
    assert value(samples, "salesdash_cache_misses_total") == 1
    assert value(samples, "salesdash_cache_hits_total") == 2
    # one cache: the result and the front cache's final answer of the one request repeated
    assert value(samples, "salesdash_cache_bytes") > 0 and value(samples, "salesdash_cache_entries") == 2
    assert value(samples, "salesdash_data_version_age_seconds") >= 0
    assert ("salesdash_data_version_age_seconds", ()) in samples
    again = scrape(client)  # the first scrape itself is counted
    assert value(again, requests, endpoint="/metrics", method="GET", status="200") == 1


def test_counts_are_exact_under_concurrent_requests(small_engine: Engine):
    app = app_for(small_engine)
    threads, per_thread = 8, 25

    def hammer() -> None:
        client = app.test_client()
        for _ in range(per_thread):
            assert client.get("/api/health").status_code == 200

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    samples = scrape(app.test_client())
    total = threads * per_thread
    assert (
        value(samples, "salesdash_http_requests_total", endpoint="/api/health", method="GET", status="200")
        == total
    )
    assert value(samples, "salesdash_http_request_duration_seconds_count", endpoint="/api/health") == total


def test_loads_export_queue_and_sends_are_exposed(loaded_engine: Engine, smtp_sink: SmtpSink):
    app = app_for(loaded_engine, smtp_url=smtp_sink.url)
    client = app.test_client()
    before = scrape(client)
    ingest_file(loaded_engine, SMALL_CSV)
    lines = sum(1 for _ in SMALL_CSV.open()) - 1
    set_export_queue_length(3)
    created = schedules.create(
        loaded_engine,
        {"name": "w", "cron": "0 8 * * mon", "recipients": ["a@example.com"], "formats": ["xlsx"]},
    )
    runner.run_due(
        loaded_engine, app.extensions["salesdash"].settings, now=created["next_run_at"] + timedelta(seconds=1)
    )
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("salesdash_loads_total", kind="ingest") == 1
    assert delta("salesdash_load_lines_total", kind="ingest") == lines
    assert delta("salesdash_load_duration_seconds_count", kind="ingest") == 1
    assert value(after, "salesdash_export_queue_length") == 3
    assert delta("salesdash_sends_total", kind="report", channel="email", result="sent") == 1
    set_export_queue_length(0)


def test_metrics_are_open_on_loopback_and_protected_elsewhere(small_engine: Engine):
    admin = create_token(small_engine, "admin", "ops")
    viewer = create_token(small_engine, "viewer", "reader")
    assert app_for(small_engine).test_client().get("/metrics").status_code == 200
    exposed = app_for(small_engine, api_host="0.0.0.0").test_client()
    assert_error(exposed.get("/metrics"), 401)
    assert_error(exposed.get("/metrics", headers=bearer(viewer)), 403)
    assert exposed.get("/metrics", headers=bearer(admin)).status_code == 200
    scraper = app_for(small_engine, api_host="0.0.0.0", metrics_token="scrape-me-please").test_client()
    assert_error(scraper.get("/metrics"), 401)
    assert_error(scraper.get("/metrics", headers=bearer(admin)), 401)
    assert scraper.get("/metrics", headers=bearer("scrape-me-please")).status_code == 200
    assert_error(scraper.get("/metrics?format=json", headers=bearer("scrape-me-please")), 400)
