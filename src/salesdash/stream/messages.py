"""Messages of the live feed -> a validated, cleaned micro-batch, with the file ingest's rules and messages.

A message is one JSON object per order line whose keys are the source CSV's column names (the JSON Schema is
``order_line.schema.json`` next to this module; docs/streaming.md). Values are the CSV's text, or numbers for
the numeric columns. The batch goes through the very validation a file gets (``ingest.validate`` and
``ingest.clean``); a message that fails becomes a dead letter whose reason is the ingest's message for its line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from salesdash.ingest.clean import clean
from salesdash.ingest.report import build_report
from salesdash.ingest.schema import SOURCE_COLUMNS
from salesdash.ingest.validate import line_of, validate
from salesdash.store.stream import DeadLetter

SCHEMA_PATH = Path(__file__).with_name("order_line.schema.json")
BATCH_NAME = "stream batch"


def order_line_schema() -> dict[str, Any]:
    """The JSON Schema of one message."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@dataclass
class Batch:
    """A micro-batch ready to commit: the valid lines, and for each its message's sequence and text."""

    lines: pd.DataFrame
    sequences: list[int]
    payloads: list[str]
    refused: list[DeadLetter]
    repeated: int  # messages identical to an earlier one of the batch (a re-send): skipped
    report: dict[str, Any]
    sha256: str
    failures: list[dict[str, Any]] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):  # a JSON true/false is neither text nor a number
        return None
    if isinstance(value, int | float | str):
        return str(value)
    return None


_ABSENT = object()


def decode(data: bytes) -> dict[str, str] | str:
    """The message as {CSV column: text}, or the reason it cannot be one."""
    try:
        obj = orjson.loads(data)  # strict JSON in UTF-8 (no NaN, no lone surrogates), in C
    except orjson.JSONDecodeError as exc:
        return f"not a JSON object in UTF-8: {exc}"
    if not isinstance(obj, dict):
        return f"not a JSON object (found a JSON {type(obj).__name__})"
    row: dict[str, str] = {}
    for column in SOURCE_COLUMNS:
        value = obj.get(column, _ABSENT)
        if type(value) is str:  # the usual case, without _text's checks
            row[column] = value
        elif value is not _ABSENT:
            text = _text(value)
            if text is None:
                return f"{column} must be a string or a number, found {type(value).__name__}"
            row[column] = text
    return row


def _reason(failures: list[dict[str, Any]]) -> str:
    parts = []
    for f in failures:
        value = "" if f["value"] in (None, "") else f" ({f['value']!r})"
        parts.append(f"{f['column']}{value} {f['problem']}")
    return "; ".join(parts)


def prepare_batch(messages: list[tuple[int, bytes]]) -> Batch:
    """Decode, de-duplicate, validate and clean ``messages`` ((stream sequence, data) in arrival order)."""
    refused: list[DeadLetter] = []
    rows: list[dict[str, str]] = []
    sequences: list[int] = []
    payloads: list[str] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    repeated = 0
    digest = hashlib.sha256()
    for sequence, data in messages:
        digest.update(data)
        payload = data.decode("utf-8", errors="replace")
        row = decode(data)
        if isinstance(row, str):
            refused.append(DeadLetter(sequence, row, payload))
            continue
        key = tuple(row.items())  # in SOURCE_COLUMNS order: the same content gives the same key
        if key in seen:
            repeated += 1
            continue
        seen.add(key)
        rows.append(row)
        sequences.append(sequence)
        payloads.append(payload)
    # text columns as a file's reader makes them (ingest/read.py: dtype=str), so validation runs the same code
    raw = pd.DataFrame(rows, columns=list(SOURCE_COLUMNS), dtype=str).fillna("")
    failures: list[dict[str, Any]] = []
    if rows:
        typed, warnings, failures = validate(raw, BATCH_NAME)
    else:
        typed, warnings = raw, []
    by_line: dict[int, list[dict[str, Any]]] = {}
    for f in failures:
        by_line.setdefault(int(f["line"]), []).append(f)
    bad = sorted(line - line_of(0) for line in by_line)
    for index in bad:
        refused.append(DeadLetter(sequences[index], _reason(by_line[line_of(index)]), payloads[index]))
    refused_rows = set(bad)
    good = [i for i in range(len(rows)) if i not in refused_rows]
    valid = typed.drop(index=bad) if rows else typed
    lines = clean(valid) if len(valid) else pd.DataFrame()
    report: dict[str, Any] = {}
    if len(valid):  # the quality report of the batch (recorded with its data version)
        report = build_report(
            name=BATCH_NAME,
            encoding="utf-8",
            sha256=digest.hexdigest(),
            size_bytes=sum(len(data) for _, data in messages),
            raw=raw,
            typed_valid=valid,
            clean=lines,
            warnings=warnings,
            failures=failures,
            rejected_lines=len(bad),
        )
    refused.sort(key=lambda d: d.sequence)
    return Batch(
        lines=lines,
        sequences=[sequences[i] for i in good],
        payloads=[payloads[i] for i in good],
        refused=refused,
        repeated=repeated,
        report=report,
        sha256=digest.hexdigest(),
        failures=failures,
    )


__all__ = ["SCHEMA_PATH", "Batch", "decode", "order_line_schema", "prepare_batch"]
