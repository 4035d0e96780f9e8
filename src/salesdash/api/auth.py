"""Bearer-token auth with roles (viewer < admin), checked before any parameter handling.

- A view marked ``@requires("admin")`` needs an admin token: 401 without a (known) token, 403 with a viewer one.
- Every other view is open, unless ``settings.require_auth`` is on: then it needs at least a viewer token.
- Views marked ``@public`` (index, health, the OpenAPI document and docs) are always open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from salesdash.api.envelope import error_response
from salesdash.api.state import state
from salesdash.errors import StoreUnavailable
from salesdash.tokens import allows, identify

F = TypeVar("F", bound=Callable[..., Any])
ROLE_ATTR = "_salesdash_role"
PUBLIC = "public"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="salesdash"'}
ALWAYS_PUBLIC_ENDPOINTS = ("openapi.spec", "openapi.docs", "static", "docs_assets.static")


def requires(role: str) -> Callable[[F], F]:
    """Mark a view as needing ``role`` ("viewer" or "admin")."""

    def mark(view: F) -> F:
        setattr(view, ROLE_ATTR, role)
        return view

    return mark


def public(view: F) -> F:
    """Mark a view as open even when SALESDASH_REQUIRE_AUTH is on."""
    setattr(view, ROLE_ATTR, PUBLIC)
    return view


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def needed_role() -> str | None:
    if request.endpoint in ALWAYS_PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    role = getattr(view, ROLE_ATTR, None)
    if role == PUBLIC:
        return None
    if role is not None:
        return str(role)
    return "viewer" if state().settings.require_auth else None


def check_auth() -> Any:
    """before_request hook: None to go on, or the 401/403 response."""
    if request.method == "OPTIONS":  # CORS preflight carries no credentials
        return None
    needed = needed_role()
    if needed is None:
        return None
    header = request.headers.get("Authorization")
    token = bearer_token()
    if token is None:
        message = (
            "This endpoint needs a token: send `Authorization: Bearer <token>` "
            f"(create one with `salesdash token create --role {needed}`)."
        )
        if header:
            message = "The Authorization header must be `Bearer <token>`."
        return error_response(401, "unauthorized", message, [{"header": "Authorization"}], CHALLENGE)
    try:
        identity = identify(state().engine, token)
    except SQLAlchemyError:
        raise StoreUnavailable("The database is unreachable; cannot check the token.") from None
    if identity is None:
        return error_response(
            401, "unauthorized", "Unknown or revoked token.", [{"header": "Authorization"}], CHALLENGE
        )
    role = identity.role
    g.token_id, g.role = identity.token_id, role  # the audit log records the token's id, never the token
    if not allows(role, needed):
        return error_response(
            403,
            "forbidden",
            f"This action needs the {needed} role; the token has the {role} role.",
            [{"header": "Authorization", "role": role, "needed": needed}],
        )
    return None
