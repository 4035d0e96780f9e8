"""Reading a CSV of order lines: encoding detection and a raw all-text frame.

Every cell is read as text (no type guessing, no "NA" -> missing), so validation sees exactly what the file
says and can name the bad value.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesdash.errors import InputFileError

CHUNK = 1 << 22
# Limits that refuse an absurd file at once, in bounded memory, before any CSV parser reads it
# (docs/reliability.md "Hostile files"): the header is read from at most MAX_HEADER_BYTES, and the file
# scan refuses any line longer than MAX_LINE_BYTES.
MAX_COLUMNS = 1_000
MAX_HEADER_BYTES = 1 << 20
MAX_LINE_BYTES = 64 << 20
SAMPLE_LINES = 100  # data lines looked at before the parse: all of them with the wrong field count is refused
BARE_CR = re.compile(rb"\r(?!\n)")  # a carriage return that does not start a CRLF line ending


@dataclass(frozen=True)
class RawFile:
    frame: pd.DataFrame
    encoding: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class _Scan:
    sha256: str
    is_utf8: bool
    head: bytes
    nul_at: int  # byte offset of the first NUL, -1 for none
    bare_cr_at: int  # byte offset of the first bare CR (a CR not followed by LF), -1 for none
    bare_cr_line: int  # its line (1 = the header), 0 for none
    long_line: int  # the first line longer than MAX_LINE_BYTES (1 = the header), 0 for none


def _file_digest_and_utf8(path: Path, on_bytes: Callable[[int], None] | None = None) -> _Scan:
    """One pass over the file: its sha256, whether it is valid UTF-8, its first bytes, the first NUL's offset
    and the first bare carriage return (offset and line)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    head = b""
    nul_at = -1
    cr_at, cr_line, lines_before = -1, 0, 0
    offset = 0
    pending_cr = False  # the previous chunk ended with a CR: bare unless this one starts with LF
    newlines, run, long_line = (
        0,
        0,
        0,
    )  # run: bytes since the last LF (a line is longer than a chunk only here)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if not long_line:
                first_lf = chunk.find(b"\n")
                if run + (len(chunk) if first_lf < 0 else first_lf) > MAX_LINE_BYTES:
                    long_line = newlines + 1
                elif first_lf < 0:
                    run += len(chunk)
                else:
                    newlines += chunk.count(b"\n")
                    run = len(chunk) - chunk.rfind(b"\n") - 1
            if not head:
                head = chunk[:4096]
            digest.update(chunk)
            if nul_at < 0 and (found := chunk.find(b"\x00")) >= 0:
                nul_at = offset + found
            if cr_at < 0:
                if pending_cr and not chunk.startswith(b"\n"):
                    cr_at, cr_line = offset - 1, lines_before + 1
                elif (bare := BARE_CR.search(chunk, 0, len(chunk) - chunk.endswith(b"\r"))) is not None:
                    cr_at = offset + bare.start()
                    cr_line = lines_before + chunk.count(b"\n", 0, bare.start()) + 1
                else:
                    lines_before += chunk.count(b"\n")
                    pending_cr = chunk.endswith(b"\r")
            offset += len(chunk)
            if on_bytes is not None:
                on_bytes(offset)
            if is_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if cr_at < 0 and pending_cr:  # the file ends with a CR
        cr_at, cr_line = offset - 1, lines_before + 1
    return _Scan(digest.hexdigest(), is_utf8, head, nul_at, cr_at, cr_line, long_line)


def _score_single_byte(path: Path) -> str:
    """Pick the single-byte code page under which the non-ASCII bytes read as letters.

    The bundled Kaggle file holds code page 437 bytes (0x84 ä, 0xA1 í, 0xA4 ñ). Under cp1252 those bytes are
    punctuation („ ¡ ¤); under cp437 they are letters. Ties go to cp1252, the common Windows code page.
    """
    high = bytearray()
    with path.open("rb") as fh:
        while (chunk := fh.read(CHUNK)) and len(high) < 1 << 20:
            high.extend(b for b in chunk if b >= 0x80)
    best, best_score = "cp1252", -1
    for enc in ("cp1252", "cp437"):
        text = bytes(high).decode(enc, errors="replace")
        score = sum(ch.isalpha() for ch in text)
        if score > best_score:
            best, best_score = enc, score
    return best


