"""Absurd files are refused at once and in bounded memory, before any CSV parser reads them: a header line
longer than MAX_HEADER_BYTES, more than MAX_COLUMNS columns, rows of something else under a CSV header, a line
longer than MAX_LINE_BYTES, and a bare carriage return (named by its line). Memory is measured with
tracemalloc (Python and numpy/pandas allocations), never time."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from salesdash.errors import InputFileError
from salesdash.ingest import prepare
from salesdash.ingest import read as read_module
from salesdash.ingest.read import MAX_COLUMNS, MAX_HEADER_BYTES
from salesdash.ingest.validate import check_header
from tests.conftest import SMALL_CSV

HEADER = SMALL_CSV.read_bytes().split(b"\n", 1)[0]


def refused_with_peak(path: Path) -> tuple[str, int]:
    tracemalloc.start()
    try:
        with pytest.raises(InputFileError) as info:
            prepare(path)
        return info.value.message, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_header_line_without_end_is_refused_reading_only_its_limit(tmp_path: Path):
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"x" * (24 << 20))  # 24 MiB, no line break
    message, peak = refused_with_peak(path)
    assert "the first line (the header) is longer than 1 MiB" in message
    assert peak < 4 * MAX_HEADER_BYTES  # the file is 24 MiB: it was not read whole


def test_fifty_thousand_columns_are_refused_at_once(tmp_path: Path):
    path = tmp_path / "wide.csv"
    path.write_bytes(HEADER + b"," + b",".join(b"X%d" % i for i in range(50_000)) + b"\n")
    message, peak = refused_with_peak(path)
    assert f"the header has 50,025 columns; at most {MAX_COLUMNS:,} are accepted" in message
    assert peak < 4 * MAX_HEADER_BYTES


def test_garbage_rows_under_a_good_header_are_refused_without_parsing_them(tmp_path: Path):
    path = tmp_path / "garbage.csv"
    with path.open("wb") as fh:
        fh.write(HEADER + b"\n")
        fh.write(b"".join(b"zq%dx,%d,junk\n" % (i, i * 7) for i in range(1_000_000)))  # ~20 MB
    message, peak = refused_with_peak(path)
    assert "lines 2 to 101 all have another number of fields than the header (3 instead of 25)" in message
    assert peak < 4 * MAX_HEADER_BYTES


def test_a_line_longer_than_the_limit_is_refused_by_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(read_module, "MAX_LINE_BYTES", 6 << 20)  # the scan reads 4 MiB chunks
    monkeypatch.setattr(read_module, "CHUNK", 1 << 20)
    lines = SMALL_CSV.read_bytes().split(b"\n")
    path = tmp_path / "long.csv"
    path.write_bytes(b"\n".join([*lines[:3], lines[3] + b"A" * (8 << 20), *lines[4:]]))
    with pytest.raises(InputFileError) as info:
        prepare(path)
    assert "line 4 is longer than 6 MiB" in info.value.message


@pytest.mark.parametrize(
    ("tail", "line"),
    [(b"\rX\n", 10), (b"\r", 10)],
)
def test_a_bare_carriage_return_is_refused_naming_its_line(tmp_path: Path, tail: bytes, line: int):
    path = tmp_path / "cr.csv"
    path.write_bytes(SMALL_CSV.read_bytes() + tail)
    with pytest.raises(InputFileError) as info:
        prepare(path)
    assert f"line {line} holds a carriage return" in info.value.message
    assert info.value.details[0]["problem"] == "bare_carriage_return"


def test_a_bare_carriage_return_across_a_chunk_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    body = SMALL_CSV.read_bytes()
    cut = body.index(b"\n", 600)  # a line ending; the CR lands on the last byte of a chunk
    monkeypatch.setattr(read_module, "CHUNK", cut + 1)
    path = tmp_path / "cr.csv"
    path.write_bytes(body[:cut] + b"\rY" + body[cut:])
    with pytest.raises(InputFileError) as info:
        prepare(path)
    line = body[:cut].count(b"\n") + 1
    assert f"line {line} holds a carriage return" in info.value.message
    crlf = tmp_path / "crlf.csv"  # CRLF line endings across the same boundary are fine
    crlf.write_bytes(body.replace(b"\n", b"\r\n"))
    monkeypatch.setattr(read_module, "CHUNK", body.replace(b"\n", b"\r\n").index(b"\r\n", 600) + 1)
    assert len(prepare(crlf).frame) == 8


def test_the_header_check_is_linear():
    """Checking 5,000 names costs a few comparisons per name, not one per pair of names (counted, not timed:
    the list scans this replaced did ~12 million for 5,000 names)."""
    calls = 0

    class Counting(str):
        __slots__ = ()

        def __hash__(self) -> int:
            nonlocal calls
            calls += 1
            return str.__hash__(self)

        def __eq__(self, other: object) -> bool:
            nonlocal calls
            calls += 1
            return str.__eq__(self, other)

    names = [Counting(n) for n in HEADER.decode().split(",")] + [Counting(f"X{i}") for i in range(5_000)]
    frame = pd.DataFrame(columns=range(len(names)))
    frame.columns = pd.Index(names, dtype=object)
    assert isinstance(list(frame.columns)[-1], Counting)
    warnings = check_header(frame, "wide.csv")
    assert len(warnings) == 5_000
    assert calls <= 10 * len(names), calls
