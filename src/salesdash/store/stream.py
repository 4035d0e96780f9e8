"""Stream batches: validated order lines appended in one transaction, idempotently, with their dead letters.

:func:`commit_batch` is what the live-orders consumer (``salesdash.stream``) calls for each micro-batch. Under
the database's write lock and in ONE transaction it

- compares the lines with the stored ones: a line whose (ORDERNUMBER, ORDERLINENUMBER) is stored with the same
  content is a re-delivery and skipped; one stored with other content, or a new line of a stored order with
  another customer, date or status, is refused (a dead letter with the reason);
- inserts the other lines, updates only the rollup rows they touch (``store/incremental.py``) and records a new
  data version (only when lines were added);
- records the dead letters (once per stream sequence: a re-delivered refusal is not counted twice) and the
  stream's counters in ``stream_status``.

Nothing of a batch is visible before its commit, and a killed batch leaves nothing behind.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from salesdash.store.append import conflicts
from salesdash.store.bulk import insert_lines
from salesdash.store.engine import ensure_schema, has_schema, snapshot
from salesdash.store.incremental import update_rollups
from salesdash.store.load import DataVersion, current_version
from salesdash.store.lock import write_lock
from salesdash.store.schema import (
    DEAD_LETTER_PAYLOAD,
    ORDER_LINE_COLUMNS,
    data_versions,
    order_lines,
    stream_dead_letters,
    stream_status,
)

KEY_BATCH = 1000  # order numbers per lookup (bound parameters)
RECENT_DEAD_LETTERS = 20


@dataclass(frozen=True)
class DeadLetter:
    """A refused message: its stream sequence, why, and the message as received."""

    sequence: int
    reason: str
    payload: str


@dataclass
class BatchOutcome:
    version: DataVersion | None  # the new data version, None when the batch added no line
    appended: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


def _norm(value: Any) -> Any:
    """One comparable form for a stored value and a freshly cleaned one (dates, NaN/NA, numpy scalars)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()[:10]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 9)
    return str(value)


def _stored(conn: Connection, numbers: list[int]) -> pd.DataFrame:
    parts = []
    for start in range(0, len(numbers), KEY_BATCH):
        chunk = numbers[start : start + KEY_BATCH]
        rows = conn.execute(select(order_lines).where(order_lines.c.order_number.in_(chunk))).all()
        parts.append(pd.DataFrame(rows, columns=list(order_lines.c.keys())))
    if not parts:
        return pd.DataFrame(columns=list(order_lines.c.keys()))
    return pd.concat(parts, ignore_index=True)


def _differences(new: pd.Series, old: pd.Series) -> list[str]:
    return [name for name in ORDER_LINE_COLUMNS if _norm(new[name]) != _norm(old[name])]


def _classify(
    lines: pd.DataFrame, sequences: list[int], payloads: list[str], stored: pd.DataFrame
) -> tuple[list[int], int, list[DeadLetter]]:
    """(positions of the lines to insert, re-delivered lines skipped, dead letters) for a batch."""
    if stored.empty:
        return list(range(len(lines))), 0, []
    _duplicates, contradictions = conflicts(lines, stored)
    refused_orders: dict[int, str] = {}
    for c in contradictions:
        refused_orders.setdefault(c["order_number"], c["message"])
    by_key = {
        (int(r.order_number), int(r.order_line_number)): i
        for i, r in enumerate(stored[["order_number", "order_line_number"]].itertuples(index=False))
    }
    keys = list(
        zip(lines["order_number"].astype("int64"), lines["order_line_number"].astype("int64"), strict=True)
    )
    keep: list[int] = []
    skipped = 0
    dead: list[DeadLetter] = []
    for position, (number, line_number) in enumerate(keys):
        key = (int(number), int(line_number))
        if key in by_key:  # only stored keys are looked at row by row (a re-delivery, or a contradiction)
            changed = _differences(lines.iloc[position], stored.iloc[by_key[key]])
            if not changed:
                skipped += 1
                continue
            reason = (
                f"ORDERNUMBER {key[0]}, ORDERLINENUMBER {key[1]} is stored with other content "
                f"(differs in {', '.join(changed)})"
            )
            dead.append(DeadLetter(sequences[position], reason, payloads[position]))
            continue
        if key[0] in refused_orders:
            reason = (
                f"ORDERNUMBER {key[0]}: {refused_orders[key[0]]} (an order has one customer, date and status)"
            )
            dead.append(DeadLetter(sequences[position], reason, payloads[position]))
            continue
        keep.append(position)
    return keep, skipped, dead