def detect_encoding(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str, str]:
    """Return (encoding, sha256) for ``path``; refuse binary, compressed and UTF-16 files, and stray carriage
    returns, with a clear message. ``on_bytes`` hears how many bytes have been read so far (progress)."""
    scan = _file_digest_and_utf8(path, on_bytes)
    digest, is_utf8, head, nul_at = scan.sha256, scan.is_utf8, scan.head, scan.nul_at
    _magic_checks(path.name, head)
    if nul_at >= 0:
        raise InputFileError(
            f"{path.name} contains a NUL byte at byte offset {nul_at:,}: it is damaged or not a text CSV. "
            "Remove the NUL byte(s) or export the file again.",
            details=[{"problem": "nul_byte", "offset": nul_at}],
        )
    if scan.long_line:
        raise InputFileError(
            f"{path.name}: line {scan.long_line:,} is longer than {MAX_LINE_BYTES >> 20} MiB: not a CSV of order "
            "lines (a line break missing, or a different file).",
            details=[{"line": scan.long_line, "problem": "line_too_long", "limit_bytes": MAX_LINE_BYTES}],
        )
    if scan.bare_cr_at >= 0:
        # The CSV readers split lines on a lone CR too, so one would silently cut a row in two.
        raise InputFileError(
            f"{path.name}: line {scan.bare_cr_line:,} holds a carriage return (CR, \\r) that is not part of a "
            f"line ending (byte offset {scan.bare_cr_at:,}). Remove it, or save the file with LF or CRLF line "
            "endings, and try again.",
            details=[
                {"line": scan.bare_cr_line, "problem": "bare_carriage_return", "offset": scan.bare_cr_at}
            ],
        )
    if is_utf8:
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), digest
    return _score_single_byte(path), digest


def _magic_checks(name: str, head: bytes) -> None:
    if head.startswith(b"\x1f\x8b"):
        raise InputFileError(
            f"{name} is a gzip-compressed file, not a CSV. Decompress it first (gunzip {name})."
        )
    if head.startswith(b"PK\x03\x04"):
        raise InputFileError(
            f"{name} is a ZIP archive or an Excel workbook, not a CSV. Save or export it as CSV first."
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        len(head) > 3 and head[1:2] == b"\x00"
    ):
        raise InputFileError(
            f"{name} is UTF-16 text. Save it as UTF-8 (or a single-byte code page) CSV and try again."
        )
    if b"\x00" in head:
        raise InputFileError(f"{name} is a binary file (it contains NUL bytes), not a CSV of order lines.")


def check_column_count(name: str, columns: int) -> None:
    """Refuse a header of more than MAX_COLUMNS columns at once (a CSV of order lines has 25)."""
    if columns > MAX_COLUMNS:
        raise InputFileError(
            f"{name}: the header has {columns:,} columns; at most {MAX_COLUMNS:,} are accepted "
            "(a CSV of order lines has 25).",
            details=[{"line": 1, "problem": "too_many_columns", "found": columns, "limit": MAX_COLUMNS}],
        )


def header_line(path: Path) -> list[str] | None:
    """The header's column names from the file's first line, read in bounded memory (at most
    MAX_HEADER_BYTES), refusing a binary file, a header line longer than that, or more than MAX_COLUMNS
    columns, at once. None when the first line alone cannot tell (empty, or a quoted name runs on)."""
    path = Path(path)
    with path.open("rb") as fh:
        start = fh.read(MAX_HEADER_BYTES + 1)
    _magic_checks(path.name, start[:4096])
    end = start.find(b"\n")
    if end < 0 and len(start) > MAX_HEADER_BYTES:
        raise InputFileError(
            f"{path.name}: the first line (the header) is longer than {MAX_HEADER_BYTES >> 20} MiB: not a CSV of "
            "order lines (a line break missing, or a different file).",
            details=[{"line": 1, "problem": "header_too_long", "limit_bytes": MAX_HEADER_BYTES}],
        )
    line = start if end < 0 else start[:end]
    line = line.removeprefix(codecs.BOM_UTF8).rstrip(b"\r")
    columns = line.count(b",") + 1
    if line.count(b'"') == 0:  # no quotes: every comma separates two names
        check_column_count(path.name, columns)
    if not line.strip() or line.count(b'"') % 2:
        return None
    try:
        names = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
    except csv.Error:
        return None
    check_column_count(path.name, len(names))
    _check_sample(path.name, start[end + 1 :] if end >= 0 else b"", len(names), len(start) > MAX_HEADER_BYTES)
    return [n.strip() for n in names]


def _check_sample(name: str, body: bytes, expected: int, cut: bool) -> None:
    """Refuse at once a file whose first SAMPLE_LINES data lines *all* have another field count than the
    header (rows of something else under a CSV header), before a parser reads millions of them. One odd line
    among good ones is left to the row rules, which name it (and ``--on-error skip`` can set it aside)."""
    lines = body.split(b"\n", SAMPLE_LINES)  # the first SAMPLE_LINES lines, then the rest in one piece
    if len(lines) > SAMPLE_LINES:
        lines = lines[:SAMPLE_LINES]
    elif cut:
        lines = lines[:-1]  # whole lines only: the last one of a cut read may be partial
    lines = [line.rstrip(b"\r") for line in lines if line.strip()]
    if len(lines) < SAMPLE_LINES or any(b'"' in line for line in lines):
        return  # a small file, or quoted values (which may hold commas or run on): the parser judges it
    counts = {line.count(b",") + 1 for line in lines}
    if expected not in counts:
        found = ", ".join(str(c) for c in sorted(counts)[:5])
        raise InputFileError(
            f"{name}: lines 2 to {SAMPLE_LINES + 1} all have another number of fields than the header "
            f"({found} instead of {expected}): this is not a CSV of order lines under that header.",
            details=[{"line": 2, "problem": "field_count", "expected": expected, "found": min(counts)}],
        )


