"""Live orders against the real NATS server: publish -> consume -> the same figures as a file ingest, idempotent
re-delivery, dead letters (a bad message never blocks the rest), and the consumer's status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import nats
import pytest
from sqlalchemy import Engine

from salesdash.api import create_app
from salesdash.config import Settings
from salesdash.ingest import ingest_file
from salesdash.ingest.read import read_csv
from salesdash.ingest.schema import NUMERIC_COLUMNS, REQUIRED_COLUMNS, SOURCE_COLUMNS
from salesdash.store import make_engine
from salesdash.store.stream import BatchOutcome, stream_statuses
from salesdash.stream.consumer import dead_letter_stream
from salesdash.stream.messages import order_line_schema
from salesdash.stream.publisher import file_messages, publish_messages
from tests.conftest import SAMPLE_CSV
from tests.reliability.support import metric_outputs
from tests.stream.conftest import line_count, wait_for

SAMPLE_LINES = 2823


def publish(settings: Settings, messages: list[bytes], rate: float | None = None) -> int:
    return asyncio.run(publish_messages(settings, messages, rate=rate))


def status(engine: Engine) -> dict[str, Any]:
    found = stream_statuses(engine)
    return found[0] if found else {}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a file ingest of the sample answers (SQLite)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}")
    ingest_file(engine, SAMPLE_CSV)
    out = metric_outputs(engine, with_version=False)
    engine.dispose()
    return out


def test_published_sample_equals_a_file_ingest(
    make_settings: Callable[..., Settings], fresh_engine: Engine, run_consumer: Any, reference: dict[str, Any]
):
    settings = make_settings()
    run_consumer(settings, fresh_engine)
    assert publish(settings, file_messages(SAMPLE_CSV)) == SAMPLE_LINES
    wait_for(lambda: line_count(fresh_engine) == SAMPLE_LINES, what="every published line to be stored")
    assert metric_outputs(fresh_engine, with_version=False) == reference
    client = create_app(settings, engine=fresh_engine).test_client()
    kpis = client.get("/api/kpis").get_json()["data"]
    assert (kpis["revenue"], kpis["order_count"], kpis["customer_count"]) == (9_838_141.37, 303, 92)
    state = status(fresh_engine)
    assert state["lines_appended"] == SAMPLE_LINES and state["dead_letters"] == 0 and state["connected"]


def test_redelivered_and_resent_lines_are_no_ops(
    make_settings: Callable[..., Settings], fresh_engine: Engine, run_consumer: Any, reference: dict[str, Any]
):
    settings = make_settings()
    messages = file_messages(SAMPLE_CSV)
    publish(settings, messages[:1500])
    run_consumer(settings, fresh_engine)
    wait_for(lambda: line_count(fresh_engine) == 1500, what="the first 1,500 lines")
    publish(settings, messages)  # everything again: the first 1,500 a second time
    wait_for(
        lambda: status(fresh_engine).get("duplicates_skipped") == 1500, what="the re-sent lines to be skipped"
    )
    wait_for(lambda: line_count(fresh_engine) == SAMPLE_LINES, what="the rest of the lines")
    assert metric_outputs(fresh_engine, with_version=False) == reference
    assert status(fresh_engine)["dead_letters"] == 0


def test_a_backlog_is_taken_in_growing_batches_up_to_the_backlog_bound(
    make_settings: Callable[..., Settings], fresh_engine: Engine, run_consumer: Any, reference: dict[str, Any]
):
    """A batch that fills up lets the next take twice as many lines, never more than stream_backlog_batch_size;
    the figures are still a file ingest's."""
    settings = make_settings(stream_batch_size=100, stream_backlog_batch_size=400, stream_batch_seconds=5)
    publish(settings, file_messages(SAMPLE_CSV))  # the whole sample waits before the consumer starts
    sizes: list[int] = []

    def record(outcome: BatchOutcome) -> None:
        sizes.append(outcome.appended + outcome.duplicates + len(outcome.dead_letters))

    run_consumer(settings, fresh_engine, after_batch=[record])
    wait_for(lambda: line_count(fresh_engine) == SAMPLE_LINES, what="every published line to be stored")
    wait_for(lambda: len(sizes) == status(fresh_engine)["batches"], what="every batch's hook")
    assert sum(sizes) == SAMPLE_LINES, sizes
    assert sizes[:3] == [100, 200, 400], sizes  # the backlog was there at once: each batch filled up
    assert max(sizes) == 400 and len(sizes) < SAMPLE_LINES / 100, sizes
    assert metric_outputs(fresh_engine, with_version=False) == reference


