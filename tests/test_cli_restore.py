"""`salesdash restore VERSION` and `salesdash versions` as a user runs them (real subprocess, real SQLite file)."""

from pathlib import Path

from salesdash.audit import entries
from salesdash.metrics import Filters, kpis
from salesdash.store import make_engine, snapshot, version_history
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.reference import ORDERS
from tests.test_cli import run


def test_restore_brings_back_an_earlier_load(tmp_path: Path):
    assert run(["ingest", str(SAMPLE_CSV), "--quiet"], tmp_path).returncode == 0
    assert run(["ingest", str(SMALL_CSV), "--quiet"], tmp_path).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        _small, sample = version_history(engine)
        listed = run(["versions"], tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert f"{sample.version}  " in listed.stdout and "restorable" in listed.stdout

        result = run(["restore", sample.version], tmp_path)

        assert result.returncode == 0, result.stderr
        assert f"restored data version {sample.version}: 2,823 order lines" in result.stdout
        newest = version_history(engine)[0]
        assert newest.source == f"restore:{sample.version}"
        assert f"data version:  {newest.version}" in result.stdout
        with snapshot(engine) as conn:
            assert kpis(conn, Filters())["order_count"] == ORDERS
        assert entries(engine, actions=["data.restore"])[0][0]["result"] == "ok"
    finally:
        engine.dispose()


def test_restore_of_an_unknown_or_pruned_version_is_one_line_exit_2(tmp_path: Path):
    assert run(["ingest", str(SMALL_CSV), "--quiet"], tmp_path, SALESDASH_KEEP_VERSIONS="1").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    (first,) = version_history(engine)
    engine.dispose()
    assert run(["ingest", str(SAMPLE_CSV), "--quiet"], tmp_path, SALESDASH_KEEP_VERSIONS="1").returncode == 0
    for version, why in ((first.version, "no longer kept"), ("nope", "no load has that version")):
        result = run(["restore", version], tmp_path)
        assert result.returncode == 2
        assert why in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
