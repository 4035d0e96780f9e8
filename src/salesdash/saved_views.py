"""Saved views: a name for a dashboard page and its filters, kept in the database and shared by link.

A saved view holds the page (a name of :data:`salesdash.vocabulary.PAGES`) and the filters as the dashboard's
query string (``country=France&start=2004-01-01``). The state is checked against the filter registry
(:data:`salesdash.filters.FILTERS`) before it is stored and kept in its canonical form (``Filters.to_query``),
so opening a view gives exactly the sidebar it names. Values are checked for form only (dates are dates, one
value where one is allowed), not against the data: a view outlives a data replace, and the dashboard says which
of its values the current data lacks when it is opened.

The table is not data: loads, appends and restores never touch it. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlalchemy import Engine, delete, insert, select

from salesdash.errors import Forbidden, InvalidParameter, NotFound, NotSupported
from salesdash.filters import BY_PARAM, Filters
from salesdash.store.engine import ensure_schema, writes_rows
from salesdash.store.schema import saved_views
from salesdash.vocabulary import PAGES

NAME_MAX = 100
STATE_MAX = 2000
DEFAULT_PAGE = "overview"
LIST_LIMIT = 500


def _bad(parameter: str, message: str, value: Any = None) -> InvalidParameter:
    detail: dict[str, Any] = {"parameter": parameter, "message": message}
    if value is not None:
        detail["value"] = value
    return InvalidParameter(f"{parameter}: {message}.", details=[detail])


def check_name(value: Any) -> str:
    name = " ".join(str(value).split()) if isinstance(value, str) else ""
    if not 1 <= len(name) <= NAME_MAX:
        raise _bad("name", f"a saved view needs a name of 1 to {NAME_MAX} characters")
    return name


def check_page(value: Any) -> str:
    page = DEFAULT_PAGE if value is None or value == "" else value
    if page not in PAGES:
        raise _bad("page", f"not a dashboard page; use one of {', '.join(PAGES)}", str(page)[:100])
    return str(page)


def check_state(value: Any) -> str:
    """The canonical query string of ``value`` (a dashboard query string, with or without ``?``), or
    InvalidParameter naming the first problem: too long, not a sidebar filter, or a value of the wrong form."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad("state", "must be a query string such as country=France&start=2004-01-01")
    if len(value) > STATE_MAX:
        raise _bad("state", f"is {len(value):,} characters long; at most {STATE_MAX:,} are kept")
    params = parse_qs(value.removeprefix("?"), keep_blank_values=False, strict_parsing=False)
    unknown = sorted(k for k in params if k not in BY_PARAM or not BY_PARAM[k].sidebar)
    if unknown:
        names = ", ".join(f.param for f in BY_PARAM.values() if f.sidebar)
        raise InvalidParameter(
            f"state: {', '.join(unknown)} is not a filter of the dashboard (its filters are {names}).",
            details=[{"parameter": "state", "value": k, "message": "unknown filter"} for k in unknown],
        )
    try:
        filters = Filters.parse(params)
    except InvalidParameter as err:
        raise InvalidParameter(
            f"state: {err.message}", details=[{**d, "parameter": "state"} for d in err.details]
        ) from None
    return urlencode(list(filters.to_query().items()), doseq=True)


def link(page: str, state: str) -> str:
    """The dashboard path of a view (relative to the dashboard's address)."""
    return ("" if page == DEFAULT_PAGE else page) + (f"?{state}" if state else "")


def _public(row: Any, token_id: int | None) -> dict[str, Any]:
    out = dict(row)
    out["link"] = link(out["page"], out["state"])
    out["yours"] = token_id is not None and out["owner_token_id"] == token_id
    return out


def _check_store(engine: Engine) -> None:
    if not writes_rows(engine):
        raise NotSupported(
            "Saved views need a store that writes single rows (SQLite, DuckDB or PostgreSQL); the Spark store "
            "writes whole tables only. Share the dashboard's address instead: it holds the page and the filters.",
            details=[{"problem": "saved_views_not_supported", "engine": engine.dialect.name}],
        )


def create(
    engine: Engine, body: Mapping[str, Any], owner_token_id: int, *, clock: datetime | None = None
) -> dict[str, Any]:
    """Store a view (``name``, ``page``, ``state``) owned by the token ``owner_token_id``; returns it."""
    _check_store(engine)
    ensure_schema(engine)
    values = {
        "owner_token_id": owner_token_id,
        "name": check_name(body.get("name")),
        "page": check_page(body.get("page")),
        "state": check_state(body.get("state")),
        "created_at": (clock or datetime.now(UTC)).replace(tzinfo=None, microsecond=0),
    }
    with engine.begin() as conn:
        result = conn.execute(insert(saved_views).values(**values))
        new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    return get(engine, new_id, owner_token_id)


def get(engine: Engine, view_id: int, token_id: int | None = None) -> dict[str, Any]:
    ensure_schema(engine)
    with engine.connect() as conn:
        row = conn.execute(select(saved_views).where(saved_views.c.id == view_id)).mappings().first()
    if row is None:
        raise NotFound(
            f"No saved view with id {view_id}; GET /api/saved-views lists them.",
            details=[{"parameter": "id", "value": view_id, "message": "unknown saved view"}],
        )
    return _public(row, token_id)


def all_views(engine: Engine, token_id: int | None = None) -> list[dict[str, Any]]:
    """Every saved view, newest first (at most LIST_LIMIT); ``yours`` marks those of ``token_id``."""
    ensure_schema(engine)
    v = saved_views
    with engine.connect() as conn:
        rows = conn.execute(select(v).order_by(v.c.id.desc()).limit(LIST_LIMIT)).mappings().all()
    return [_public(row, token_id) for row in rows]


def remove(engine: Engine, view_id: int, token_id: int, role: str) -> dict[str, Any]:
    """Delete a view: its owner or an admin may; anyone else gets Forbidden. Returns what was deleted."""
    _check_store(engine)
    current = get(engine, view_id, token_id)
    if not current["yours"] and role != "admin":
        raise Forbidden(
            f"Saved view {view_id} belongs to another token; only its owner or an admin may delete it.",
            details=[{"parameter": "id", "value": view_id, "message": "not the owner"}],
        )
    with engine.begin() as conn:
        conn.execute(delete(saved_views).where(saved_views.c.id == view_id))
    return current