def byte_progress(progress: Callable[[str, int, int], None], size: int) -> Callable[[int], None]:
    """``on_bytes`` for a read of ``size`` bytes that reports the "read" stage in bytes, at each tenth."""
    shown = [0]

    def on_bytes(done: int) -> None:
        step = min(10, done * 10 // size) if size else 10
        if step > shown[0]:
            shown[0] = step
            progress("read", min(done, size), size)

    progress("read", 0, size)
    return on_bytes


def check_path(path: Path) -> None:
    """InputFileError unless ``path`` is an existing file (checked before any progress is shown)."""
    if not path.exists():
        raise InputFileError(f"File not found: {path}")
    if not path.is_file():
        raise InputFileError(f"Not a file: {path}")


def read_csv(
    path: Path, encoding: str | None = None, on_bytes: Callable[[int], None] | None = None
) -> RawFile:
    """Read ``path`` into an all-text DataFrame; ``encoding`` overrides detection; ``on_bytes`` hears the
    bytes read so far (progress of the read)."""
    path = Path(path)
    check_path(path)
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path.name} is empty: expected a header row and order lines.")
    detected, digest = detect_encoding(path, on_bytes)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(f"Unknown encoding {encoding!r}.") from None
    used = encoding or detected
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            encoding=used,
            keep_default_na=False,
            na_values=[],
            skipinitialspace=False,
            engine="c",
            on_bad_lines="error",
        )
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path.name} cannot be decoded as {used} (byte {exc.start}); pass --encoding with the file's encoding."
        ) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path.name} has no header row: expected a CSV of order lines.") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise _parse_error(path.name, str(exc)) from None
    except OverflowError as exc:
        raise InputFileError(f"{path.name} could not be parsed: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_last_line(path, used, frame, size)
    return RawFile(frame=frame, encoding=used, sha256=digest, size_bytes=size)


def _parse_error(name: str, text: str) -> InputFileError:
    """Turn the CSV tokenizer's error into a message that names the line and the likely cause."""
    if m := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text):
        expected, line, saw = (int(g) for g in m.groups())
        return InputFileError(
            f"{name}: line {line} has {saw} field(s), expected {expected}. Check that line for an unquoted "
            "comma or an unbalanced quote (a quoted field that runs on into the next lines).",
            details=[{"line": line, "problem": "field_count", "expected": expected, "found": saw}],
        )
    if m := re.search(r"EOF inside string starting at row (\d+)", text):
        line = int(m.group(1)) + 1
        return InputFileError(
            f"{name}: line {line} opens a quoted field that is never closed (unbalanced quote); "
            "the file ends inside it.",
            details=[{"line": line, "problem": "unbalanced_quote"}],
        )
    detail = text.strip().removeprefix("Error tokenizing data. C error: ")
    return InputFileError(
        f"{name} is not a well-formed CSV: {detail}. "
        "Check for unbalanced quotes, a truncated last line or a different delimiter."
    )


def _check_last_line(path: Path, encoding: str, frame: pd.DataFrame, size: int) -> None:
    """Refuse a file whose last line has fewer fields than the header (a download or copy cut short).

    The CSV parser pads short rows with empty cells, so they would otherwise pass as rows with blanks.
    Only the last line is checked (reading its tail costs nothing at any size); a short row elsewhere
    leaves its last required column(s) empty, which the row rules report with its line number.
    """
    if frame.empty:
        return
    tail_size = 1 << 16
    with path.open("rb") as fh:
        fh.seek(max(0, size - tail_size))
        tail = fh.read()
    parts = tail.rstrip(b"\r\n").rsplit(b"\n", 1)
    if len(parts) == 1 and size > tail_size:
        return  # one line longer than the tail: leave it to the row rules
    text = parts[-1].decode(encoding, errors="replace").rstrip("\r")
    if text.count('"') % 2:
        return  # the end of a multi-line quoted field: the parser has judged it already
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error:
        return  # a line the csv module will not split (an over-long field): the parser has judged it already
    expected = len(frame.columns)
    if 0 < len(fields) < expected:
        line = len(frame) + 1
        raise InputFileError(
            f"{path.name}: line {line} has {len(fields)} field(s), expected {expected}. "
            "The last line looks truncated (an interrupted download or copy?).",
            details=[{"line": line, "problem": "field_count", "expected": expected, "found": len(fields)}],
        )


__all__ = ["MAX_COLUMNS", "RawFile", "detect_encoding", "header_line", "read_csv"]