def _record_dead_letters(conn: Connection, stream: str, dead: list[DeadLetter], at: datetime) -> int:
    """Insert the dead letters not recorded yet (by sequence); returns how many are new."""
    if not dead:
        return 0
    sequences = sorted({d.sequence for d in dead})
    known = {
        int(s)
        for s in conn.execute(
            select(stream_dead_letters.c.sequence).where(
                stream_dead_letters.c.stream == stream, stream_dead_letters.c.sequence.in_(sequences)
            )
        ).scalars()
    }
    fresh = {d.sequence: d for d in dead if d.sequence not in known}
    if fresh:
        conn.execute(
            insert(stream_dead_letters),
            [
                {
                    "stream": stream,
                    "sequence": d.sequence,
                    "received_at": at,
                    "reason": d.reason,
                    "payload": d.payload[:DEAD_LETTER_PAYLOAD],
                }
                for d in fresh.values()
            ],
        )
    return len(fresh)


def _status_row(conn: Connection, stream: str) -> Any:
    rows = conn.execute(select(stream_status).where(stream_status.c.stream == stream)).all()  # (DuckDB: no
    return rows[0] if rows else None  # half-read results on a connection that registers Arrow tables)


def _ensure_status(conn: Connection, stream: str, subject: str, at: datetime) -> None:
    if _status_row(conn, stream) is None:
        conn.execute(
            insert(stream_status).values(
                stream=stream,
                subject=subject,
                started_at=at,
                heartbeat_at=at,
                connected=True,
                lines_appended=0,
                duplicates_skipped=0,
                dead_letters=0,
                batches=0,
            )
        )


def commit_batch(
    engine: Engine,
    lines: pd.DataFrame,
    *,
    sequences: list[int],
    payloads: list[str],
    refused: list[DeadLetter],
    stream: str,
    subject: str,
    version: str,
    source_sha256: str,
    at: datetime,
    report: dict[str, Any],
) -> BatchOutcome:
    """Append the valid ``lines`` of one batch (columns = ORDER_LINE_COLUMNS; row i came from the message with
    stream sequence ``sequences[i]`` and text ``payloads[i]``) and record ``refused`` (messages that failed
    validation) in one transaction; see the module docstring."""
    with write_lock(engine, purpose=f"stream batch of {stream}"):
        ensure_schema(engine)
        lines = lines.reindex(columns=list(ORDER_LINE_COLUMNS)).reset_index(drop=True)
        with engine.begin() as conn:
            numbers = sorted({int(n) for n in lines["order_number"]})
            keep, skipped, dead = _classify(lines, sequences, payloads, _stored(conn, numbers))
            fresh = lines.iloc[keep].reset_index(drop=True)
            dead = [*refused, *dead]
            _ensure_status(conn, stream, subject, at)
            new_dead = _record_dead_letters(conn, stream, dead, at)
            if len(fresh):
                insert_lines(conn, fresh)
                total = update_rollups(conn, version, fresh)
                conn.execute(
                    insert(data_versions).values(
                        version=version,
                        source=f"stream {stream} ({subject})",
                        source_sha256=source_sha256,
                        loaded_at=at,
                        row_count=total,
                        report=json.dumps(report, default=str),
                    )
                )
            counters = stream_status.c
            values: dict[str, Any] = {
                "heartbeat_at": at,
                "connected": True,
                "last_batch_at": at,
                "lines_appended": counters.lines_appended + len(fresh),
                "duplicates_skipped": counters.duplicates_skipped + skipped,
                "dead_letters": counters.dead_letters + new_dead,
                "batches": counters.batches + 1,
                "last_error": None,
            }
            if len(fresh):
                values["last_order_at"] = at
            conn.execute(update(stream_status).where(counters.stream == stream).values(**values))
        outcome = BatchOutcome(version=current_version(engine) if len(fresh) else None)
    outcome.appended, outcome.duplicates, outcome.dead_letters = len(fresh), skipped, dead
    return outcome


