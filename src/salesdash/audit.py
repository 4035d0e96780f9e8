"""The audit log: one row per write (API, CLI, scheduler), stored in the database on every engine.

A row says when, who (the token's id and role, never the token), which action, with which parameters (secrets
and file content never: see :func:`scrub`), the result and the data version after it. Nothing here knows
about HTTP; the API records its writes with an ``after_request`` hook (``salesdash.api.observe``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from salesdash.store.schema import audit_log

log = logging.getLogger(__name__)

RESULTS = ("ok", "refused", "failed")
ACTORS = ("api", "cli", "scheduler")
MAX_PAGE = 500
# Parameter names whose values are never stored (matched anywhere in the name, case-insensitively).
SECRET_NAMES = re.compile(r"token|password|passwd|secret|authorization|api[_-]?key|credential", re.IGNORECASE)
REDACTED = "[redacted]"
# user:password@ in a URL (an SMTP or webhook URL given as a parameter)
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@:\s]*):(?P<password>[^/@\s]*)@")
TOKEN_LIKE = re.compile(r"\bsd_[A-Za-z0-9_-]{20,}")
MAX_TEXT = 500


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def scrub_text(text: str) -> str:
    """``text`` with URL passwords and anything shaped like a salesdash token removed."""
    text = URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)
    return TOKEN_LIKE.sub(REDACTED, text)[:MAX_TEXT]


def scrub(value: Any, name: str = "") -> Any:
    """A JSON-safe copy of ``value`` without secrets: values under secret-looking names are redacted,
    credentials in URLs and token-shaped strings are removed, long texts are cut."""
    if name and SECRET_NAMES.search(name) and not name.lower().endswith("_id"):  # token_id is not a secret
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, name) for v in value][:100]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_text(str(value))


@dataclass(frozen=True)
class Entry:
    action: str
    result: str
    parameters: Mapping[str, Any]
    actor: str = "api"
    token_id: int | None = None
    role: str | None = None
    status: int | None = None
    message: str | None = None
    data_version: str | None = None


def record(engine: Engine, entry: Entry) -> None:
    """Write one audit row. A failure to write is logged (without the parameters) and never raised: the
    audit log must not turn a successful write into an error."""
    row = {
        "recorded_at": now(),
        "actor": entry.actor,
        "token_id": entry.token_id,
        "role": entry.role,
        "action": entry.action[:64],
        "parameters": json.dumps(scrub(dict(entry.parameters)), sort_keys=True, default=str),
        "result": entry.result,
        "status": entry.status,
        "message": scrub_text(entry.message) if entry.message else None,
        "data_version": entry.data_version,
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(audit_log).values(**row))
    except SQLAlchemyError as exc:
        log.warning("could not write the audit row for %s: %s", entry.action, type(exc).__name__)


def entries(
    engine: Engine,
    *,
    actions: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of audit rows, newest first, and how many rows match in all. ``actions`` match exactly or as
    a prefix ending in ``.`` (``schedule.`` = every schedule action)."""
    t = audit_log
    clauses = []
    if actions:
        exact = [a for a in actions if not a.endswith(".")]
        prefixes = [a for a in actions if a.endswith(".")]
        options: list[ColumnElement[bool]] = [t.c.action.in_(exact)] if exact else []
        options += [t.c.action.startswith(p, autoescape=True) for p in prefixes]
        clauses.append(or_(*options))
    if since is not None:
        clauses.append(t.c.recorded_at >= since)
    if until is not None:
        clauses.append(t.c.recorded_at < until)
    query = select(t).where(*clauses).order_by(t.c.id.desc()).limit(min(limit, MAX_PAGE)).offset(offset)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(t).where(*clauses)).scalar_one())
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        row["parameters"] = json.loads(row["parameters"])
    return rows, total


__all__ = ["ACTORS", "MAX_PAGE", "RESULTS", "Entry", "entries", "now", "record", "scrub", "scrub_text"]
