"""Saved views over the API: list and open them (as every read), save one (a viewer or admin token: the token
owns it), delete one (its owner or an admin). Writes are audited. Thin handlers over
:mod:`salesdash.saved_views`, which checks the state against the filter registry and the page names."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Boolean, Integer, String
from apiflask.validators import Length
from flask import Response, g
from marshmallow import RAISE

from salesdash import saved_views
from salesdash.api import schemas as s
from salesdash.api.auth import bearer_token, requires
from salesdash.api.observe import audited
from salesdash.api.reports import answer
from salesdash.api.state import state
from salesdash.tokens import identify
from salesdash.vocabulary import PAGES

bp = APIBlueprint("saved_views", __name__, url_prefix="/api", tag="Saved views")

READ_ERRORS = {400: "Bad parameter", 401: "No or unknown token (when auth is required)", 503: "Database down"}
WRITE_ERRORS = {
    400: "Bad body: name (1-100 characters), page or state",
    401: "No or unknown token",
    403: "Not the owner's token nor an admin token",
    404: "Unknown id",
    503: "Database unavailable",
}


class SavedViewBody(s.Schema):
    class Meta:
        unknown = RAISE

    name = String(
        required=True,
        validate=Length(min=1, max=saved_views.NAME_MAX),
        metadata={"description": "What the view shows, e.g. France 2004 (1-100 characters)."},
    )
    page = String(
        load_default=saved_views.DEFAULT_PAGE,
        metadata={"description": "The dashboard page: " + ", ".join(PAGES) + " (default overview)."},
    )
    state = String(
        load_default="",
        validate=Length(max=saved_views.STATE_MAX),
        metadata={
            "description": "The dashboard's filters as its query string, e.g. `country=France&start=2004-01-01` "
            "(sidebar filters only; at most 2,000 characters). Stored in canonical form."
        },
    )


class SavedView(s.Open):
    id = Integer(required=True)
    owner_token_id = Integer(required=True, metadata={"description": "The id of the token that saved it."})
    name = String(required=True)
    page = String(required=True)
    state = String(required=True, metadata={"description": "Canonical query string of the filters."})
    link = String(required=True, metadata={"description": "Path and query relative to the dashboard's URL."})
    yours = Boolean(required=True, metadata={"description": "Saved with the token of this request."})
    created_at = String(required=True, metadata={"format": "date-time"})


def _requester() -> int | None:
    """The token id of this request, when it sent a known token (reads need none unless auth is required)."""
    if getattr(g, "token_id", None) is not None:
        return int(g.token_id)
    identity = identify(state().engine, bearer_token())
    return identity.token_id if identity else None


@bp.get("/saved-views")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(SavedView, many=True, meta=s.SimpleMeta), description="Newest first (at most 500).")
@bp.doc(summary="List saved views", responses=READ_ERRORS)
def list_saved_views(query: dict[str, Any]) -> Response:
    """Every saved view, newest first; `yours` marks the ones saved with the token of this request."""
    return answer(saved_views.all_views(state().engine, _requester()))


@bp.post("/saved-views")
@bp.input(SavedViewBody, location="json", arg_name="body")
@bp.output(s.envelope(SavedView, meta=s.SimpleMeta), status_code=201, description="The stored view.")
@bp.doc(summary="Save a view (viewer or admin token)", responses=WRITE_ERRORS, security="BearerAuth")
@requires("viewer")
@audited("saved_view.create")
def create_saved_view(body: dict[str, Any]) -> Response:
    """Name a dashboard page and its filters. The state is checked against the filters of the dashboard
    (unknown filter or a value of the wrong form: 400) and stored in canonical form; the token owns the view."""
    return answer(saved_views.create(state().engine, body, int(g.token_id)), status=201)


@bp.get("/saved-views/<int:view_id>")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(SavedView, meta=s.SimpleMeta), description="The view and its dashboard link.")
@bp.doc(summary="One saved view", responses={**READ_ERRORS, 404: "Unknown id"})
def get_saved_view(view_id: int, query: dict[str, Any]) -> Response:
    """One saved view with its `link` (page and query string) to open it in the dashboard."""
    return answer(saved_views.get(state().engine, view_id, _requester()))


@bp.delete("/saved-views/<int:view_id>")
@bp.output(s.envelope(SavedView, meta=s.SimpleMeta), description="The deleted view.")
@bp.doc(summary="Delete a saved view (its owner or an admin)", responses=WRITE_ERRORS, security="BearerAuth")
@requires("viewer")
@audited("saved_view.delete")
def delete_saved_view(view_id: int) -> Response:
    """Delete a view saved with this token; an admin token may delete any view (others: 403)."""
    return answer(saved_views.remove(state().engine, view_id, int(g.token_id), str(g.role)))


__all__ = ["bp"]