def record_heartbeat(
    engine: Engine, stream: str, subject: str, *, at: datetime, connected: bool, error: str | None = None
) -> None:
    """The consumer is alive (and whether it reaches NATS); ``error`` says what is wrong, if anything."""
    ensure_schema(engine)
    with engine.begin() as conn:
        _ensure_status(conn, stream, subject, at)
        conn.execute(
            update(stream_status)
            .where(stream_status.c.stream == stream)
            .values(heartbeat_at=at, connected=connected, last_error=error)
        )


def mark_started(engine: Engine, stream: str, subject: str, *, at: datetime) -> None:
    ensure_schema(engine)
    with engine.begin() as conn:
        _ensure_status(conn, stream, subject, at)
        conn.execute(
            update(stream_status)
            .where(stream_status.c.stream == stream)
            .values(started_at=at, heartbeat_at=at, subject=subject)
        )


ACTIVE_SECONDS = 10.0  # a consumer whose heartbeat is older is not live (it beats every 2 s)
STOPPED = "consumer stopped"


def _letters(conn: Connection, stream: str, recent: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(stream_dead_letters)
        .where(stream_dead_letters.c.stream == stream)
        .order_by(stream_dead_letters.c.sequence.desc())
        .limit(recent)
    ).all()
    return [
        {"sequence": d.sequence, "received_at": d.received_at, "reason": d.reason, "payload": d.payload}
        for d in rows
    ]


def _as_status(row: Any, letters: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    values = dict(row._mapping)
    beat = values["heartbeat_at"]
    values["active"] = bool(
        beat is not None
        and (now - beat).total_seconds() <= ACTIVE_SECONDS
        and values["last_error"] != STOPPED
    )
    values["connected"] = bool(values["connected"]) and values["active"]
    values["recent_dead_letters"] = letters
    return values


EMPTY_STATUS: dict[str, Any] = {
    "active": False,
    "connected": False,
    "started_at": None,
    "heartbeat_at": None,
    "last_batch_at": None,
    "last_order_at": None,
    "lines_appended": 0,
    "duplicates_skipped": 0,
    "dead_letters": 0,
    "batches": 0,
    "last_error": None,
    "recent_dead_letters": [],
}


def stream_status_in(conn: Connection, stream: str, recent: int = RECENT_DEAD_LETTERS) -> dict[str, Any]:
    """The status of ``stream`` (inside a snapshot); EMPTY_STATUS before any consumer ran."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table(stream_status.name):
        return dict(EMPTY_STATUS)
    row = _status_row(conn, stream)
    if row is None:
        return dict(EMPTY_STATUS)
    return _as_status(row, _letters(conn, stream, recent), datetime.now(UTC).replace(tzinfo=None))


def stream_statuses(engine: Engine) -> list[dict[str, Any]]:
    """Every stream's status with its most recent dead letters."""
    if not has_schema(engine):
        return []
    with snapshot(engine) as conn:
        rows = conn.execute(select(stream_status).order_by(stream_status.c.stream)).all()
        now = datetime.now(UTC).replace(tzinfo=None)
        return [_as_status(row, _letters(conn, row.stream, RECENT_DEAD_LETTERS), now) for row in rows]


__all__ = [
    "BatchOutcome",
    "DeadLetter",
    "commit_batch",
    "mark_started",
    "record_heartbeat",
    "stream_status_in",
    "stream_statuses",
]
