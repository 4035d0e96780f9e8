"""Hand-made order-line CSVs for tests: write exactly the lines a test reasons about."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from salesdash.ingest.schema import REQUIRED_COLUMNS

COLUMNS = REQUIRED_COLUMNS  # the columns a valid file must have; every other column is optional


def line(
    order: int,
    day: date,
    sales: float,
    *,
    customer: str = "Steady Co",
    country: str = "USA",
    line_number: int = 1,
    status: str = "Shipped",
    product_line: str = "Classic Cars",
    quantity: int = 10,
) -> dict[str, Any]:
    """One order line; PRICEEACH is SALES / QUANTITYORDERED so the line is self-consistent."""
    return {
        "ORDERNUMBER": order,
        "QUANTITYORDERED": quantity,
        "PRICEEACH": round(sales / quantity, 2),
        "ORDERLINENUMBER": line_number,
        "SALES": sales,
        "ORDERDATE": f"{day.month}/{day.day}/{day.year} 0:00",
        "STATUS": status,
        "PRODUCTLINE": product_line,
        "PRODUCTCODE": "S10_1949",
        "CUSTOMERNAME": customer,
        "COUNTRY": country,
        "DEALSIZE": "Small" if sales < 3000 else "Medium" if sales < 7000 else "Large",
    }


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def months(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s month to ``last``'s month."""
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


STEADY = {2003: 1000.0, 2004: 1100.0, 2005: 1300.0}


def aligned_csv(path: Path) -> Path:
    """Two customers on a monthly rhythm (see tests/metrics/test_compare_alignment.py for the story):
    Steady Co (USA) orders on the 10th of every month Jan 2003-May 2005 (1,000 / 1,100 / 1,300 a month in
    2003 / 2004 / 2005), so the data ends on 2005-05-10; Fading Ltd (France) orders 500.00 on the 20th of every
    month Jan 2003-Mar 2005, then stops."""
    rows = []
    order = 1000
    for m in months(date(2003, 1, 1), date(2005, 5, 1)):
        order += 1
        rows.append(line(order, m.replace(day=10), STEADY[m.year]))
    for m in months(date(2003, 1, 1), date(2005, 3, 1)):
        order += 1
        rows.append(line(order, m.replace(day=20), 500.0, customer="Fading Ltd", country="France"))
    return write_csv(path, rows)
