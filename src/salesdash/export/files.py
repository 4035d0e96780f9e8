"""CSV and Excel files of a view. Every text cell goes through :mod:`salesdash.export_safety` (formula-like
text is neutralised); numbers stay numbers and dates stay dates.

The CSV is for machines: its header holds the API's field names (``average_order_value``). The Excel workbook
is for people: its headers are the vocabulary's labels ("Average order value"), its cells carry the number
formats of :mod:`salesdash.charts.format` (money with two decimals, shares with one), and its About sheet maps
each label to the field name."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from salesdash import __version__
from salesdash.export_safety import neutralise, to_csv
from salesdash.filters import Filters
from salesdash.metrics import definitions
from salesdash.views import ViewData
from salesdash.vocabulary import label, territory_name, unit


@dataclass(frozen=True)
class ExportContext:
    """What every export file says about itself: the data version, when, and which filters."""

    data_version: str
    generated_at: str  # ISO 8601
    filters: Filters


def describe_filters(filters: Filters) -> list[tuple[str, str]]:
    """The filters in words, one (label, words) pair per declared filter, for the About sheet and the PDF."""
    return filters.describe()


def view_definitions(view: ViewData) -> dict[str, str]:
    return definitions(view.metrics) | view.definitions


def to_csv_bytes(view: ViewData) -> bytes:
    """The view's table as UTF-8 CSV (the same cell rules as the API's ``?format=csv``)."""
    return to_csv(view.records(), [str(c) for c in view.frame.columns]).encode("utf-8")


def _sheet_name(text: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", text).strip()[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


class _Writer:
    def __init__(self, buffer: io.BytesIO) -> None:
        # Text is written as text, never as a formula, URL or number (and formula-like text is neutralised).
        self.book = xlsxwriter.Workbook(
            buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        self.taken: set[str] = set()
        b = self.book
        self.header = b.add_format({"bold": True, "bg_color": "#E8EEF6", "bottom": 1, "text_wrap": True})
        self.bold = b.add_format({"bold": True})
        self.title = b.add_format({"bold": True, "font_size": 14})
        self.wrap = b.add_format({"text_wrap": True, "valign": "top"})
        self.money = b.add_format({"num_format": "#,##0.00"})
        self.ratio = b.add_format({"num_format": "0.0%"})  # one decimal, as every share people read
        self.count = b.add_format({"num_format": "#,##0"})
        self.date = b.add_format({"num_format": "yyyy-mm-dd"})

    def cell(self, sheet: Any, row: int, col: int, value: Any, column: str = "") -> None:
        if value is None or value is pd.NaT:
            sheet.write_blank(row, col, None)
            return
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                sheet.write_blank(row, col, None)
            elif unit(column) == "ratio":
                sheet.write_number(row, col, value, self.ratio)
            elif unit(column) == "currency" or isinstance(value, float):
                sheet.write_number(row, col, value, self.money)
            elif unit(column) == "count":
                sheet.write_number(row, col, value, self.count)
            else:  # years, months, ranks, order numbers: no thousands separator
                sheet.write_number(row, col, value)
        elif isinstance(value, datetime | date | pd.Timestamp):
            moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
            sheet.write_datetime(row, col, moment, self.date)
        else:
            text = territory_name(str(value)) if column == "territory" else str(value)  # "North America"
            sheet.write_string(row, col, neutralise(text or ""))

    def table(self, title: str, frame: pd.DataFrame) -> None:
        sheet = self.book.add_worksheet(_sheet_name(title, self.taken))
        columns = [str(c) for c in frame.columns]
        for col, name in enumerate(columns):
            sheet.write_string(0, col, neutralise(label(name)), self.header)
        values = frame.astype(object).where(frame.notna(), None).to_numpy()
        for r, row in enumerate(values, start=1):
            for col, value in enumerate(row):
                self.cell(sheet, r, col, value, columns[col])
        for col, name in enumerate(columns):
            sample = [len(str(v)) for v in values[:200, col]] if len(values) else []
            sheet.set_column(col, col, min(max([len(label(name)) + 2, *[n + 2 for n in sample]]), 50))
        sheet.freeze_panes(1, 0)
        if len(columns):
            sheet.autofilter(0, 0, max(len(values), 1), len(columns) - 1)

    def about(self, view: ViewData, context: ExportContext) -> None:
        sheet = self.book.add_worksheet(_sheet_name("About", self.taken))
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 1, 100)
        sheet.write_string(0, 0, neutralise(f"salesdash export: {view.title}"), self.title)
        rows: list[tuple[str, str]] = [
            ("View", view.name),
            ("Data version", context.data_version),
            ("Generated at", context.generated_at),
            ("Generated by", f"salesdash {__version__}"),
        ]
        rows += [(f"View parameter: {k}", str(v)) for k, v in view.params.items()]
        r = 1
        for key, value in rows:
            sheet.write_string(r, 0, key, self.bold)
            sheet.write_string(r, 1, neutralise(value))
            r += 1
        r += 1
        sheet.write_string(r, 0, "Filters applied", self.title)
        r += 1
        for key, value in describe_filters(view.filters or context.filters):
            sheet.write_string(r, 0, key, self.bold)
            sheet.write_string(r, 1, neutralise(value), self.wrap)
            r += 1
        if view.notes:
            r += 1
            sheet.write_string(r, 0, "Notes", self.title)
            r += 1
            for note in view.notes:
                sheet.write_string(r, 1, neutralise(note), self.wrap)
                r += 1
        r += 1
        sheet.write_string(r, 0, "Column names", self.title)
        r += 1
        sheet.write_string(
            r,
            1,
            "The headers are the labels people read; the API and the CSV export name the columns by their field "
            "names (field name, then header):",
            self.wrap,
        )
        r += 1
        tables = [view.frame, *view.extra.values()]
        names = dict.fromkeys(str(c) for frame in tables for c in frame.columns)
        for name in names:
            if label(name) != name:
                sheet.write_string(r, 0, neutralise(name), self.bold)
                sheet.write_string(r, 1, neutralise(label(name)))
                r += 1
        r += 1
        sheet.write_string(r, 0, "Metric definitions", self.title)
        r += 1
        for name, text in view_definitions(view).items():
            sheet.write_string(r, 0, name, self.bold)
            sheet.write_string(r, 1, neutralise(text), self.wrap)
            r += 1


def to_xlsx(view: ViewData, context: ExportContext) -> bytes:
    """An Excel workbook: the view's table (first sheet), any extra tables, and an About sheet with the filters,
    the data version and the metric definitions."""
    buffer = io.BytesIO()
    writer = _Writer(buffer)
    writer.table(view.title, view.frame)
    for title, frame in view.extra.items():
        writer.table(title, frame)
    writer.about(view, context)
    writer.book.close()
    return buffer.getvalue()
