"""The source schema: which columns a CSV of order lines has, and the pandera rules every row must pass.

Every rule is declared once, here, as a pandera check. Each check carries its parameters in ``statistics``
(pandera's built-in checks do so themselves; the custom ones below say theirs), so other engines compile the
same declarations: ``ingest/spark.py`` turns each check into a Spark column expression by its name and
statistics, and refuses a check it does not know (tests compile every check of :func:`build_schema`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

from salesdash.vocabulary import DEAL_SIZE_ORDER, STATUS_ORDER

DATE_FORMAT = "%m/%d/%Y %H:%M"
MAX_TEXT = 255
# Upper bounds keep every value inside its column type on every engine: 32-bit INTEGER columns, order numbers
# exact as float64, and money small enough that a line is exact to the cent and SUM(sales_cents) over 10M
# lines still fits a 64-bit integer.
MAX_INT32 = 2**31 - 1
MAX_ORDER_NUMBER = 2**53
MAX_MONEY = 1_000_000_000

# source column -> order_lines column
COLUMN_MAP: dict[str, str] = {
    "ORDERNUMBER": "order_number",
    "QUANTITYORDERED": "quantity_ordered",
    "PRICEEACH": "price_each",
    "ORDERLINENUMBER": "order_line_number",
    "SALES": "sales",
    "ORDERDATE": "order_date",
    "STATUS": "status",
    "QTR_ID": "qtr_id",
    "MONTH_ID": "month_id",
    "YEAR_ID": "year_id",
    "PRODUCTLINE": "product_line",
    "MSRP": "msrp",
    "PRODUCTCODE": "product_code",
    "CUSTOMERNAME": "customer_name",
    "PHONE": "phone",
    "ADDRESSLINE1": "address_line1",
    "ADDRESSLINE2": "address_line2",
    "CITY": "city",
    "STATE": "state",
    "POSTALCODE": "postal_code",
    "COUNTRY": "country",
    "TERRITORY": "territory",
    "CONTACTLASTNAME": "contact_last_name",
    "CONTACTFIRSTNAME": "contact_first_name",
    "DEALSIZE": "deal_size",
}
SOURCE_COLUMNS: tuple[str, ...] = tuple(COLUMN_MAP)
REQUIRED_COLUMNS: tuple[str, ...] = (
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
INTEGER_COLUMNS = (
    "ORDERNUMBER",
    "QUANTITYORDERED",
    "ORDERLINENUMBER",
    "QTR_ID",
    "MONTH_ID",
    "YEAR_ID",
    "MSRP",
)
DECIMAL_COLUMNS = ("PRICEEACH", "SALES")
NUMERIC_COLUMNS = INTEGER_COLUMNS + DECIMAL_COLUMNS
TEXT_COLUMNS = tuple(c for c in SOURCE_COLUMNS if c not in NUMERIC_COLUMNS and c != "ORDERDATE")


def _is_whole(s: pd.Series) -> pd.Series:
    return s.isna() | (s == s.round())


def _finite(s: pd.Series) -> pd.Series:
    return s.isna() | s.abs().lt(float("inf"))


def _calendar_agrees(part: str, column: str) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        if column not in df:
            return pd.Series(True, index=df.index)
        value = df[column]
        derived = getattr(df["ORDERDATE"].dt, part)
        return value.isna() | df["ORDERDATE"].isna() | (value == derived)

    return pa.Check(
        check,
        name=f"{column}_matches_ORDERDATE",
        error=f"{column} disagrees with ORDERDATE",
        statistics={"column": column, "part": part},
    )


def _one_value_per_order(column: str) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        if column not in df:
            return pd.Series(True, index=df.index)
        distinct = df.groupby("ORDERNUMBER", dropna=True)[column].transform("nunique")
        return distinct.isna() | distinct.le(1)

    return pa.Check(
        check,
        name=f"one_{column}_per_order",
        error=f"an order must have one {column} on all of its lines",
        statistics={"column": column},
    )


def _int_column(low: int, high: int | None, nullable: bool = False) -> pa.Column:
    checks = [
        pa.Check(_is_whole, name="whole_number", error="must be a whole number"),
        pa.Check.ge(low),
    ]
    if high is not None:
        checks.append(pa.Check.le(high))
    return pa.Column(float, checks=checks, nullable=nullable, required=False)


def _money_column() -> pa.Column:
    return pa.Column(
        float,
        checks=[
            pa.Check.ge(0),
            pa.Check(_finite, name="finite", error="must be finite"),
            pa.Check(  # infinite values fail "finite" only
                lambda s: s.isna() | ~s.abs().lt(float("inf")) | s.le(MAX_MONEY),
                name=f"less_than_or_equal_to({MAX_MONEY})",
                statistics={"max_value": MAX_MONEY, "finite_only": True},
            ),
        ],
    )


def _text_column(nullable: bool, allowed: tuple[str, ...] | None = None) -> pa.Column:
    checks = [pa.Check.str_length(max_value=MAX_TEXT, error=f"longer than {MAX_TEXT} characters")]
    if allowed:
        checks.append(pa.Check.isin(allowed, error=f"must be one of: {', '.join(allowed)}"))
    return pa.Column(object, checks=checks, nullable=nullable, required=False)


def build_schema() -> pa.DataFrameSchema:
    """Row rules on the typed frame (numbers parsed, ORDERDATE parsed, empty text as missing)."""
    columns: dict[str, Any] = {
        "ORDERNUMBER": _int_column(1, MAX_ORDER_NUMBER),
        "QUANTITYORDERED": _int_column(1, MAX_INT32),
        "ORDERLINENUMBER": _int_column(1, MAX_INT32),
        "QTR_ID": _int_column(1, 4, nullable=True),
        "MONTH_ID": _int_column(1, 12, nullable=True),
        "YEAR_ID": _int_column(1900, 2100, nullable=True),
        "MSRP": _int_column(0, MAX_INT32, nullable=True),
        "PRICEEACH": _money_column(),
        "SALES": _money_column(),
        "ORDERDATE": pa.Column(
            "datetime64[ns]",
            checks=pa.Check.in_range(pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31")),
        ),
        "STATUS": _text_column(False, STATUS_ORDER),
        "DEALSIZE": _text_column(False, DEAL_SIZE_ORDER),
    }
    for name in TEXT_COLUMNS:
        if name not in columns:
            columns[name] = _text_column(nullable=name not in REQUIRED_COLUMNS)
    return pa.DataFrameSchema(
        columns,
        checks=[
            _calendar_agrees("year", "YEAR_ID"),
            _calendar_agrees("quarter", "QTR_ID"),
            _calendar_agrees("month", "MONTH_ID"),
            _one_value_per_order("CUSTOMERNAME"),
            _one_value_per_order("ORDERDATE"),
            _one_value_per_order("STATUS"),
        ],
        unique=["ORDERNUMBER", "ORDERLINENUMBER"],
        report_duplicates="exclude_first",
        strict=False,
        coerce=False,
    )
