"""Parquet input: the same validation, cleaning and messages as the CSV of the same lines.

Every readable file of the hostile corpus, the small file, the sample and a generated file is written to Parquet
(text columns, as read) and prepared from both, on the row path and on the columnar path: the same exception
with the same message and details, or the same order lines and the same report (except what describes the
file itself: its encoding, size and hash). Typed Parquet (numbers, timestamps, nulls, as ``generate`` and other
tools write) gives the CSV's answer too; columns of other types and damaged files get one clear message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from salesdash.errors import InputFileError, SalesdashError
from salesdash.generate import Shape, generate
from salesdash.ingest import fast, prepare, use_columnar
from salesdash.ingest.read import read_csv
from tests.conftest import DATA, SAMPLE_CSV, SMALL_CSV
from tests.ingest.test_columnar import _plain_frame

CORPUS = sorted((DATA / "bad").glob("*.csv"))


def _readable(path: Path) -> bool:
    try:
        read_csv(path)
    except SalesdashError:
        return False  # refused by the CSV reader itself (encoding, quoting, compression): a CSV-only problem
    return True


READABLE = [p for p in CORPUS if _readable(p)]
FILE_FIELDS = ("encoding", "size_bytes", "sha256", "source")  # describe the file, not its lines


def _as_parquet(csv_path: Path, out: Path) -> Path | None:
    """The CSV's cells as a Parquet file of text columns, or None when the CSV itself cannot be read."""
    try:
        raw = read_csv(csv_path).frame
    except SalesdashError:
        return None
    columns = [pa.array(raw.iloc[:, i].astype(object).tolist(), pa.string()) for i in range(raw.shape[1])]
    pq.write_table(pa.table(columns, names=[str(c) for c in raw.columns]), out)
    return out


def _outcome(path: Path, columnar: bool, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(fast, "FAST_PATH_BYTES", 0 if columnar else 1 << 62)
        try:
            prepared = prepare(path, **kwargs)
        except SalesdashError as exc:
            return {"error": type(exc).__name__, "message": exc.message, "details": exc.details}
    report = {k: v for k, v in prepared.report.items() if k not in FILE_FIELDS}
    return {"report": report, "frame": _plain_frame(prepared.frame)}


def _assert_same_as_csv(csv_path: Path, parquet: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    expected = _outcome(csv_path, False, monkeypatch)
    for columnar in (False, True):
        got = _outcome(parquet, columnar, monkeypatch, source_name=csv_path.name)
        assert got == expected, (csv_path.name, "columnar" if columnar else "rows")
    return expected


@pytest.mark.parametrize("path", [*READABLE, SMALL_CSV, SAMPLE_CSV], ids=lambda p: p.name)
def test_every_readable_file_gets_the_csv_answer(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    parquet = _as_parquet(path, tmp_path / "file.parquet")
    assert parquet is not None
    _assert_same_as_csv(path, parquet, monkeypatch)


def test_most_of_the_corpus_is_compared():
    assert len(READABLE) >= len(CORPUS) * 2 // 3, [p.name for p in READABLE]


def test_generated_parquet_with_typed_columns_gets_the_csv_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shape = Shape(customers=300, products=250, years=4)
    csv_path = generate(rows=5_000, out=tmp_path / "gen.csv", seed=5, source=SAMPLE_CSV, shape=shape)
    parquet = generate(rows=5_000, out=tmp_path / "gen.parquet", seed=5, source=SAMPLE_CSV, shape=shape)
    assert pa.types.is_integer(pq.read_schema(parquet).field("ORDERNUMBER").type)  # typed, not all text
    outcome = _assert_same_as_csv(csv_path, parquet, monkeypatch)
    assert outcome["report"]["rows_loaded"] == 5_000


def test_large_parquet_files_take_the_columnar_path_by_their_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Parquet is compressed (1M generated lines: ~10 MB, ~190 MB as CSV): its row count decides, as the size
    of the same lines as CSV."""
    parquet = generate(rows=5_000, out=tmp_path / "gen.parquet", seed=5, source=SAMPLE_CSV)
    monkeypatch.setattr(fast, "FAST_PATH_BYTES", 5_000 * fast.CSV_LINE_BYTES)
    assert use_columnar(parquet)
    monkeypatch.setattr(fast, "FAST_PATH_BYTES", 5_001 * fast.CSV_LINE_BYTES)
    assert not use_columnar(parquet)
    assert parquet.stat().st_size < 5_001 * fast.CSV_LINE_BYTES / 4


def test_timestamps_numbers_and_nulls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """ORDERDATE as a timestamp, numbers as numbers, empty cells as nulls: the CSV's answer."""
    raw = read_csv(SMALL_CSV).frame
    columns: dict[str, pa.Array] = {}
    for name in raw.columns:
        text = pa.array(raw[name].astype(object).tolist(), pa.string())
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        if name == "ORDERDATE":
            columns[name] = pc.strptime(text, format="%m/%d/%Y %H:%M", unit="s")
        elif name in ("ORDERNUMBER", "QUANTITYORDERED", "ORDERLINENUMBER"):
            columns[name] = pc.cast(text, pa.int32())
        elif name in ("SALES", "PRICEEACH"):
            columns[name] = pc.cast(text, pa.float64())
        else:
            columns[name] = text
    parquet = tmp_path / "typed.parquet"
    pq.write_table(pa.table(columns), parquet)
    _assert_same_as_csv(SMALL_CSV, parquet, monkeypatch)


def test_a_column_of_another_type_is_refused_by_name(tmp_path: Path):
    raw = read_csv(SMALL_CSV).frame
    table = pa.table({name: pa.array(raw[name].astype(object).tolist(), pa.string()) for name in raw.columns})
    table = table.set_column(
        table.column_names.index("STATUS"), "STATUS", pa.array([["Shipped"]] * table.num_rows)
    )
    path = tmp_path / "lists.parquet"
    pq.write_table(table, path)
    with pytest.raises(
        InputFileError, match=r"^Parquet column STATUS has type list<.*>: expected text"
    ) as info:
        prepare(path)
    assert info.value.details[0]["column"] == "STATUS"


def test_a_damaged_parquet_file_is_one_line_from_the_command(tmp_path: Path):
    good = generate(rows=200, out=tmp_path / "good.parquet", seed=1, source=SAMPLE_CSV)
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(good.read_bytes()[:300])  # the magic bytes, then a cut
    result = subprocess.run(
        [sys.executable, "-m", "salesdash", "ingest", str(damaged), "--quiet"],
        capture_output=True,
        text=True,
        env={"SALESDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("salesdash: error: damaged.parquet is not a readable Parquet file")


def test_the_command_loads_a_generated_parquet_file(tmp_path: Path):
    parquet = generate(rows=3_000, out=tmp_path / "gen.parquet", seed=2, source=SAMPLE_CSV)
    result = subprocess.run(
        [sys.executable, "-m", "salesdash", "ingest", str(parquet), "--quiet"],
        capture_output=True,
        text=True,
        env={"SALESDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rows loaded:   3,000" in result.stdout
    assert "encoding:      parquet" in result.stdout
