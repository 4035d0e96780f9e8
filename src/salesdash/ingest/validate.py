"""Validation at the door: header checks, then every row rule at once (pandera, lazy), with line numbers.

A failure names the line (as a spreadsheet or text editor shows it: the header is line 1), the column, the
value found and what was expected. Nothing reaches the database unless the whole file passes.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Any

import pandas as pd
import pandera.errors as pa_errors

from salesdash.errors import InputFileError, ValidationFailed
from salesdash.ingest.schema import (
    DATE_FORMAT,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    SOURCE_COLUMNS,
    build_schema,
)

MAX_DETAILS = 1000
MAX_IN_MESSAGE = 10


def line_of(index: int) -> int:
    """Line number of a data row: the header is line 1, the first data row line 2."""
    return int(index) + 2


def check_header(raw: pd.DataFrame, name: str) -> list[str]:
    """Refuse a file without the required columns; return warnings (e.g. unknown extra columns)."""
    columns = list(raw.columns)
    if len(columns) == 1 and any(sep in columns[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in columns[0])
        raise InputFileError(
            f"{name} looks delimited by {sep!r}, not by commas. Save it as a comma-separated CSV.",
            details=[{"problem": "wrong_delimiter", "delimiter": sep}],
        )
    # pandas renames a repeated header "SALES" to "SALES.1": report the name as written in the file. Sets and
    # a Counter keep this linear in the number of columns.
    present = set(columns)
    bases = [b if (b := re.sub(r"\.\d+$", "", c)) in present else c for c in columns]
    duplicated = sorted(b for b, n in Counter(bases).items() if n > 1)
    if duplicated:
        raise InputFileError(
            f"{name} has duplicate column names: {', '.join(duplicated)}.",
            details=[{"problem": "duplicate_column", "column": c} for c in duplicated],
        )
    known = set(SOURCE_COLUMNS)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        unknown = [c for c in columns if c not in known]
        hints = []
        details: list[dict[str, Any]] = []
        squashed = {_squash(c): c for c in unknown}
        for col in missing:
            close = difflib.get_close_matches(col, list(squashed), n=1, cutoff=0.6)
            guess = [squashed[close[0]]] if close else []
            nearest = difflib.get_close_matches(col, unknown, n=1, cutoff=0.0)
            if guess:
                hints.append(f"{col} (found {guess[0]!r}; rename it to {col})")
            elif nearest:  # no near spelling: name the closest header the file does have
                hints.append(f"{col} (found {nearest[0]!r}, the closest header present)")
            else:
                hints.append(col)
            details.append(
                {"problem": "missing_column", "column": col, "similar": guess[0] if guess else None}
            )
        raise InputFileError(
            f"{name} is missing required column(s): {', '.join(hints)}. "
            f"Required columns: {', '.join(REQUIRED_COLUMNS)}.",
            details=details,
        )
    extra = [c for c in columns if c not in known]
    return [f"unknown column {c!r} ignored" for c in extra]


def _squash(column: str) -> str:
    """'Customer Name', 'customer_name' -> 'CUSTOMERNAME' (to suggest the intended column)."""
    return re.sub(r"[^A-Z0-9]", "", column.upper())


def to_typed(raw: pd.DataFrame) -> pd.DataFrame:
    """Strip text, turn empty cells into missing values, parse numbers and ORDERDATE (bad values -> missing)."""
    typed = pd.DataFrame(index=raw.index)
    for col in SOURCE_COLUMNS:
        if col not in raw:
            continue
        text = raw[col].str.strip()
        text = text.mask(text == "")
        if col in NUMERIC_COLUMNS:
            typed[col] = pd.to_numeric(text, errors="coerce").astype("float64")
        elif col == "ORDERDATE":
            typed[col] = pd.to_datetime(text, format=DATE_FORMAT, errors="coerce").astype("datetime64[ns]")
        else:
            typed[col] = text.astype(object)
    return typed


def _problem(check: str, column: str | None, raw_value: Any) -> str:
    if check == "not_nullable":
        if raw_value in (None, ""):
            return "is empty"
        if column == "ORDERDATE":
            return "is not a valid date in M/D/YYYY H:MM format"
        return "is not a number"
    if check.startswith("greater_than_or_equal_to("):
        return "must be at least " + check[len("greater_than_or_equal_to(") : -1]
    if check.startswith("less_than_or_equal_to("):
        return "must be at most " + check[len("less_than_or_equal_to(") : -1]
    if check.startswith("in_range("):
        return "is outside the supported range"
    if check == "field_uniqueness" or check.startswith("multiple_fields_uniqueness"):
        return "duplicates an earlier (ORDERNUMBER, ORDERLINENUMBER) pair"
    return check


def _clip(value: str, width: int = 80) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def _row_rule(check: str, index: int, raw: pd.DataFrame) -> tuple[str, str | None, str]:
    """(column, value, problem) of a failed row-wide rule: the column the rule is about, not every column."""
    if "uniqueness" in check:
        pair = f"{raw.at[index, 'ORDERNUMBER']}, {raw.at[index, 'ORDERLINENUMBER']}"
        return "ORDERNUMBER, ORDERLINENUMBER", pair, _problem(check, None, pair)
    column = _columns_of_check(check)
    value = str(raw.at[index, column]) if column in raw else None
    if check.endswith("disagrees with ORDERDATE"):
        return column, value, f"disagrees with ORDERDATE ({raw.at[index, 'ORDERDATE']})"
    if check.startswith("an order must have one"):
        return column, value, f"differs within order {raw.at[index, 'ORDERNUMBER']}: {check}"
    return column, value, check


def _format_failures(exc: pa_errors.SchemaErrors, raw: pd.DataFrame) -> list[dict[str, Any]]:
    cases = exc.failure_cases
    failures: list[dict[str, Any]] = []
    seen: set[tuple[int, str | None, str]] = set()
    for case in cases.itertuples(index=False):
        index = case.index
        if index is None or (isinstance(index, float) and pd.isna(index)):
            continue
        check = str(case.check)
        if case.schema_context == "DataFrameSchema":
            row_key = (int(index), "(row)", check)
            if row_key in seen:
                continue
            seen.add(row_key)
            subject, value, problem = _row_rule(check, int(index), raw)
            failures.append(
                {
                    "line": line_of(int(index)),
                    "column": subject,
                    "value": None if value is None else _clip(value),
                    "problem": problem,
                }
            )
            continue
        column = case.column if isinstance(case.column, str) and case.column in raw else None
        key = (int(index), column, check)
        if key in seen:
            continue
        seen.add(key)
        raw_value = raw.at[index, column] if column else None
        failures.append(
            {
                "line": line_of(int(index)),
                "column": column or _columns_of_check(check),
                "value": None if raw_value is None else _clip(str(raw_value)),
                "problem": _problem(check, column, raw_value),
            }
        )
    # a total order (pandera lists failures in no fixed order): by line, column, then the problem
    failures.sort(key=lambda f: (f["line"], str(f["column"]), str(f["problem"])))
    return failures


def _columns_of_check(check: str) -> str:
    """The column a rule is about: the first column named in its text ("YEAR_ID disagrees with ORDERDATE")."""
    if "uniqueness" in check:
        return "ORDERNUMBER, ORDERLINENUMBER"
    named = [(check.find(col), col) for col in SOURCE_COLUMNS if col in check]
    return min(named)[1] if named else "(row)"


def summarise(
    failures: list[dict[str, Any]], name: str, total: int | None = None, lines_failed: int | None = None
) -> str:
    """The one message of a refused file; ``total`` and ``lines_failed`` count every problem when
    ``failures`` holds the first ones only (the cluster path lists the first MAX_DETAILS lines)."""
    total = len(failures) if total is None else total
    lines = len({f["line"] for f in failures}) if lines_failed is None else lines_failed
    shown = failures[:MAX_IN_MESSAGE]
    parts = []
    for f in shown:
        value = "" if f["value"] in (None, "") else f" ({f['value']!r})"
        parts.append(f"line {f['line']}, {f['column']}{value} {f['problem']}")
    more = total - len(shown)
    tail = f"; and {more} more" if more else ""
    return (
        f"{name} was not loaded: {total} problem(s) on {lines} line(s). "
        + "; ".join(parts)
        + tail
        + ". Nothing was changed in the database."
    )


def validate(raw: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str], list[dict[str, Any]]]:
    """Return (typed frame of valid rows, warnings, failures). Strict callers refuse when failures exist."""
    warnings = check_header(raw, name)
    if raw.empty:
        raise InputFileError(f"{name} has a header but no order lines.")
    typed = to_typed(raw)
    failures: list[dict[str, Any]] = []
    try:
        build_schema().validate(typed, lazy=True)
    except pa_errors.SchemaErrors as exc:
        failures = _format_failures(exc, raw)
    return typed, warnings, failures


def raise_for_failures(
    failures: list[dict[str, Any]], name: str, total: int | None = None, lines_failed: int | None = None
) -> None:
    if failures:
        raise ValidationFailed(summarise(failures, name, total, lines_failed), details=failures[:MAX_DETAILS])
