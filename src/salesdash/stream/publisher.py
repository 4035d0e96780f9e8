"""`salesdash stream publish FILE [--rate N]`: replay a CSV of order lines as a live feed (demos, tests,
benchmarks). Each line becomes one JSON object with the CSV's column names and its cells as text, published on
``stream_subject`` with JetStream acknowledgement (a line the server did not store is an error, not a silent
loss). ``rate``: lines per second (paced against the clock); without it, as fast as the server takes them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import nats
from nats.errors import NoServersError

from salesdash.config import Settings
from salesdash.errors import StreamUnavailable
from salesdash.ingest.read import read_csv
from salesdash.stream.consumer import ensure_streams

WINDOW = 1000  # publishes awaiting their acknowledgement at most (unpaced)

Progress = Callable[[str, int, int], None]


def file_messages(path: str | Path) -> list[bytes]:
    """The lines of a CSV as messages (read like an ingest reads: detected encoding, every cell as text)."""
    frame = read_csv(Path(path)).frame
    return [json.dumps(row, ensure_ascii=False).encode("utf-8") for row in frame.to_dict("records")]


async def publish_messages(
    settings: Settings,
    messages: Iterable[bytes],
    *,
    rate: float | None = None,
    progress: Progress | None = None,
    on_published: Callable[[int, float], None] | None = None,
) -> int:
    """Publish ``messages`` on ``settings.stream_subject``; returns how many. ``on_published(i, t)`` is called
    with each message's index and the monotonic time its publish was acknowledged."""
    items = list(messages)
    try:
        nc = await nats.connect(
            servers=[settings.stream_url],
            name="salesdash-publish",
            connect_timeout=3,
            max_reconnect_attempts=5,
        )
    except (NoServersError, OSError, TimeoutError) as exc:
        raise StreamUnavailable(f"Cannot reach NATS at {settings.stream_url}: {exc}") from None
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        started = time.monotonic()
        pending: list[Any] = []
        for i, data in enumerate(items):
            if rate:
                wait = started + i / rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)  # pacing against the clock, not synchronisation
                await js.publish(settings.stream_subject, data)
                if on_published:
                    on_published(i, time.monotonic())
            else:
                pending.append(js.publish_async(settings.stream_subject, data))
                if len(pending) >= WINDOW:
                    await asyncio.gather(*pending)
                    pending.clear()
            if progress and (i + 1) % 500 == 0:
                progress("publish", i + 1, len(items))
        if pending:
            await asyncio.gather(*pending)
        if progress:
            progress("publish", len(items), len(items))
        return len(items)
    finally:
        await nc.drain()


def publish_file(
    settings: Settings, path: str | Path, *, rate: float | None = None, progress: Progress | None = None
) -> int:
    return asyncio.run(publish_messages(settings, file_messages(path), rate=rate, progress=progress))


__all__ = ["file_messages", "publish_file", "publish_messages"]
