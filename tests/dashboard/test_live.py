"""The dashboard's live parts (AppTest against a real API): the sidebar while a consumer is live, and the Data
quality page's live-feed section with the dead letters shown as text."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from salesdash.config import Settings
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.store.stream import DeadLetter, commit_batch, record_heartbeat
from tests.conftest import SAMPLE_CSV
from tests.dashboard.conftest import serve
from tests.dashboard.test_app import run_app

STREAM = "SALESDASH_ORDERS"  # the default stream name: the API and the dashboard use the default settings
PAYLOAD = '{"ORDERNUMBER": "10107", "CUSTOMERNAME": "**bold** <b>x</b>"}'


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def live_feed_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An API over the sample whose store has a live consumer (its heartbeat, every second) and one dead
    letter."""
    url = f"sqlite:///{tmp_path / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    refused = [DeadLetter(7, "QUANTITYORDERED ('-4') must be at least 1", PAYLOAD)]
    commit_batch(
        engine, pd.DataFrame(), sequences=[], payloads=[], refused=refused, stream=STREAM,
        subject="salesdash.orders", version="unused", source_sha256="", at=_now(), report={},
    )  # fmt: skip
    beating = threading.Event()

    def heartbeat() -> None:  # what a running consumer does while it waits for lines
        while not beating.wait(1.0):
            record_heartbeat(engine, STREAM, "salesdash.orders", at=_now(), connected=True)

    record_heartbeat(engine, STREAM, "salesdash.orders", at=_now(), connected=True)
    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    server, thread = serve(Settings(database_url=url, source_path=SAMPLE_CSV), engine)
    api = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("SALESDASH_API_URL", api)
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "30")
    yield api
    beating.set()
    beat.join(timeout=10)
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()


def test_the_sidebar_says_live_and_the_quality_page_lists_dead_letters(live_feed_api: str) -> None:
    at = run_app()
    assert not at.exception, [e.value for e in at.exception]
    sidebar = "\n".join(str(c.value) for c in at.sidebar.caption)
    assert "no order yet" in sidebar and "Checks for new orders every 3 seconds" in sidebar
    at.switch_page("views/quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Dead letters"] == "1" and shown["Batches"] == "1"
    table = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert table["reason"].tolist() == ["QUANTITYORDERED ('-4') must be at least 1"]
    assert table["message"].tolist() == [PAYLOAD]  # the message as text in a table cell, never markup
    assert not any("bold" in str(m.value) for m in at.markdown)


def test_an_empty_store_is_checked_for_data_as_often_as_a_live_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No data and no feed known yet (a consumer starting): the page looks for data every live poll (3 s), so
    lines streamed in fill it without a reload, not after the five-minute file check."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    server, thread = serve(Settings(database_url=url, source_path=SAMPLE_CSV), engine)
    monkeypatch.setenv("SALESDASH_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "30")
    try:
        at = run_app()
        assert not at.exception, [e.value for e in at.exception]
        sidebar = "\n".join(str(c.value) for c in at.sidebar.caption)
        assert "Checks for new data every 3 seconds" in sidebar, sidebar
    finally:
        server.shutdown()
        thread.join(timeout=10)
        engine.dispose()


def test_the_poll_interval_reads_as_english() -> None:
    from salesdash.dashboard.components.refresh import _every_text

    assert [_every_text(s) for s in (1, 3, 60, 300)] == ["second", "3 seconds", "minute", "5 minutes"]
