"""The chunked ingest (ingest/chunked.py) gives the one-shot answer, file for file, on every engine.

Files are made to take the chunked path with a small ``chunk_rows`` (``SALESDASH_INGEST_CHUNK_ROWS``) and a
lowered columnar threshold, then loaded both ways: the same order lines, the same rollup rows and answers (compared with the order
lines' answers), the same report; a file with problems in several chunks (one-row rules, a duplicate pair across
chunks, an order whose lines in two chunks disagree) gives the same failures with the same global line numbers,
changes nothing in strict mode, and rejects the same lines (and writes the same rejects file) in skip mode.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, inspect, select

from salesdash.config import load_settings
from salesdash.errors import SalesdashError
from salesdash.generate import generate
from salesdash.ingest import chunked, fast, ingest_file
from salesdash.store import current_version, snapshot
from salesdash.store.schema import ORDER_LINE_COLUMNS, order_lines, staged_lines
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.store.test_rollups import FILTERS, _rollup_rows, assert_same_answers

CHUNK = 1_500
ROWS = 6_000

pytestmark = pytest.mark.not_on_spark("Spark loads a whole frame (no transactions): no chunked path")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("chunked")
    return {
        ext: generate(rows=ROWS, out=folder / f"gen.{ext}", seed=11, source=SAMPLE_CSV)
        for ext in ("csv", "parquet")
    }


def _mode(monkeypatch: pytest.MonkeyPatch, chunks: bool) -> None:
    monkeypatch.setattr(fast, "FAST_PATH_BYTES", 0)  # both ways take the columnar reading of the file
    monkeypatch.setattr(fast, "CSV_LINE_BYTES", 1)  # a CSV's size says "more lines than a chunk"


def _lines(engine: Engine) -> list[tuple[Any, ...]]:
    with snapshot(engine) as conn:
        rows = conn.execute(select(*(order_lines.c[c] for c in ORDER_LINE_COLUMNS))).all()
    return sorted((tuple(r) for r in rows), key=lambda r: tuple(map(str, r)))


def _load(engine: Engine, path: Path, monkeypatch: pytest.MonkeyPatch, chunks: bool, **kw: Any) -> Any:
    with monkeypatch.context() as m:
        _mode(m, chunks)
        calls: list[int] = []
        original = chunked.load_chunked

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return original(*args, **kwargs)

        m.setattr(chunked, "load_chunked", counted)
        try:
            result = ingest_file(engine, path, chunk_rows=CHUNK if chunks else 10**9, **kw)
        finally:
            assert bool(calls) == chunks, "the file should take the chunked path exactly when asked"
        return result


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_a_file_of_several_chunks_gives_the_one_shot_answers(
    fresh_engine: Engine, generated: dict[str, Path], monkeypatch: pytest.MonkeyPatch, ext: str
):
    path = generated[ext]
    one_shot = _load(fresh_engine, path, monkeypatch, chunks=False)
    lines, rollups = _lines(fresh_engine), _rollup_rows(fresh_engine)
    stored_once = current_version(fresh_engine)
    result = _load(fresh_engine, path, monkeypatch, chunks=True)
    assert result.report["rows_read"] == ROWS > 3 * CHUNK
    assert result.report == one_shot.report
    if fresh_engine.dialect.name == "duckdb":  # the load's buffer cap and row order end with it
        with fresh_engine.connect() as conn:
            kept = conn.exec_driver_sql("SELECT current_setting('preserve_insertion_order')").scalar_one()
            limit = conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar_one()
        assert kept is True and limit != "3.7 GiB"
    stored = current_version(fresh_engine)
    assert stored is not None and stored_once is not None
    assert stored.row_count == ROWS and stored.version != stored_once.version
    assert stored.report == json.loads(json.dumps(one_shot.report, default=str))
    assert _lines(fresh_engine) == lines
    assert _rollup_rows(fresh_engine) == rollups
    for name in ("default", "two-lines", "line-and-deal", "customer"):
        assert_same_answers(fresh_engine, FILTERS[name])


def _bad_file(folder: Path, source: Path) -> tuple[Path, dict[str, int]]:
    """``source`` with problems in several chunks; returns the file and the (1-based) lines of each."""
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    where: dict[str, int] = {}
    # a quantity that is not a number, in the third chunk
    body[2 * CHUNK + 10][col["QUANTITYORDERED"]] = "lots"
    where["quantity"] = 2 * CHUNK + 10 + 2
    # an order whose lines lie in two chunks, with a different customer on its line in the second one
    boundary = CHUNK
    order = body[boundary][col["ORDERNUMBER"]]
    first = next(i for i in range(len(body)) if body[i][col["ORDERNUMBER"]] == order)
    assert first < boundary, "the generated order should span the first chunk boundary"
    body[boundary][col["CUSTOMERNAME"]] = "Someone Else Ltd"
    where["customer"] = boundary + 2
    # the (ORDERNUMBER, ORDERLINENUMBER) of a line of the first chunk again in the last chunk
    copied = list(body[5])
    body[-3] = copied
    where["duplicate"] = len(body) - 3 + 2
    path = folder / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *body])
    return path, where


def test_failures_across_chunks_are_reported_with_their_lines_and_change_nothing(
    fresh_engine: Engine, generated: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    path, where = _bad_file(tmp_path, generated["csv"])
    ingest_file(fresh_engine, SMALL_CSV)
    before, before_lines = current_version(fresh_engine), _lines(fresh_engine)
    errors = []
    for chunks in (False, True):
        with pytest.raises(SalesdashError) as caught:
            _load(fresh_engine, path, monkeypatch, chunks=chunks)
        errors.append((str(caught.value), caught.value.details))
        assert current_version(fresh_engine) == before
        assert _lines(fresh_engine) == before_lines
        assert not inspect(fresh_engine).has_table(staged_lines.name)  # DuckDB's staged lines are dropped
    assert errors[1] == errors[0]
    failed = {d["line"] for d in errors[1][1]}
    assert where["quantity"] in failed and where["duplicate"] in failed and where["customer"] in failed
    assert {d["line"] for d in errors[1][1] if "differs within order" in d["problem"]} > {where["customer"]}


def test_skip_mode_rejects_the_same_lines_across_chunks(
    fresh_engine: Engine, generated: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    path, _ = _bad_file(tmp_path, generated["csv"])
    outcomes = []
    for chunks in (False, True):
        rejects = tmp_path / f"rejects-{chunks}.csv"
        result = _load(fresh_engine, path, monkeypatch, chunks=chunks, on_error="skip", rejects_path=rejects)
        outcomes.append((result.report, rejects.read_text(encoding="utf-8"), _lines(fresh_engine)))
        assert result.report["rows_rejected"] > 3
        assert_same_answers(fresh_engine, FILTERS["default"])
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_a_bad_chunk_size_setting_is_refused_with_one_message(monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv("SALESDASH_INGEST_CHUNK_ROWS", value)
    with pytest.raises(SalesdashError, match="SALESDASH_INGEST_CHUNK_ROWS"):
        load_settings()


def test_the_chunk_size_setting_reaches_the_ingest(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SALESDASH_INGEST_CHUNK_ROWS", "1500")
    assert load_settings().ingest_chunk_rows == 1500


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repeated_pairs_are_found_both_ways(seed: int):
    """The neighbour comparison (lines of each order together) and the sort find the rows pandas finds."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, size=400)
    order = np.repeat(np.arange(400, dtype=np.int64), sizes)
    line = rng.integers(1, 12, size=len(order)).astype(np.int64)
    expected = np.flatnonzero(pd.DataFrame({"o": order, "l": line}).duplicated(keep=False).to_numpy())
    assert len(expected)
    assert chunked._repeated_pairs(order, line, grouped=True).tolist() == expected.tolist()
    shuffled = rng.permutation(len(order))
    found = chunked._repeated_pairs(order[shuffled], line[shuffled], grouped=False)
    assert sorted(shuffled[found].tolist()) == expected.tolist()
