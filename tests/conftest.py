"""Shared fixtures.

The contract suite: every fixture named ``*_engine`` is parametrised over SQLite, DuckDB, PostgreSQL and Spark.
PostgreSQL runs against ``SALESDASH_TEST_POSTGRES_URL`` (the Makefile and .ci/run set it; each test gets a
scratch database that is dropped afterwards). When that URL is set but the server is unreachable the
tests fail; when it is not set at all, the PostgreSQL cases are skipped with that reason shown.

Spark runs on a real local cluster (a standalone master, two 1-core workers and a Spark Connect server from the
pyspark package, started once per session when a Spark case first needs it: ``spark_url``). Spark queries take
hundreds of milliseconds, so the Spark cases run in the contract modules (``SPARK_CONTRACT``: ingest and loads,
every metric and filter, rollups, refresh, atomicity, the reference figures) and are deselected elsewhere; a
contract test that cannot apply to Spark says why with ``@pytest.mark.not_on_spark(reason)``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from salesdash.ingest import ingest_file
from salesdash.store import make_engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "data" / "raw" / "sales_data_sample.csv"
DATA = Path(__file__).resolve().parent / "data"
SMALL_CSV = DATA / "small.csv"
ENGINES = ("sqlite", "duckdb", "postgresql", "spark")
POSTGRES_ENV = "SALESDASH_TEST_POSTGRES_URL"
SPARK_ENV = "SALESDASH_TEST_SPARK_URL"
# test modules whose engine-parametrised tests also run on Spark (paths relative to tests/)
# What `make test` runs on Spark: loads and atomicity (kill -9 included), the version label, every metric and
# filter on the hand-computed file, the reference figures and RFM (scored by the store). The rollup comparisons,
# comparisons, trends and the API refresh tests also pass on a quiet machine but take ~20 more minutes on this
# 2-core one (one Spark job is 0.5-1 s): run them with SALESDASH_SPARK_FULL=1.
SPARK_CONTRACT = (
    "store/test_load.py",
    "store/test_version_label.py",
    "store/test_spark.py",
    "metrics/test_metrics_small.py",
    "metrics/test_reference_figures.py",
    "metrics/test_rfm.py",
) + (
    (
        "store/test_rollups.py",
        "metrics/test_compare.py",
        "metrics/test_trends.py",
        "api/test_cache_auth_refresh.py",
    )
    if os.environ.get("SALESDASH_SPARK_FULL")
    else ()
)


def _engine_params() -> list[object]:
    params: list[object] = []
    for kind in ENGINES:
        marks = []
        if kind == "postgresql":
            marks.append(pytest.mark.postgres)
            if not os.environ.get(POSTGRES_ENV):
                marks.append(pytest.mark.skip(reason=f"{POSTGRES_ENV} is not set (make test sets it)"))
        if kind == "spark":
            marks += [pytest.mark.spark, pytest.mark.slow]
        params.append(pytest.param(kind, marks=marks, id=kind))
    return params


ENGINE_PARAMS = _engine_params()


class ScratchDatabases:
    """Creates database URLs for one engine kind; PostgreSQL gets a fresh database that is dropped later."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp = tmp_path_factory
        self.pg_dbs: list[str] = []
        self.spark_url: str | None = None  # set by the spark_url fixture when the cluster runs

    def url(self, kind: str) -> str:
        if kind == "spark":
            assert self.spark_url, "request the spark_url fixture first"
            # a new base database per store on the session's cluster (dropped with the cluster)
            return f"{self.spark_url}/;salesdash_database=t_{uuid.uuid4().hex[:12]}"
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


class SparkRun:
    """The session's local cluster and the session-scoped stores on it. Every Spark case runs before the other
    tests (``pytest_collection_modifyitems``), so the cluster is stopped after the last one
    (``pytest_runtest_teardown``) instead of idling, three JVMs, through the rest of the session."""

    def __init__(self) -> None:
        self.state: Any = None
        self.scratch: ScratchDatabases | None = None
        self.engines: list[Engine] = []  # disposed before the cluster stops
        self.sample_url: str | None = None  # the sample, loaded once however often its fixture is set up

    def stop(self) -> None:
        if self.state is None:
            return
        from salesdash import spark_cluster

        for engine in self.engines:
            engine.dispose()
        self.engines.clear()
        if self.scratch is not None:
            self.scratch.spark_url = None
        state, self.state = self.state, None
        spark_cluster.stop(state)


SPARK_RUN = SparkRun()


@pytest.fixture(scope="session")
def spark_url(tmp_path_factory: pytest.TempPathFactory, scratch: ScratchDatabases) -> Iterator[str]:
    """The Spark Connect URL of a local cluster (master + 2 workers + Connect server) for the session.

    SALESDASH_TEST_SPARK_URL=sc://host:port runs the Spark cases on a cluster that is already running instead."""
    from salesdash import spark_cluster

    given = os.environ.get(SPARK_ENV)
    if given:
        scratch.spark_url = given
        yield given
        scratch.spark_url = None
        return

    config = spark_cluster.ClusterConfig(
        run_dir=tmp_path_factory.mktemp("spark-cluster"), executor_memory="1g", driver_memory="1g"
    )
    SPARK_RUN.state = spark_cluster.start(config)
    SPARK_RUN.scratch = scratch
    scratch.spark_url = SPARK_RUN.state.url
    try:
        yield SPARK_RUN.state.url
    finally:
        SPARK_RUN.stop()


