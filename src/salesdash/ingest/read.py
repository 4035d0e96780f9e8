"""Reading a CSV of order lines: encoding detection and a raw all-text frame.

Every cell is read as text (no type guessing, no "NA" -> missing), so validation sees exactly what the file
says and can name the bad value.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salesdash.errors import InputFileError

CHUNK = 1 << 22


@dataclass(frozen=True)
class RawFile:
    frame: pd.DataFrame
    encoding: str
    sha256: str
    size_bytes: int


def _file_digest_and_utf8(path: Path) -> tuple[str, bool, bytes, int]:
    """One pass over the file: its sha256, whether it is valid UTF-8, its first bytes, the first NUL's offset."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    head = b""
    nul_at = -1
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk[:4096]
            digest.update(chunk)
            if nul_at < 0 and (found := chunk.find(b"\x00")) >= 0:
                nul_at = offset + found
            offset += len(chunk)
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
    return digest.hexdigest(), is_utf8, head, nul_at


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


def detect_encoding(path: Path) -> tuple[str, str]:
    """Return (encoding, sha256) for ``path``; refuse binary, compressed and UTF-16 files with a clear message."""
    digest, is_utf8, head, nul_at = _file_digest_and_utf8(path)
    if head.startswith(b"\x1f\x8b"):
        raise InputFileError(
            f"{path.name} is a gzip-compressed file, not a CSV. Decompress it first (gunzip {path.name})."
        )
    if head.startswith(b"PK\x03\x04"):
        raise InputFileError(
            f"{path.name} is a ZIP archive or an Excel workbook, not a CSV. Save or export it as CSV first."
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        len(head) > 3 and head[1:2] == b"\x00"
    ):
        raise InputFileError(
            f"{path.name} is UTF-16 text. Save it as UTF-8 (or a single-byte code page) CSV and try again."
        )
    if b"\x00" in head:
        raise InputFileError(
            f"{path.name} is a binary file (it contains NUL bytes), not a CSV of order lines."
        )
    if nul_at >= 0:
        raise InputFileError(
            f"{path.name} contains a NUL byte at byte offset {nul_at:,}: it is damaged or not a text CSV. "
            "Remove the NUL byte(s) or export the file again.",
            details=[{"problem": "nul_byte", "offset": nul_at}],
        )
    if is_utf8:
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), digest
    return _score_single_byte(path), digest


def read_csv(path: Path, encoding: str | None = None) -> RawFile:
    """Read ``path`` into an all-text DataFrame; ``encoding`` overrides detection."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"File not found: {path}")
    if not path.is_file():
        raise InputFileError(f"Not a file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path.name} is empty: expected a header row and order lines.")
    detected, digest = detect_encoding(path)
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
    fields = next(csv.reader([text]), [])
    expected = len(frame.columns)
    if 0 < len(fields) < expected:
        line = len(frame) + 1
        raise InputFileError(
            f"{path.name}: line {line} has {len(fields)} field(s), expected {expected}. "
            "The last line looks truncated (an interrupted download or copy?).",
            details=[{"line": line, "problem": "field_count", "expected": expected, "found": len(fields)}],
        )


__all__ = ["RawFile", "detect_encoding", "read_csv"]
