"""The live-orders consumer: a JetStream durable pull consumer -> validated micro-batches -> the store.

Each micro-batch (at most ``stream_batch_size`` lines, at most ``stream_batch_seconds`` after its first message;
while a backlog waits, a batch that filled up lets the next one take twice as many lines, up to
``stream_backlog_batch_size``: the fixed cost of a batch is paid fewer times) is validated like a file (``stream.messages``), committed in one transaction (``store.stream.commit_batch``:
append, rollups of the touched rows, data version, dead letters, counters) and only then acknowledged. A kill
at any point loses nothing: unacknowledged messages are re-delivered after ``stream_ack_wait_seconds`` and lines
already committed are recognised and skipped. Refused messages are published on the dead-letter subject with
the reason. While NATS is unreachable the consumer says so in ``stream_status`` (``GET /api/stream``), keeps
reconnecting and resumes where the durable consumer stands.

After every committed batch the consumer calls its ``after_batch`` hooks with the :class:`BatchOutcome`
(``outcome.version`` is the new data version, or None when the batch added no line): the one place to hook
metrics, audit logs or alerts onto stream batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import nats
from nats.errors import ConnectionClosedError, NoServersError
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from salesdash.config import Settings
from salesdash.errors import RefreshInProgress, StoreUnavailable
from salesdash.ingest import make_version
from salesdash.lifecycle import ignore_stop_signals
from salesdash.store.stream import (
    STOPPED,
    BatchOutcome,
    DeadLetter,
    commit_batch,
    mark_started,
    record_heartbeat,
)
from salesdash.stream.messages import Batch, prepare_batch
from salesdash.telemetry import observe_load

log = logging.getLogger(__name__)

AfterBatch = Callable[[BatchOutcome], None]
# a fetched micro-batch: its messages, their (stream sequence, data), and its validation (None if that failed)
Fetched = tuple[list[Any], list[tuple[int, bytes]], Batch | None]
HEARTBEAT_SECONDS = 2.0
RETRY_SECONDS = 0.5
# store errors that are about the database, not the message: the batch is retried, never dead-lettered
TRANSIENT = (RefreshInProgress, StoreUnavailable, OperationalError)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def dead_letter_stream(settings: Settings) -> str:
    return f"{settings.stream_name}_DEAD"


async def ensure_streams(js: JetStreamContext, settings: Settings) -> None:
    """Create the order stream and the dead-letter stream if they do not exist yet (idempotent)."""
    for name, subject in (
        (settings.stream_name, settings.stream_subject),
        (dead_letter_stream(settings), settings.stream_dead_letter_subject),
    ):
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(name=name, subjects=[subject])


class StreamConsumer:
    """Consume ``settings.stream_subject`` into the store behind ``engine`` until :meth:`stop`."""

    def __init__(
        self, settings: Settings, engine: Engine, after_batch: list[AfterBatch] | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.after_batch: list[AfterBatch] = list(after_batch or [])
        self.connected = False
        self.last_error: str | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_heartbeat = 0.0
        self._buffer: deque[Any] = deque()  # pushed messages not yet in a batch
        self._arrived = asyncio.Event()
        self._limit = settings.stream_batch_size  # most lines of the next batch (see _collect)
        self._held: list[list[Any]] = []  # batches taken from the buffer and not acknowledged yet

    # -- running -------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run in this thread until SIGINT/SIGTERM (the ``salesdash stream`` command)."""

        async def main() -> None:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
            await self.consume()

        try:
            asyncio.run(main())
        finally:
            ignore_stop_signals()

    def start_thread(self) -> threading.Thread:
        """Run in a daemon thread (the API process, when ``stream_enabled``); :meth:`stop` ends it."""
        thread = threading.Thread(
            target=lambda: asyncio.run(self.consume()), name="salesdash-stream", daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _pause(self, seconds: float) -> None:
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def consume(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._arrived = asyncio.Event()
        s = self.settings
        await asyncio.to_thread(mark_started, self.engine, s.stream_name, s.stream_subject, at=_now())
        while not self._stop.is_set():
            nc = await self._connect()
            if nc is None:
                continue
            try:
                await self._consume_from(nc)
            finally:
                # close, not drain: draining waits on the pull subscription's queue; every ack is sent by now
                with contextlib.suppress(OSError, nats.errors.Error):  # a lost connection is closed already
                    await nc.close()
        await self._heartbeat(force=True, connected=False, error=STOPPED)

    async def _connect(self) -> Any:
        s = self.settings

        async def disconnected() -> None:
            self.connected = False
            await self._heartbeat(
                force=True, connected=False, error=f"NATS at {s.stream_url} unreachable; reconnecting"
            )

        async def reconnected() -> None:
            self.connected = True
            log.info("reconnected to NATS at %s", s.stream_url)
            await self._heartbeat(force=True, connected=True)

        async def on_error(exc: Exception) -> None:
            log.debug("NATS: %s", exc)

        try:
            nc = await nats.connect(
                servers=[s.stream_url],
                name="salesdash-stream",
                connect_timeout=2,
                reconnect_time_wait=RETRY_SECONDS,
                max_reconnect_attempts=-1,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=on_error,
            )
        except (NoServersError, OSError, TimeoutError) as exc:
            self.connected = False
            await self._heartbeat(
                force=True, connected=False, error=f"NATS at {s.stream_url} unreachable: {exc}"
            )
            await self._pause(1.0)
            return None
        self.connected = True
        log.info("consuming %s (stream %s) from %s", s.stream_subject, s.stream_name, s.stream_url)
        return nc

    async def _subscribe(self, js: JetStreamContext) -> Any:
        """A durable push subscription whose messages land in ``self._buffer`` (at most max_ack_pending
        unacknowledged at a time: NATS holds the rest). Pushed, not pulled: a pull request that times out on the
        client while the server still answers it strands messages until their ack wait passes."""
        s = self.settings
        await ensure_streams(js, s)
        self._buffer.clear()

        async def arrived(message: Any) -> None:
            self._buffer.append(message)
            self._arrived.set()

        config = api.ConsumerConfig(
            durable_name=s.stream_durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=s.stream_ack_wait_seconds,
            # the batch committing and the next one: a line never waits in the buffer past its ack wait (it would
            # be re-delivered, and re-delivered lines ahead of new ones delay them)
            max_ack_pending=2 * self._largest_batch(),
        )
        return await js.subscribe(
            s.stream_subject,
            durable=s.stream_durable,
            stream=s.stream_name,
            config=config,
            cb=arrived,
            manual_ack=True,
        )

    async def _consume_from(self, nc: Any) -> None:
        """Batches from ``nc`` until stopped or the connection closes. While a batch commits, the next one is
        fetched and validated (validation does not depend on the store): the two overlap."""
        assert self._stop is not None
        js = nc.jetstream()
        sub = None
        upcoming: asyncio.Task[Fetched] | None = None
        self._held.clear()
        keep_alive = asyncio.create_task(self._keep_alive())
        try:
            while not self._stop.is_set():
                if nc.is_closed:
                    return
                try:
                    if sub is None:
                        sub = await self._subscribe(js)
                        await self._heartbeat(force=True, connected=True)
                    if upcoming is None:
                        upcoming = asyncio.create_task(self._next_batch(sub))
                    messages, pairs, batch = await upcoming
                    upcoming = None
                except (ConnectionClosedError, NoServersError):
                    return
                except Exception as exc:  # NATS down or the consumer gone: report, resubscribe
                    upcoming = None
                    if not self._stop.is_set():
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        await self._heartbeat(force=True, connected=nc.is_connected, error=self.last_error)
                        if sub is not None:
                            with contextlib.suppress(Exception):
                                await sub.unsubscribe()
                        sub = None
                        await self._pause(RETRY_SECONDS)
                    continue
                if not messages:
                    await self._heartbeat(connected=True)
                    continue
                upcoming = asyncio.create_task(self._next_batch(sub))
                await self._handle(js, messages, pairs, batch)
        finally:
            keep_alive.cancel()
            with contextlib.suppress(BaseException):
                await keep_alive
            if upcoming is not None:  # fetched, not acknowledged: NATS delivers them again
                upcoming.cancel()
                with contextlib.suppress(BaseException):
                    await upcoming

    async def _keep_alive(self) -> None:
        """Every third of the ack wait, tell NATS that the lines this consumer holds (pushed and waiting, being
        validated, being committed) are in progress, so that none is re-delivered while it is still held: on a
        slow machine re-delivered copies would queue ahead of new lines, each batch slower than the last. A
        killed consumer stops telling, and NATS re-delivers its lines after the ack wait as before."""
        assert self._stop is not None
        period = self.settings.stream_ack_wait_seconds / 3
        while not self._stop.is_set():
            await self._pause(period)
            for message in [*self._buffer, *(m for batch in list(self._held) for m in batch)]:
                if not message.is_acked:
                    with contextlib.suppress(Exception):  # a lost connection: the main loop reports it
                        await message.in_progress()

    async def _next_batch(self, sub: Any) -> Fetched:
        """The next micro-batch and its validation (None when validation itself failed: see _commit_each)."""
        messages = await self._collect(sub)
        if not messages:
            return [], [], None
        pairs = self._pairs(messages)  # once: a message's metadata is parsed from its reply subject per call
        try:
            batch = await asyncio.to_thread(prepare_batch, pairs)
        except Exception:
            log.exception("a batch of %d messages could not be validated", len(messages))
            batch = None
        return messages, pairs, batch

    @staticmethod
    def _pairs(messages: list[Any]) -> list[tuple[int, bytes]]:
        return [(int(m.metadata.sequence.stream), bytes(m.data)) for m in messages]

    async def _wait_arrival(self, seconds: float) -> None:
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), timeout=max(seconds, 0.001))

    def _largest_batch(self) -> int:
        s = self.settings
        return max(s.stream_batch_size, s.stream_backlog_batch_size)

    async def _collect(self, sub: Any) -> list[Any]:
        """One micro-batch: wait for a first message, then fill up for at most stream_batch_seconds.

        A batch that reaches its size bound means more lines are waiting (a backlog): the next one may take twice
        as many, up to stream_backlog_batch_size; a batch closed by the time bound (a live feed) puts the bound
        back to stream_batch_size, so live lines are never held for a large batch."""
        s = self.settings
        if not self._buffer:
            await self._wait_arrival(HEARTBEAT_SECONDS)
            if not self._buffer:
                return []
        limit = self._limit
        deadline = time.monotonic() + s.stream_batch_seconds
        while len(self._buffer) < limit and (remaining := deadline - time.monotonic()) > 0:
            await self._wait_arrival(remaining)
        count = min(len(self._buffer), limit)
        self._limit = min(2 * limit, self._largest_batch()) if count == limit else s.stream_batch_size
        messages = [self._buffer.popleft() for _ in range(count)]
        self._held.append(messages)
        return messages

    # -- one batch -----------------------------------------------------------------------------------------

    def _commit(self, batch: Batch) -> BatchOutcome:
        s = self.settings
        at = _now()
        return commit_batch(
            self.engine,
            batch.lines,
            sequences=batch.sequences,
            payloads=batch.payloads,
            refused=batch.refused,
            stream=s.stream_name,
            subject=s.stream_subject,
            version=make_version(batch.sha256, at),
            source_sha256=batch.sha256,
            at=at,
            report=batch.report,
        )

    def _commit_each(self, messages: list[tuple[int, bytes]]) -> BatchOutcome:
        """A batch failed for a reason that is not the database's: commit its messages one by one, so that
        the one that cannot be stored is dead-lettered and the rest flows."""
        total = BatchOutcome(version=None)
        for sequence, data in messages:
            try:
                outcome = self._commit(prepare_batch([(sequence, data)]))
            except TRANSIENT:
                raise
            except Exception as exc:
                log.warning("message %s cannot be stored: %s", sequence, exc)
                reason = f"could not be stored ({type(exc).__name__}: {str(exc)[:300]})"
                payload = data.decode("utf-8", errors="replace")
                refused = Batch(
                    lines=prepare_batch([]).lines,
                    sequences=[],
                    payloads=[],
                    refused=[DeadLetter(sequence, reason, payload)],
                    repeated=0,
                    report={},
                    sha256="",
                )
                outcome = self._commit(refused)
            total.version = outcome.version or total.version
            total.appended += outcome.appended
            total.duplicates += outcome.duplicates
            total.dead_letters += outcome.dead_letters
        return total

    def _process(self, messages: list[tuple[int, bytes]], batch: Batch | None) -> BatchOutcome:
        try:
            if batch is None:
                raise ValueError("the batch could not be validated")
            outcome = self._commit(batch)
            outcome.duplicates += batch.repeated
            return outcome
        except TRANSIENT:
            raise
        except Exception as exc:
            log.warning("batch of %d messages failed (%s); committing them one by one", len(messages), exc)
            return self._commit_each(messages)

    async def _handle(
        self, js: JetStreamContext, messages: list[Any], pairs: list[tuple[int, bytes]], batch: Batch | None
    ) -> None:
        s = self.settings
        while True:
            try:
                started = time.perf_counter()
                outcome = await asyncio.to_thread(self._process, pairs, batch)
                observe_load("stream", time.perf_counter() - started, outcome.appended)
                break
            except TRANSIENT as exc:  # the database, not the messages: keep them unacknowledged and retry
                self.last_error = getattr(exc, "message", None) or str(exc)
                log.warning("batch not committed, retrying: %s", self.last_error)
                await self._heartbeat(force=True, connected=True, error=self.last_error)
                await self._pause(RETRY_SECONDS)
                assert self._stop is not None
                if self._stop.is_set():
                    return  # unacknowledged: re-delivered to the next consumer
        for letter in outcome.dead_letters:
            body = {"stream_sequence": letter.sequence, "reason": letter.reason, "message": letter.payload}
            await js.publish(s.stream_dead_letter_subject, json.dumps(body).encode("utf-8"))
        for message in messages:
            await message.ack()
        self._held = [held for held in self._held if held is not messages]
        self._last_heartbeat = time.monotonic()
        for hook in self.after_batch:
            try:  # in a worker thread: a slow hook (an alert check) must not stall the connection
                await asyncio.to_thread(hook, outcome)
            except Exception:  # a hook never stops the stream
                log.exception("after_batch hook failed")

    async def _heartbeat(self, *, connected: bool, error: str | None = None, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_heartbeat < HEARTBEAT_SECONDS:
            return
        self._last_heartbeat = time.monotonic()
        s = self.settings
        try:
            await asyncio.to_thread(
                record_heartbeat,
                self.engine,
                s.stream_name,
                s.stream_subject,
                at=_now(),
                connected=connected,
                error=error,
            )
        except Exception as exc:
            log.debug("heartbeat not recorded: %s", exc)


def default_hooks(settings: Settings, engine: Engine) -> list[AfterBatch]:
    """The hooks every deployed consumer runs after a committed batch: the alert checks (docs/reports.md)."""
    from salesdash.reports.alerts import batch_hook

    return [batch_hook(engine, settings)]


__all__ = ["AfterBatch", "StreamConsumer", "dead_letter_stream", "default_hooks", "ensure_streams"]
