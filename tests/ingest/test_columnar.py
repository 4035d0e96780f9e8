"""The columnar path for large files (ingest/fast.py) gives the row path's answer, file for file.

``prepare`` takes the columnar path for files of ``FAST_PATH_BYTES`` or more; here the threshold is lowered
so that small files take it too, and every file of the hostile corpus, the small file, the sample and a
generated file is prepared both ways: the same exception with the same message and details, or the same
report and the same order lines (and the same rejects file in skip mode).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from salesdash.errors import SalesdashError
from salesdash.generate import generate
from salesdash.ingest import fast, prepare
from tests.conftest import DATA, SAMPLE_CSV, SMALL_CSV

CORPUS = sorted((DATA / "bad").glob("*.csv"))


def _plain_frame(frame: pd.DataFrame) -> dict[str, list[Any]]:
    out = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object:
            values = column.astype(object).where(column.notna(), None).tolist()
        else:
            values = column.astype(object).where(column.notna(), None).tolist()
        out[name] = [v.item() if hasattr(v, "item") else v for v in values]
    return out


def _outcome(path: Path, columnar: bool, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(fast, "FAST_PATH_BYTES", 0 if columnar else 1 << 62)
        try:
            prepared = prepare(path, **kwargs)
        except SalesdashError as exc:
            return {"error": type(exc).__name__, "message": exc.message, "details": exc.details}
    return {"report": prepared.report, "frame": _plain_frame(prepared.frame), "sha256": prepared.sha256}


def _assert_same(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> dict[str, Any]:
    rows = _outcome(path, False, monkeypatch, **kwargs)
    columnar = _outcome(path, True, monkeypatch, **kwargs)
    assert columnar.keys() == rows.keys()
    for key in rows:
        assert columnar[key] == rows[key], (path.name, key)
    return rows


@pytest.mark.parametrize("path", [*CORPUS, SMALL_CSV, SAMPLE_CSV], ids=lambda p: p.name)
def test_every_file_gets_the_row_paths_answer(path: Path, monkeypatch: pytest.MonkeyPatch):
    _assert_same(path, monkeypatch)


@pytest.mark.parametrize("path", [p for p in CORPUS if p.stat().st_size > 0], ids=lambda p: p.name)
def test_skip_mode_rejects_the_same_lines(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    rejects = {}
    for columnar in (False, True):
        target = tmp_path / f"rejects-{columnar}.csv"
        _outcome(path, columnar, monkeypatch, on_error="skip", rejects_path=target)
        rejects[columnar] = target.read_text() if target.exists() else None
    assert rejects[True] == rejects[False]
    _assert_same(path, monkeypatch, on_error="skip")


def test_a_generated_file_gets_the_row_paths_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = generate(rows=5000, out=tmp_path / "gen.csv", seed=11, source=SAMPLE_CSV)
    outcome = _assert_same(path, monkeypatch)
    assert outcome["report"]["rows_loaded"] == 5000


def test_quoted_newlines_and_padded_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A value spanning two lines (parsed again with newlines allowed in values) and values with spaces
    around them (trimmed like the row path trims them)."""
    lines = SMALL_CSV.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"54, rue Royale"', '"54,\nrue Royale"')
    lines[5] = lines[5].replace(",Gamma GmbH,", ",  Gamma GmbH ,").replace(",On Hold,", ", On Hold,")
    path = tmp_path / "odd.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = _assert_same(path, monkeypatch)
    assert "54,\nrue Royale" in outcome["frame"]["address_line1"]


def test_problems_in_a_large_valid_file_are_found_with_their_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Bad values deep inside a generated file: the same failures, with the same line numbers."""
    path = generate(rows=3000, out=tmp_path / "gen.csv", seed=5, source=SAMPLE_CSV)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    lines[1500] = lines[1500].replace(",Shipped,", ",Lost,", 1)  # unknown status on line 1501
    lines[2001] = ",".join([first[0], *lines[2001].split(",")[1:]])  # order number of another order
    lines[2500] = lines[2500].replace(",0:00,", ",0:00,").replace(lines[2500].split(",")[4], "-5", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = _assert_same(path, monkeypatch)
    assert outcome["error"] == "ValidationFailed"
    found = {d["line"] for d in outcome["details"]}
    assert {1501, 2501} <= found
