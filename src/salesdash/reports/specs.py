"""Shared checks of what an admin sends for a schedule or an alert: filters, names, flags.

Filters are kept as API filter parameters (``{"country": ["France"], "start": "2004-01-01"}``): the form is
checked by the metric layer's ``parse_filters`` and, when data is loaded, the values against the data exactly
as the API checks a request's filters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from salesdash.errors import InvalidParameter
from salesdash.metrics import PARAMETERS, Filters, filter_options, parse_filters
from salesdash.store import current_version_label_in, snapshot

MAX_NAME = 128


def as_lists(raw: Mapping[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if value is None or value == "" or value == []:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        out[key] = [str(v) for v in values]
    return out


def filters_from(raw: Mapping[str, Any]) -> Filters:
    """Filters from stored or given filter parameters (form only)."""
    unknown = sorted(set(raw) - set(PARAMETERS))
    if unknown:
        raise InvalidParameter(
            f"Unknown filter(s) {', '.join(map(repr, unknown))}; filters are: {', '.join(PARAMETERS)}.",
            details=[{"parameter": f"filters.{k}", "message": "unknown filter"} for k in unknown],
        )
    return parse_filters(as_lists(raw))


def to_stored(filters: Filters) -> dict[str, Any]:
    """The restricting filters as API parameters (what a schedule stores and an e-mail names)."""
    return dict(filters.to_query())


def check_filters(engine: Engine, raw: Any) -> dict[str, Any]:
    """Validated filters (values matched against the data when some is loaded, as the API matches a
    request's), ready to store."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidParameter(
            'filters must be an object of filter parameters, e.g. {"country": ["France"]}.',
            details=[{"parameter": "filters", "message": "not an object"}],
        )
    filters = filters_from(raw)
    with snapshot(engine) as conn:
        if current_version_label_in(conn) is not None:
            filters = filters.checked(filter_options(conn))
    return to_stored(filters)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def check_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > MAX_NAME:
        raise InvalidParameter(
            f"name must be 1 to {MAX_NAME} characters.",
            details=[{"parameter": "name", "message": f"1 to {MAX_NAME} characters"}],
        )
    return name


def check_bool(value: Any, parameter: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidParameter(
        f"{parameter} must be true or false.", details=[{"parameter": parameter, "message": "true or false"}]
    )


def split_list(value: Any) -> list[str]:
    """A list given as a JSON list or one comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]
