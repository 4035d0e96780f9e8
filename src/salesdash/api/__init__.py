"""The REST API: ``create_app(settings)`` builds a Flask (apiflask) app; nothing happens at import time.

Endpoint groups are blueprint modules listed in :data:`BLUEPRINT_MODULES`; each exposes ``bp`` (an
``apiflask.APIBlueprint``). Every group gets, for free: bearer-token auth (``salesdash.api.auth``), refusal of
unknown query parameters, the one error envelope, security headers and CORS. Data endpoints answer through
``salesdash.api.respond.data_response`` (one snapshot per request, cache, ETag, ``?format=csv``).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from apiflask import APIFlask
from sqlalchemy import Engine

from salesdash import __version__
from salesdash.config import Settings

log = logging.getLogger(__name__)

# Add a new endpoint group here (a module with a module-level ``bp``).
BLUEPRINT_MODULES: tuple[str, ...] = (
    "salesdash.api.system",
    "salesdash.api.routes",
    "salesdash.api.refresh",
    "salesdash.api.exports",
    "salesdash.api.uploads",
    "salesdash.api.versions",
    "salesdash.api.observe",
    "salesdash.api.reports",
    "salesdash.api.stream",
    "salesdash.api.saved_views",
)

DESCRIPTION = """Sales analytics over validated order lines: every number comes from one metric layer.

* Success: `{"data": ..., "meta": {"data_version", "filters", "definitions", "generated_at", ...}}`.
* Errors (every 4xx/5xx): `{"error": {"status", "code", "message", "details": [...]}}`.
* Filters on every analytics endpoint: FILTER_NAMES. Lists: repeat the parameter or comma-separate.
  No status filter = every status except Cancelled.
* `?format=csv` on tabular endpoints. Responses carry an `ETag`; send `If-None-Match` to get 304.
* Writes need `Authorization: Bearer <admin token>` (`salesdash token create --role admin`); saving a view
  needs a viewer or admin token.
