"""API tokens with roles. Tokens are random, shown once, and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from salesdash.errors import InvalidParameter
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


def role_of(engine: Engine, token: str | None) -> str | None:
    """The role of ``token``, or None when it is missing or unknown (constant-time comparison)."""
    if not token:
        return None
    digest = hash_token(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.role, api_tokens.c.token_hash).where(api_tokens.c.token_hash == digest)
        ).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return str(row.role)


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK.get(role, -1) >= RANK[needed]
