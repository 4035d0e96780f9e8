"""Hand-made order-line CSVs for tests: write exactly the lines a test reasons about."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

COLUMNS = (
    "ORDERNUMBER",
    "QUANTITYORDERED",
    "PRICEEACH",
    "ORDERLINENUMBER",
    "SALES",
    "ORDERDATE",
    "STATUS",
    "PRODUCTLINE",
    "PRODUCTCODE",
    "CUSTOMERNAME",
    "COUNTRY",
    "DEALSIZE",
)


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