async def _dead_letters(settings: Settings, count: int) -> list[dict[str, Any]]:
    nc = await nats.connect(servers=[settings.stream_url])
    js = nc.jetstream()
    sub = await js.pull_subscribe(settings.stream_dead_letter_subject, stream=dead_letter_stream(settings))
    got: dict[int, dict[str, Any]] = {}  # by stream sequence: a re-delivered refusal is published again
    while len(got) < count:
        for message in await sub.fetch(count - len(got), timeout=30):
            letter = json.loads(message.data)
            got.setdefault(letter["stream_sequence"], letter)
            await message.ack()
    await nc.close()
    return list(got.values())


def test_poison_messages_are_dead_lettered_and_the_rest_flows(
    make_settings: Callable[..., Settings], fresh_engine: Engine, run_consumer: Any, reference: dict[str, Any]
):
    settings = make_settings()
    messages = file_messages(SAMPLE_CSV)
    first = json.loads(messages[0])
    negative = dict(first, ORDERLINENUMBER="99", QUANTITYORDERED="-4")
    contradicting = dict(first, QUANTITYORDERED=str(int(first["QUANTITYORDERED"]) + 1))
    poison = [
        b"\xff not json",
        b"[1, 2]",
        json.dumps(negative).encode(),
        json.dumps(dict(first, SALES=True)).encode(),
    ]
    run_consumer(settings, fresh_engine)
    publish(settings, messages[:100] + poison + messages[100:] + [json.dumps(contradicting).encode()])
    wait_for(lambda: line_count(fresh_engine) == SAMPLE_LINES, what="every good line")
    wait_for(lambda: status(fresh_engine).get("dead_letters") == 5, what="five dead letters")
    assert metric_outputs(fresh_engine, with_version=False) == reference
    letters = sorted(asyncio.run(_dead_letters(settings, 5)), key=lambda d: d["stream_sequence"])
    reasons = [d["reason"] for d in letters]
    assert reasons[0].startswith("not a JSON object in UTF-8")
    assert reasons[1] == "not a JSON object (found a JSON list)"
    assert reasons[2] == "QUANTITYORDERED ('-4') must be at least 1"  # the file ingest's words
    assert reasons[3] == "SALES must be a string or a number, found bool"
    assert "is stored with other content (differs in quantity_ordered, sales_cents)" in reasons[4] or (
        "differs in quantity_ordered" in reasons[4]
    )
    stored = status(fresh_engine)["recent_dead_letters"]
    assert sorted(d["reason"] for d in stored) == sorted(reasons)


def test_the_message_schema_names_the_csv_columns():
    schema = order_line_schema()
    assert tuple(schema["properties"]) == SOURCE_COLUMNS
    assert tuple(schema["required"]) == REQUIRED_COLUMNS
    numeric = {c for c, p in schema["properties"].items() if "number" in p["type"]}
    assert numeric == set(NUMERIC_COLUMNS)
    assert read_csv(SAMPLE_CSV).frame.columns.tolist() == list(SOURCE_COLUMNS)


def test_publish_cli_fails_clearly_without_nats(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from benchmarks.reliability.common import free_port
    from salesdash.cli import main

    monkeypatch.setenv("SALESDASH_STREAM_URL", f"nats://127.0.0.1:{free_port()}")  # nobody listens there
    assert main(["stream", "publish", str(SAMPLE_CSV)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("salesdash: error: Cannot reach NATS at nats://127.0.0.1:")
