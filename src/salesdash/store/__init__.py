"""Storage: engines per URL, schema, atomic loads and data versions."""

from salesdash.store.engine import ensure_schema, explain, has_schema, make_engine, per_version, snapshot
from salesdash.store.load import (
    DataVersion,
    current_version,
    current_version_in,
    current_version_label,
    current_version_label_in,
    replace_data,
    version_history,
)

__all__ = [
    "DataVersion",
    "current_version",
    "current_version_in",
    "current_version_label",
    "current_version_label_in",
    "ensure_schema",
    "explain",
    "has_schema",
    "make_engine",
    "per_version",
    "replace_data",
    "snapshot",
    "version_history",
]