def _spark_ready(kind: str, request: pytest.FixtureRequest) -> None:
    if kind == "spark":
        request.getfixturevalue("spark_url")


@pytest.fixture(params=ENGINE_PARAMS)
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(engine_kind: str, scratch: ScratchDatabases, request: pytest.FixtureRequest) -> str:
    """A URL of a new, empty database of each engine kind."""
    _spark_ready(engine_kind, request)
    return scratch.url(engine_kind)


@pytest.fixture
def fresh_engine(db_url: str) -> Iterator[Engine]:
    """An empty store on each engine."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def spark_small_store(spark_url: str, scratch: ScratchDatabases) -> Iterator[Engine]:
    """small.csv loaded once on the cluster, for ``small_engine`` to start from (see there)."""
    engine = make_engine(scratch.url("spark"))
    ingest_file(engine, SMALL_CSV)
    SPARK_RUN.engines.append(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def small_engine(fresh_engine: Engine, request: pytest.FixtureRequest) -> Engine:
    """A store holding tests/data/small.csv (hand-made; answers computed by hand in the tests).

    On Spark a load takes tens of seconds, so each test's store starts from one load of small.csv made once per
    session: its pointer names that load's version database (read-only for it; its own loads create its own
    version databases, as on any store)."""
    if fresh_engine.dialect.name == "spark":
        from tests.spark_support import start_from

        start_from(fresh_engine, request.getfixturevalue("spark_small_store"))
        return fresh_engine
    ingest_file(fresh_engine, SMALL_CSV)
    return fresh_engine


@pytest.fixture(scope="session", params=ENGINE_PARAMS)
def sample_engine(request: pytest.FixtureRequest, scratch: ScratchDatabases) -> Iterator[Engine]:
    """A store holding the bundled sample, loaded once per engine per test session. Do not write to it."""
    kind = str(request.param)
    _spark_ready(kind, request)
    if kind == "spark" and SPARK_RUN.sample_url is not None:
        engine = make_engine(SPARK_RUN.sample_url)  # set up again (pytest switched params): already loaded
    else:
        url = scratch.url(kind)
        engine = make_engine(url)
        ingest_file(engine, SAMPLE_CSV)
        if kind == "spark":
            SPARK_RUN.sample_url = url
    if kind == "spark":
        SPARK_RUN.engines.append(engine)
    yield engine
    engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "not_on_spark(reason): a contract test that cannot apply to Spark")
    config.pluginmanager.register(SparkFirst(), "salesdash-spark-first")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Spark cases run in the SPARK_CONTRACT modules only; there, not_on_spark marks skip with their reason."""
    tests_dir = Path(__file__).resolve().parent
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        # params may be any object (a DataFrame's == is element-wise): only a text "spark" counts
        on_spark = callspec is not None and any(
            isinstance(v, str) and v == "spark" for v in callspec.params.values()
        )
        if not on_spark:
            kept.append(item)
            continue
        module = Path(str(item.fspath)).resolve().relative_to(tests_dir).as_posix()
        if module not in SPARK_CONTRACT:
            deselected.append(item)
            continue
        gap = item.get_closest_marker("not_on_spark")
        if gap is not None:
            item.add_marker(pytest.mark.skip(reason=f"not on Spark: {gap.args[0]}"))
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def spark_node(nodeid: str) -> bool:
    """A test of a Spark file or with a "spark" parameter (what ``spark_url`` may start the cluster for)."""
    path, _, name = nodeid.partition("::")
    params = name[name.find("[") + 1 : -1].split("-") if name.endswith("]") else []
    return "spark" in Path(path).name or "spark" in params


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` runs the suite on two pytest-xdist workers: each test file whole on one worker (its module
    fixtures, servers and browser start once), and every Spark case on the same one, so the session starts one
    cluster. (xdist's own ``--dist loadgroup`` does not group on pytest 9: it renames an attribute pytest 9 no
    longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class FileOrSpark(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "spark" if spark_node(nodeid) else nodeid.split("::")[0]

    return FileOrSpark(config, log)


class SparkFirst:
    """Runs the Spark cases before every other test (a stable sort, after pytest has ordered the items by their
    fixtures' parameters): the session's cluster then stops after the last one (pytest_runtest_teardown)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items.sort(key=lambda item: item.get_closest_marker("spark") is None)


@pytest.hookimpl(trylast=True)  # after the item's own fixtures are torn down
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if item.get_closest_marker("spark") and (nextitem is None or not nextitem.get_closest_marker("spark")):
        SPARK_RUN.stop()
