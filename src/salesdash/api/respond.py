"""How every data endpoint answers: validate filters against the data, cache, ETag, JSON or CSV.

A handler passes a ``compute(conn, filters)`` function that calls the metric layer; this module runs it inside
ONE read snapshot (the data version in ``meta`` is read in that same snapshot), wraps the result in the
success envelope, caches it per (data version, endpoint, normalised parameters) and serves it with an ETag.

The ETag is a digest of the answer's content (data and meta, without the data version and the time it was
made) with the endpoint, its parameters and the format: a new data version that leaves an answer as it was
keeps its ETag, so a client's conditional GET (``If-None-Match``) is answered 304 without a body. The
dashboard's live updates rest on this (docs/dashboard.md, "Live updates").
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd
from flask import Response, g, request
from marshmallow import fields
from sqlalchemy import Connection

from salesdash.api.front import STORABLE
from salesdash.api.state import NO_DATA_MESSAGE, state
from salesdash.errors import NoData
from salesdash.export_safety import to_csv
from salesdash.filters import FILTERS, Filters
from salesdash.metrics import definitions
from salesdash.store import current_version_label_in, snapshot

_BOOLEAN = fields.Boolean()
DATA_CACHE_CONTROL = "private, no-cache"  # always revalidate; the ETag makes that a cheap 304


@dataclass
class Result:
    """What a handler's compute function returns."""

    data: Any
    meta: dict[str, Any] = field(default_factory=dict)
    columns: list[str] | None = None  # CSV column order (tabular endpoints)
    filters: Filters | None = None  # the filters actually applied, when the handler changed them
    metrics: list[str] | None = None  # whose definitions meta carries (else data_response's ``metrics``)
    definitions: dict[str, str] = field(
        default_factory=dict
    )  # more definitions (columns that are not metrics)


@dataclass(frozen=True)
class Cached:
    """A cached answer, kept as its JSON bytes only (a fraction of the memory of the Python objects)."""

    json: bytes
    columns: list[str] | None
    content: str  # digest of the answer without its data version and time (what the ETag is made from)

    def data(self) -> Any:
        return orjson.loads(self.json)["data"]


# The cache holds at most SALESDASH_CACHE_ENTRIES answers and at most CACHE_BYTES bytes of JSON in all
# (least recently used first out); an answer bigger than MAX_CACHED_BYTES is served but not cached.
CACHE_BYTES = 256 * 1024 * 1024
MAX_CACHED_BYTES = 8 * 1024 * 1024


def jsonable(value: Any) -> Any:
    """Plain JSON types: ISO dates, None for NaN/inf, Python numbers for numpy ones."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _default(value: Any) -> Any:
    """What orjson cannot write itself (pandas timestamps and NA, Decimal, other objects): ``jsonable``'s value."""
    return jsonable(value)


# orjson writes what ``jsonable`` would give for plain values, numpy numbers (NaN and inf as null), dates and
# datetimes (ISO 8601), and dict keys that are not text (as text); everything else goes through ``_default``.
_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(body: Any) -> bytes:
    """The JSON bytes of ``body`` (UTF-8, compact): the same document as ``json.dumps(jsonable(body))``."""
    return orjson.dumps(body, default=_default, option=_ORJSON_OPTIONS)


