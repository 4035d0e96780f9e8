"""API tokens with roles. Tokens are random, shown once, and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from salesdash.errors import InvalidParameter, NotFound
from salesdash.store.engine import ensure_schema
from salesdash.store.schema import api_tokens

ROLES = ("viewer", "admin")
# A role may do what the roles before it may do.
RANK = {role: i for i, role in enumerate(ROLES)}
PREFIX = "sd_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, role: str, name: str = "") -> str:
    """Create a token with ``role`` and return it (the only time it is ever shown)."""
    if role not in ROLES:
        raise InvalidParameter(
            f"unknown role {role!r}; use one of {', '.join(ROLES)}",
            details=[{"parameter": "role", "message": f"must be one of {', '.join(ROLES)}"}],
        )
    ensure_schema(engine)
    token = PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                name=name or role,
                role=role,
                token_hash=hash_token(token),
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )
    return token


@dataclass(frozen=True)
class Identity:
    """Who a token is: its id (what the audit log records) and role. Never the token itself."""

    token_id: int
    role: str


def identify(engine: Engine, token: str | None) -> Identity | None:
    """The id and role of ``token``, or None when it is missing, unknown or revoked (constant-time)."""
    if not token:
        return None
    digest = hash_token(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.id, api_tokens.c.role, api_tokens.c.token_hash).where(
                api_tokens.c.token_hash == digest
            )
        ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Identity(int(row.id), str(row.role))


def role_of(engine: Engine, token: str | None) -> str | None:
    """The role of ``token``, or None when it is missing or unknown."""
    identity = identify(engine, token)
    return identity.role if identity else None


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    """Every live token: id, name, role, created_at (never the token or its hash)."""
    ensure_schema(engine)
    t = api_tokens
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.id, t.c.name, t.c.role, t.c.created_at).order_by(t.c.id)).mappings()
        return [dict(row) for row in rows]


def revoke_token(engine: Engine, token_id: int) -> dict[str, Any]:
    """Revoke the token ``token_id`` (it stops working at once); returns what it was. Unknown id: NotFound."""
    ensure_schema(engine)
    t = api_tokens
    with engine.begin() as conn:
        row = conn.execute(select(t.c.id, t.c.name, t.c.role).where(t.c.id == token_id)).mappings().first()
        if row is None:
            raise NotFound(
                f"No token with id {token_id}; `salesdash token list` shows the tokens.",
                details=[{"parameter": "id", "value": token_id, "message": "unknown token id"}],
            )
        conn.execute(delete(t).where(t.c.id == token_id))
    return dict(row)


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK.get(role, -1) >= RANK[needed]
