"""Spreadsheet-safe exports: every CSV (and spreadsheet) salesdash writes goes through here.

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is run as a formula by
Excel, LibreOffice and Google Sheets ("CSV injection"). Such cells are neutralised by prefixing a single quote,
the OWASP recommendation. Numbers stay numbers (a negative number is not text and is left alone).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell: formula-like text gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """One CSV cell: None/NaN -> empty, dates ISO 8601, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return neutralise(str(value))


def to_csv(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Records as CSV text (header = ``columns``, which are neutralised too)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for record in records:
        writer.writerow([cell(record.get(c)) for c in columns])
    return buffer.getvalue()