def _column(values: Any) -> list[Any]:
    """One column (a numpy or pandas extension array, or a Series) as JSON-ready values, converted by dtype at
    once (not value by value) where it can be."""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else "O"
    if kind in ("i", "u", "b"):
        return list(values.tolist())
    if kind == "f":
        array = np.asarray(values)
        if bool(np.isfinite(array).all()):
            return list(array.tolist())
        return [v if math.isfinite(v) else None for v in array.tolist()]
    if kind == "M":  # naive datetimes: a whole day as its date (as ``jsonable`` writes a Timestamp), at once
        array = np.asarray(values)
        days = array.astype("datetime64[D]")
        if bool((days == array).all()):  # NaT compares unequal: a column with one goes value by value
            return list(np.datetime_as_string(days).tolist())
    # text (the common case: kept as is), objects, extension types: value by value
    return [v if type(v) is str else jsonable(v) for v in values.tolist()]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts (NaN -> None; what ``jsonable`` gives for each value)."""
    names = [str(c) for c in frame.columns]
    # the column arrays without a Series each (pandas builds a Series in ~50 us; the array costs ~5 us)
    array_of = getattr(frame, "_get_column_array", None)
    if array_of is not None:
        columns = [_column(array_of(i)) for i in range(frame.shape[1])]
    else:  # pragma: no cover - a pandas without it
        columns = [_column(values) for _, values in frame.items()]
    return (
        [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        if names
        else [{} for _ in range(len(frame))]
    )


def request_filters(options: Mapping[str, Any]) -> Filters:
    """The filters of the current request, parsed once from the declared filters (form) and checked against
    the data (values)."""
    return Filters.parse({f.param: request.args.getlist(f.param) for f in FILTERS}).checked(options)


def wants_definitions() -> bool:
    """Whether the request asked for ``meta.definitions`` (``definitions=true``; the endpoint's query schema
    has checked the value, read here the way it reads it)."""
    value = request.args.get("definitions")
    return value is not None and bool(_BOOLEAN.deserialize(value))


VOLATILE_META = ("data_version", "generated_at")  # differ between versions of an unchanged answer


def _etag(content: str, fmt: str) -> str:
    return hashlib.sha256(f"{content}:{fmt}".encode()).hexdigest()[:32]


def _envelope(body: Mapping[str, Any], endpoint: str, key_text: str) -> tuple[bytes, str]:
    """The JSON of ``{"data", "meta"}`` (serialised once, with :func:`dumps`) and the digest of its content: the
    data and the meta without :data:`VOLATILE_META`, with the endpoint and its normalised parameters."""
    data = dumps(body["data"])
    meta = body["meta"]
    stable = dumps({k: v for k, v in meta.items() if k not in VOLATILE_META})
    text = b'{"data":' + data + b',"meta":' + dumps(meta) + b"}"
    digest = hashlib.sha256()
    for part in (endpoint.encode(), key_text.encode(), data, stable):
        digest.update(part)
        digest.update(b"\0")
    return text, digest.hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def data_response(
    endpoint: str,
    compute: Callable[[Connection, Filters], Result],
    *,
    params: Mapping[str, Any] | None = None,
    metrics: Iterable[str] = (),
    fmt: str = "json",
    filename: str | None = None,
    use_filters: bool = True,
    prepare: Callable[[Filters, Mapping[str, Any]], Filters] | None = None,
) -> Response:
    """Serve one data endpoint (see the module docstring). ``params`` = the endpoint's own normalised
    parameters besides the filters; ``prepare`` may adjust the validated filters (e.g. all statuses)."""
    st = state()
    version = st.require_version()
    options = st.filter_options(version)
    g.filter_options, g.options_version = options, version
    filters = request_filters(options) if use_filters else Filters()
    if prepare is not None:
        filters = prepare(filters, options)
    with_definitions = wants_definitions()
    key_params = {
        "filters": filters.to_params() if use_filters else None,
        **(params or {}),
        **({"definitions": True} if with_definitions else {}),
    }
    key_text = json.dumps(key_params, sort_keys=True, default=str)
    key = (version, endpoint, key_text)
    cached: Cached | None = st.cache.get(key)
    hit = cached is not None
    if cached is None:
        with snapshot(st.engine) as conn:
            seen = current_version_label_in(conn)
            if seen is None:
                raise NoData(NO_DATA_MESSAGE)
            result = compute(conn, filters)
        applied = result.filters or filters
        chosen = result.metrics if result.metrics is not None else list(metrics)
        meta: dict[str, Any] = {
            "data_version": seen,
            "filters": applied.to_params() if use_filters else {},
            "generated_at": utc_now(),
        }
        if with_definitions:
            meta["definitions"] = (
                definitions(chosen) | result.definitions if chosen else dict(result.definitions)
            )
        meta.update(result.meta)
        text, content = _envelope({"data": result.data, "meta": meta}, endpoint, key_text)
        cached = Cached(text, result.columns, content)
        if len(cached.json) <= MAX_CACHED_BYTES:
            st.cache.put((seen, endpoint, key_text), cached, len(cached.json))
        version = seen  # a refresh may have landed between the version lookup and the snapshot
    etag = _etag(cached.content, fmt)
    if request.if_none_match.contains_weak(etag):
        return _not_modified(etag, version)
    if fmt == "csv":
        response = csv_response(cached, filename or endpoint)
    else:
        response = Response(cached.json, mimetype="application/json")
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = DATA_CACHE_CONTROL
    response.headers["X-Data-Version"] = version
    response.headers["X-Cache"] = "hit" if hit else "miss"
    response.vary.add("Authorization")
    if request.url_rule is not None:  # the front cache may keep this answer's bytes (api/front.py)
        request.environ[STORABLE] = (version, request.url_rule.rule)
    return response


def _not_modified(etag: str, version: str) -> Response:
    response = Response(status=304)
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = DATA_CACHE_CONTROL
    response.headers["X-Data-Version"] = version
    response.vary.add("Authorization")
    return response


def csv_response(cached: Cached, name: str) -> Response:
    data = cached.data()
    rows = data if isinstance(data, list) else [data]
    columns = cached.columns or (list(rows[0]) if rows else [])
    text = to_csv(rows, columns)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def simple_response(data: Any, status: int = 200, **meta: Any) -> Response:
    """The envelope for non-data endpoints (index, health, version, refresh): never cached."""
    body = dumps({"data": data, "meta": {"generated_at": utc_now(), **meta}})
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
