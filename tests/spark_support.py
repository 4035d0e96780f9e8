"""Helpers for the Spark cases of the contract suite."""

from __future__ import annotations

from sqlalchemy import Engine

from salesdash.store.spark import SparkConnection
from salesdash.store.spark_load import ensure_base, publish


def published_database(engine: Engine) -> str:
    with engine.connect().execution_options(salesdash_version_db=True) as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, SparkConnection)
        database = raw.published()
    assert database is not None
    return database


def start_from(engine: Engine, loaded: Engine) -> None:
    """Point the empty store ``engine`` at the current version of ``loaded`` (which it never writes to)."""
    database = published_database(loaded)
    with engine.connect().execution_options(salesdash_version_db=True) as conn:
        ensure_base(conn)
        publish(conn, database)
