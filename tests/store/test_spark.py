"""Spark specifics: the dialect binds every value; a load killed mid-way leaves the previous version served and
its leftovers are removed by the next load; the CLI's local cluster commands."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from salesdash.api.respond import jsonable
from salesdash.cli import main
from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, kpis
from salesdash.metrics.queries import _kpis_statement
from salesdash.store import current_version, current_version_label, make_engine, snapshot
from salesdash.store.lock import write_lock
from salesdash.store.schema import order_lines
from salesdash.store.spark import SparkDialect, split_url
from salesdash.store.spark_load import version_databases
from salesdash.store.watch import VersionWatch
from salesdash.views import CATALOG, compute_view
from tests.conftest import ROOT, SAMPLE_CSV, SMALL_CSV, ScratchDatabases
from tests.spark_support import published_database


def test_values_are_bound_never_written_into_the_sql():
    hostile = "x' OR 1=1 --"
    filters = Filters(countries=(hostile, "France"), start=date(2004, 1, 1), customers=("O'Brien `Ltd`",))
    compiled = _kpis_statement(None, filters).compile(dialect=SparkDialect())
    text = str(compiled)
    assert hostile not in text and "O'Brien" not in text and "France" not in text
    assert "`order_lines`.`customer_name` IN" in text and "`order_lines`.`country` IN" in text
    assert compiled.params["customer_name_1"] == ["O'Brien `Ltd`"]
    codes = Filters(territories=(hostile,), product_codes=("S10_1678", "O'Brien"), customers=("A, B Co", "C"))
    text = str(_kpis_statement(None, codes).compile(dialect=SparkDialect()))
    assert hostile not in text and "O'Brien" not in text and "A, B Co" not in text
    assert "`order_lines`.`product_code` IN" in text and "`order_lines`.`territory` IN" in text
    dialect = SparkDialect()
    for limit in (5, 50):  # a count is filled in per execution, never cached with the statement
        stmt = select(order_lines.c.order_number).limit(limit).offset(10)
        rendered = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert f"LIMIT {limit} OFFSET 10" in str(rendered)


def test_the_url_may_name_the_database():
    assert split_url("sc://h:15002") == ("sc://h:15002", None)
    assert split_url("sc://h:1/;token=t;salesdash_database=abc") == ("sc://h:1/;token=t", "abc")
    with pytest.raises(ValueError):
        split_url("sc://h:1/;salesdash_database=a-b")


def test_spark_status_without_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["spark", "status", "--run-dir", str(tmp_path)]) == 1
    assert "no local Spark cluster" in capsys.readouterr().out
    assert main(["spark", "stop", "--run-dir", str(tmp_path)]) == 0


ON_SPARK = pytest.mark.parametrize(
    "engine_kind",
    [pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow], id="spark")],
    indirect=True,
)


@ON_SPARK
def test_a_killed_load_leaves_the_previous_version_served(db_url: str, fresh_engine: Engine):
    spark_engine = fresh_engine
    ingest_file(spark_engine, SMALL_CSV)
    before_version = current_version(spark_engine)
    with snapshot(spark_engine) as conn:
        before = kpis(conn, Filters())
    published = published_database(spark_engine)
    env = os.environ | {"SALESDASH_DATABASE_URL": db_url, "SALESDASH_LOG_LEVEL": "ERROR"}
    process = subprocess.Popen(
        [sys.executable, "-m", "salesdash", "ingest", str(SAMPLE_CSV)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + 600
    for line in process.stderr:  # progress lines; kill once the rollups are being built in the new version
        seen.append(line)
        if line.strip().startswith("rollups:") or time.monotonic() > deadline:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert any(line.strip().startswith("rollups:") for line in seen), seen
    assert process.returncode == -signal.SIGKILL
    with spark_engine.connect() as conn:
        leftovers = set(version_databases(conn).values())
    assert len(leftovers) == 2  # the served version and the killed load's half-written one
    assert published_database(spark_engine) == published
    assert current_version(spark_engine) == before_version
    with snapshot(spark_engine) as conn:
        assert kpis(conn, Filters()) == before
    ingest_file(spark_engine, SAMPLE_CSV)  # the next load removes the leftovers and switches
    with snapshot(spark_engine) as conn:
        assert kpis(conn, Filters())["order_count"] == 303
    with spark_engine.connect() as conn:
        remaining = set(version_databases(conn).values())
    assert remaining == {published, published_database(spark_engine)}


@ON_SPARK
def test_saved_views_are_refused_with_one_clear_message(fresh_engine: Engine):
    """Spark writes whole tables: saving or deleting a view is a 501 naming the stores that can, never a 500."""
    from salesdash import saved_views
    from salesdash.errors import NotSupported

    with pytest.raises(NotSupported) as refused:
        saved_views.create(fresh_engine, {"name": "EMEA", "page": "overview", "state": ""}, owner_token_id=1)
    assert refused.value.http_status == 501 and "SQLite, DuckDB or PostgreSQL" in refused.value.message
    with pytest.raises(NotSupported):
        saved_views.remove(fresh_engine, 1, token_id=1, role="admin")
    assert saved_views.all_views(fresh_engine, token_id=1) == []


# -- every registered view on the cluster ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_pair(
    spark_url: str, scratch: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Engine]]:
    """The bundled sample loaded into a Spark store and, for the answers to compare with, into SQLite."""
    spark = make_engine(scratch.url("spark"))
    sqlite = make_engine(f"sqlite:///{tmp_path_factory.mktemp('views') / 'salesdash.db'}")
    for engine in (spark, sqlite):
        ingest_file(engine, SAMPLE_CSV)
    yield spark, sqlite
    for engine in (spark, sqlite):
        engine.dispose()


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal JSON values; floats (ratios, shares, forecasts) to 1e-9 relative."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (where, a, b)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (where, a, b)
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


def _answer(engine: Engine, name: str, filters: Filters) -> dict[str, Any]:
    with snapshot(engine) as conn:
        view = compute_view(conn, filters, name)
    return jsonable({"data": view.data, "records": view.records(), "meta": view.meta, "notes": view.notes})


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("name", [v.name for v in CATALOG])
def test_every_registered_view_answers_on_spark_as_on_sqlite(name: str, sample_pair: tuple[Engine, Engine]):
    """Every view of the registry (top movers and the list-price gap included), unfiltered and filtered, gives
    on the cluster what SQLite gives for the same file."""
    spark, sqlite = sample_pair
    for filters in (Filters(), Filters(countries=("France", "USA"), product_lines=("Classic Cars",))):
        on_spark = _answer(spark, name, filters)
        assert on_spark["records"] or on_spark["data"], name  # the sample has data for every view
        _same(on_spark, _answer(sqlite, name, filters), name)


@ON_SPARK
def test_the_version_watch_asks_the_cluster_only_after_a_write_here_or_when_its_answer_is_old(
    small_engine: Engine,
):
    """On Spark each lookup is a round trip: the watch answers from its last lookup until this process finishes a
    write (an API refresh is seen by the next request) or the lookup is older than its recheck time."""
    lookups: list[object] = []
    event.listen(small_engine, "engine_connect", lambda conn: lookups.append(conn))
    expected = current_version_label(small_engine)
    assert expected is not None
    patient = VersionWatch(small_engine, recheck_seconds=3600)
    assert patient.label() == expected
    asked = len(lookups)
    assert [patient.label() for _ in range(5)] == [expected] * 5
    assert len(lookups) == asked  # answered from the last lookup
    with write_lock(small_engine, "test"):
        pass  # a write of this process ended (a load, a restore): the next call asks again
    assert patient.label() == expected and len(lookups) == asked + 1
    eager = VersionWatch(small_engine, recheck_seconds=0)
    assert [eager.label(), eager.label()] == [expected] * 2
    assert len(lookups) == asked + 3  # an answer older than the recheck time is looked up again
