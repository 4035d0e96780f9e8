"""The cheap data-version lookup the API uses for cache keys and /api/version, on every engine."""

from sqlalchemy import Engine

from salesdash.ingest import ingest_file
from salesdash.store import (
    current_version,
    current_version_label,
    current_version_label_in,
    ensure_schema,
    snapshot,
)
from tests.conftest import SMALL_CSV


def test_label_is_none_before_the_first_load_then_follows_each_load(fresh_engine: Engine):
    ensure_schema(fresh_engine)
    assert current_version_label(fresh_engine) is None
    first = ingest_file(fresh_engine, SMALL_CSV).version.version
    assert current_version_label(fresh_engine) == first == current_version(fresh_engine).version
    second = ingest_file(fresh_engine, SMALL_CSV).version.version
    assert second != first
    with snapshot(fresh_engine) as conn:
        assert current_version_label_in(conn) == second