"""


def create_app(settings: Settings, *, engine: Engine | None = None) -> APIFlask:
    """Build the API for ``settings``. ``engine`` lets a caller share an existing engine (tests); by
    default one is made from ``settings.database_url``."""
    from salesdash.api import auth, docs_ui, envelope, http, observe
    from salesdash.api.cache import LRUCache
    from salesdash.api.front import FrontCache
    from salesdash.api.respond import CACHE_BYTES, MAX_CACHED_BYTES
    from salesdash.api.state import EXTENSION, ApiState
    from salesdash.errors import StoreUnavailable
    from salesdash.filters import FILTERS
    from salesdash.store import ensure_schema, make_engine

    app = APIFlask(
        "salesdash",
        title="salesdash API",
        version=__version__,
        spec_path="/api/openapi.json",
        docs_path="/api/docs",
        docs_oauth2_redirect_path=None,
    )
    app.config.update(
        DEBUG=settings.debug,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        # multipart text fields are small; the file part goes to a temp file, not memory
        MAX_FORM_MEMORY_SIZE=http.MAX_FORM_FIELD_BYTES,
        MAX_FORM_PARTS=http.MAX_FORM_PARTS,
        JSON_SORT_KEYS=False,
        VALIDATION_ERROR_STATUS_CODE=400,
        VALIDATION_ERROR_DESCRIPTION="Invalid parameter",
        VALIDATION_ERROR_SCHEMA=envelope.ERROR_SCHEMA,
        HTTP_ERROR_SCHEMA=envelope.ERROR_SCHEMA,
        AUTO_404_RESPONSE=False,
        DESCRIPTION=DESCRIPTION.replace("FILTER_NAMES", ", ".join(f"`{f.param}`" for f in FILTERS)),
        SECURITY_SCHEMES={
            "BearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from `salesdash token create --role viewer|admin`.",
            }
        },
        SERVERS=None,
        AUTO_SERVERS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]

    engine = engine if engine is not None else make_engine(settings.database_url, **settings.store_options())
    try:
        ensure_schema(engine)
    except StoreUnavailable as exc:  # serve anyway: /api/health reports it, data endpoints answer 503
        log.warning("%s", exc.message)
    app.extensions[EXTENSION] = ApiState(
        settings=settings, engine=engine, cache=LRUCache(settings.cache_entries, max_bytes=CACHE_BYTES)
    )

    envelope.register(app)
    observe.setup(app, app.extensions[EXTENSION])  # request metrics + the audit log of every write
    docs_ui.setup(app)
    http.setup(app, settings)
    app.before_request(auth.check_auth)
    app.before_request(http.check_query)

    for name in BLUEPRINT_MODULES:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)

    # repeated data requests answered from their final bytes, before Flask's machinery (api/front.py)
    app.wsgi_app = FrontCache(  # type: ignore[method-assign]
        app.wsgi_app,
        app.extensions[EXTENSION],
        app.extensions[observe.EXTENSION],
        max_answer_bytes=MAX_CACHED_BYTES,
    )

    @app.spec_processor
    def _spec(spec: dict[str, Any] | str) -> dict[str, Any] | str:
        if isinstance(spec, dict):
            document_csv(spec)
            unique_tags(spec)
            link_uploads(spec)
            if settings.require_auth:
                spec["security"] = [{"BearerAuth": []}]
        return spec

    return app


UPLOAD_PATH = "/api/uploads"
CONFIRM_PATH = "/api/uploads/{upload_id}/confirm"
# A valid one-line CSV: the example of an upload (a client, or a stateful fuzzer, gets a 201 and an id from it).
UPLOAD_EXAMPLE = (
    "ORDERNUMBER,QUANTITYORDERED,PRICEEACH,ORDERLINENUMBER,SALES,ORDERDATE,STATUS,QTR_ID,MONTH_ID,YEAR_ID,"
    "PRODUCTLINE,MSRP,PRODUCTCODE,CUSTOMERNAME,PHONE,ADDRESSLINE1,ADDRESSLINE2,CITY,STATE,POSTALCODE,COUNTRY,"
    "TERRITORY,CONTACTLASTNAME,CONTACTFIRSTNAME,DEALSIZE\n"
    "9001,10,50,1,500,1/15/2005 0:00,Shipped,1,1,2005,Classic Cars,95,S10_1949,Alpha Co,2125550001,1 Main St,,"
    "NYC,NY,10022,USA,NA,Smith,Ann,Small\n"
)


def link_uploads(spec: dict[str, Any]) -> None:
    """OpenAPI links: the `upload_id` of a 201 from POST /api/uploads is the path parameter of its confirm."""
    paths = spec.get("paths", {})
    upload = paths.get(UPLOAD_PATH, {}).get("post")
    if not upload or "post" not in paths.get(CONFIRM_PATH, {}):
        return
    pointer = "#/paths/" + CONFIRM_PATH.replace("~", "~0").replace("/", "~1") + "/post"
    created = upload.get("responses", {}).get("201")
    if created is not None:
        created["links"] = {
            "ConfirmUpload": {
                "operationRef": pointer,
                "parameters": {"upload_id": "$response.body#/data/upload_id"},
                "requestBody": {"mode": "replace"},
                "description": 'Load the checked upload (`{"mode": "replace"}` or `append`).',
            }
        }
    form = upload.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if form is not None:
        form["example"] = {"file": UPLOAD_EXAMPLE}


def unique_tags(spec: dict[str, Any]) -> None:
    """One entry per tag name (several blueprints may share a tag), keeping a description when one has it."""
    merged: dict[str, dict[str, Any]] = {}
    for tag in spec.get("tags", []):
        merged.setdefault(tag["name"], {}).update({k: v for k, v in tag.items() if v})
    if merged:
        spec["tags"] = list(merged.values())


def document_csv(spec: dict[str, Any]) -> None:
    """Operations with a `format` query parameter also answer text/csv (with `?format=csv`)."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
            ok = operation.get("responses", {}).get("200")
            if "format" in names and ok and "content" in ok:
                ok["content"]["text/csv"] = {
                    "schema": {
                        "type": "string",
                        "description": "The `data` records as CSV (with ?format=csv).",
                    }
                }


__all__ = ["BLUEPRINT_MODULES", "create_app"]
