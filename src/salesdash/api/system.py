"""Index, health and version: small endpoints that say what is running and on which data."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from salesdash import __version__
from salesdash.api import schemas as s
from salesdash.api.auth import public
from salesdash.api.respond import simple_response
from salesdash.api.state import NO_DATA_MESSAGE, state
from salesdash.errors import StoreUnavailable

bp = APIBlueprint(
    "system", __name__, tag={"name": "Service", "description": "Index, health and data version."}
)

NAME = "salesdash"


def _endpoints() -> list[dict[str, Any]]:
    """Every route of the app (also the blueprints added later), with its methods and first doc line."""
    out = []
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        view = current_app.view_functions[rule.endpoint]
        doc = (view.__doc__ or "").strip().splitlines()
        methods = sorted(m for m in (rule.methods or ()) if m not in ("HEAD", "OPTIONS"))
        out.append(
            {
                "path": rule.rule,
                "url": request.host_url.rstrip("/") + rule.rule,
                "methods": methods,
                "description": doc[0] if doc else "",
            }
        )
    return out


@bp.get("/")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(
    s.envelope(s.Index, meta=s.SimpleMeta), description="What this service is and where everything is."
)
@bp.doc(summary="Index", responses=[400, 503])
@public
def index(query: dict[str, Any]) -> Response:
    """Name, version, current data version and a link to every endpoint and to the docs."""
    st = state()
    return simple_response(
        {
            "name": NAME,
            "version": __version__,
            "data_version": st.version(),
            "docs": request.host_url.rstrip("/") + "/api/docs",
            "openapi": request.host_url.rstrip("/") + "/api/openapi.json",
            "endpoints": _endpoints(),
        }
    )


bp.add_url_rule("/api", "api_index", index, methods=["GET"])


@bp.get("/api/health")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(s.envelope(s.Health, meta=s.SimpleMeta), description="The API is up and the database answers.")
@bp.doc(summary="Health check", responses=[400, 503])
@public
def health(query: dict[str, Any]) -> Response:
    """Liveness and database reachability (503 when the database does not answer)."""
    try:
        version = state().version()
    except StoreUnavailable as exc:
        raise StoreUnavailable(f"Unhealthy: {exc.message}") from None
    except SQLAlchemyError:  # pragma: no cover - state().version() converts these
        raise StoreUnavailable("Unhealthy: the database does not answer.") from None
    data = {
        "status": "ok",
        "database": "reachable",
        "data_loaded": version is not None,
        "data_version": version,
    }
    if version is None:
        data["message"] = NO_DATA_MESSAGE
    return simple_response(data)


@bp.get("/api/version")
@bp.input(s.NoQuery, location="query", arg_name="query")
@bp.output(
    s.envelope(s.VersionInfo, meta=s.SimpleMeta),
    description="The current data version (null before the first load).",
)
@bp.doc(summary="Current data version", responses=[400, 401, 403, 503])
def version(query: dict[str, Any]) -> Response:
    """The current data version: poll it to learn when the data changed (one indexed lookup)."""
    current = state().version()
    return simple_response({"data_version": current, "data_loaded": current is not None})
