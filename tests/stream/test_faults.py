"""Faults of the live feed: the consumer killed (SIGKILL) inside a batch's transaction and restarted loses nothing
and counts nothing twice; NATS stopped and restarted: the consumer reports it, reconnects and resumes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from salesdash.config import Settings
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.store.lock import is_locked
from salesdash.store.stream import stream_statuses
from salesdash.stream.publisher import file_messages, publish_messages
from tests.conftest import ROOT, SAMPLE_CSV
from tests.reliability.support import metric_outputs
from tests.store.test_incremental import assert_equal_to_rebuild
from tests.stream.conftest import PrivateNats, line_count, stream_settings, wait_for

SAMPLE_LINES = 2823


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reference') / 'ref.db'}")
    ingest_file(engine, SAMPLE_CSV)
    out = metric_outputs(engine, with_version=False)
    engine.dispose()
    return out


def _status(engine: Engine) -> dict[str, Any]:
    found = stream_statuses(engine)
    return found[0] if found else {}


def _consumer_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = os.environ | {
        f"SALESDASH_{k.upper()}": str(v)
        for k, v in settings.model_dump().items()
        if k.startswith(("stream", "database"))
    }
    return subprocess.Popen(
        [sys.executable, "-m", "salesdash", "stream"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("engine_kind", ["sqlite", "postgresql"], indirect=True)
def test_a_consumer_killed_inside_a_batch_loses_nothing_and_doubles_nothing(
    make_settings: Callable[..., Settings], fresh_engine: Engine, reference: dict[str, Any]
):
    """SQLite and PostgreSQL run the consumer as its own process (DuckDB runs it inside the API)."""
    settings = make_settings(stream_batch_size=100, stream_batch_seconds=0.2, stream_ack_wait_seconds=2)
    asyncio.run(publish_messages(settings, file_messages(SAMPLE_CSV)))  # a backlog: batches follow each other
    first = _consumer_process(settings)
    try:
        # a batch's transaction is open exactly while the consumer holds the write lock
        wait_for(
            lambda: 0 < line_count(fresh_engine) < SAMPLE_LINES - 500 and is_locked(fresh_engine),
            60,
            "the consumer to be inside a batch",
        )
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    stored = line_count(fresh_engine)
    assert 0 < stored < SAMPLE_LINES
    second = _consumer_process(settings)
    try:
        # the killed batch's messages were never acknowledged: NATS re-delivers them after the ack wait
        wait_for(lambda: line_count(fresh_engine) == SAMPLE_LINES, 120, "every line after the restart")
        wait_for(
            lambda: _status(fresh_engine).get("batches", 0) > 0 and not is_locked(fresh_engine), 30, "quiet"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert metric_outputs(fresh_engine, with_version=False) == reference  # nothing lost, nothing doubled
    assert_equal_to_rebuild(fresh_engine)
    state = _status(fresh_engine)
    assert state["lines_appended"] == SAMPLE_LINES and state["dead_letters"] == 0


@pytest.mark.parametrize("engine_kind", ["sqlite"], indirect=True)
def test_nats_stopped_and_restarted_is_reported_and_the_feed_resumes(
    private_nats: PrivateNats, db_url: str, fresh_engine: Engine, run_consumer: Any, reference: dict[str, Any]
):
    settings = stream_settings(private_nats.url, db_url)
    messages = file_messages(SAMPLE_CSV)
    run_consumer(settings, fresh_engine)
    asyncio.run(publish_messages(settings, messages[:1000]))
    wait_for(lambda: line_count(fresh_engine) == 1000, 60, "the first 1,000 lines")
    wait_for(lambda: _status(fresh_engine).get("connected"), 30, "the consumer to report it is connected")
    private_nats.stop()
    state = wait_for(
        lambda: (s := _status(fresh_engine)) and not s["connected"] and s, 60, "NATS reported down"
    )
    assert state["active"] and "unreachable" in (state["last_error"] or "")
    private_nats.start()  # same port, same JetStream directory: the stream and the durable consumer are kept
    wait_for(lambda: _status(fresh_engine).get("connected"), 60, "the consumer to reconnect")
    asyncio.run(publish_messages(settings, messages[1000:]))
    wait_for(lambda: line_count(fresh_engine) == SAMPLE_LINES, 60, "the rest of the lines")
    assert metric_outputs(fresh_engine, with_version=False) == reference
