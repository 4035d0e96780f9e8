"""Shared fixtures.

The contract suite: every fixture named ``*_engine`` is parametrised over SQLite, DuckDB and PostgreSQL.
PostgreSQL runs against ``SALESDASH_TEST_POSTGRES_URL`` (the Makefile and .ci/run set it; each test gets a
scratch database that is dropped afterwards). When that URL is set but the server is unreachable the
tests fail; when it is not set at all, the PostgreSQL cases are skipped with that reason shown.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from salesdash.ingest import ingest_file
from salesdash.store import make_engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "data" / "raw" / "sales_data_sample.csv"
DATA = Path(__file__).resolve().parent / "data"
SMALL_CSV = DATA / "small.csv"
ENGINES = ("sqlite", "duckdb", "postgresql")
POSTGRES_ENV = "SALESDASH_TEST_POSTGRES_URL"


def _engine_params() -> list[object]:
    params: list[object] = []
    for kind in ENGINES:
        marks = []
        if kind == "postgresql":
            marks.append(pytest.mark.postgres)
            if not os.environ.get(POSTGRES_ENV):
                marks.append(pytest.mark.skip(reason=f"{POSTGRES_ENV} is not set (make test sets it)"))
        params.append(pytest.param(kind, marks=marks, id=kind))
    return params


ENGINE_PARAMS = _engine_params()


class ScratchDatabases:
    """Creates database URLs for one engine kind; PostgreSQL gets a fresh database that is dropped later."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp = tmp_path_factory
        self.pg_dbs: list[str] = []

    def url(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.tmp.mktemp('sqlite') / 'salesdash.db'}"
        if kind == "duckdb":
            return f"duckdb:///{self.tmp.mktemp('duckdb') / 'salesdash.duckdb'}"
        admin_url = os.environ[POSTGRES_ENV]
        name = f"salesdash_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.pg_dbs.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.pg_dbs:
            return
        admin = create_engine(os.environ[POSTGRES_ENV], isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.pg_dbs:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self.pg_dbs.clear()


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabases]:
    dbs = ScratchDatabases(tmp_path_factory)
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=ENGINE_PARAMS)
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(engine_kind: str, scratch: ScratchDatabases) -> str:
    """A URL of a new, empty database of each engine kind."""
    return scratch.url(engine_kind)


@pytest.fixture
def fresh_engine(db_url: str) -> Iterator[Engine]:
    """An empty store on each engine."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def small_engine(fresh_engine: Engine) -> Engine:
    """A store holding tests/data/small.csv (hand-made; answers computed by hand in the tests)."""
    ingest_file(fresh_engine, SMALL_CSV)
    return fresh_engine


@pytest.fixture(scope="session", params=ENGINE_PARAMS)
def sample_engine(request: pytest.FixtureRequest, scratch: ScratchDatabases) -> Iterator[Engine]:
    """A store holding the bundled sample, loaded once per engine per test session. Do not write to it."""
    engine = make_engine(scratch.url(str(request.param)))
    ingest_file(engine, SAMPLE_CSV)
    yield engine
    engine.dispose()
