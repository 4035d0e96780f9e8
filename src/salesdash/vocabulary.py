"""The words of salesdash, written once: metric and column labels, units, the orders of statuses, deal sizes
and time grains, the Cancelled rule and territory names.

Pure data (no SQL, no HTTP, no UI), so the metric layer, the API, the charts, the dashboard tables, the PDF and
the Excel export all import the same definitions instead of keeping copies.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- the Cancelled rule ---------------------------------------------------------------------------------------

CANCELLED = "Cancelled"
DEFAULT_STATUS_TEXT = f"all except {CANCELLED}"
ALL_STATUSES_NOTE = (
    "No status filter was given, so every status is shown, "
    f"{CANCELLED} included (other endpoints exclude {CANCELLED} by default)."
)

# ---- orders of categories -------------------------------------------------------------------------------------

STATUS_ORDER: tuple[str, ...] = ("Shipped", "Resolved", "In Process", "On Hold", "Disputed", CANCELLED)
DEAL_SIZE_ORDER: tuple[str, ...] = ("Small", "Medium", "Large")
# API name of a time grain -> the metric layer's grain, in display order.
PERIODS: dict[str, str] = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
}
PERIOD_OF_GRAIN: dict[str, str] = {grain: period for period, grain in PERIODS.items()}
# The dashboard's pages: URL path -> title (the navigation, saved views and their links use these names).
PAGES: dict[str, str] = {
    "overview": "Overview",
    "geography": "Geography",
    "products": "Products",
    "customers": "Customers",
    "seasonality": "Seasonality",
    "orders": "Orders",
    "forecast": "Forecast",
    "data": "Data",
    "quality": "Data quality",
    "reports": "Reports",
}

GRAIN_LABELS: dict[str, str] = {
    "day": "Day",
    "week": "Week",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Year",
}


# what the groups of a breakdown dimension are called in a sentence ("an order with lines in several deal sizes")
GROUP_NOUNS: dict[str, str] = {
    "product_line": "product lines",
    "product_code": "products",
    "deal_size": "deal sizes",
    "status": "statuses",
    "country": "countries",
    "territory": "territories",
    "customer": "customers",
    "year": "years",
}


def ordered(values: list[str] | tuple[str, ...], order: tuple[str, ...]) -> list[str]:
    """``values`` in the order of ``order`` (unknown values last, alphabetically)."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(values, key=lambda v: (rank.get(v, len(rank)), v))


# ---- territories ----------------------------------------------------------------------------------------------

TERRITORY_NAMES: dict[str, str] = {"NA": "North America", "EMEA": "EMEA", "APAC": "APAC", "Japan": "Japan"}


def territory_name(code: str | None) -> str | None:
    """The name people read for a stored TERRITORY code ("NA" -> "North America")."""
    if code is None:
        return None
    return TERRITORY_NAMES.get(code, code)


# ---- metrics --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A metric's words: its name (API field and column), label (what people read), unit and definition.
    The SQL of the stored metrics lives in :mod:`salesdash.metrics.definitions`."""

    name: str
    label: str
    unit: str  # "currency" | "count" | "ratio"
    description: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "revenue",
            "Revenue",
            "currency",
            f"Sum of SALES over the order lines in view; {CANCELLED} orders are excluded unless the status "
            "filter names them.",
        ),
        Metric(
            "order_count", "Orders", "count", "Number of distinct ORDERNUMBERs among the order lines in view."
        ),
        Metric("line_count", "Order lines", "count", "Number of order lines (rows) in view."),
        Metric("units", "Units", "count", "Sum of QUANTITYORDERED over the order lines in view."),
        Metric(
            "customer_count",
            "Customers",
            "count",
            "Number of distinct CUSTOMERNAMEs among the order lines in view.",
        ),
        Metric(
            "country_count",
            "Countries",
            "count",
            "Number of distinct COUNTRY values among the order lines in view.",
        ),
        Metric(
            "product_line_count",
            "Product lines",
            "count",
            "Number of distinct PRODUCTLINE values among the order lines in view.",
        ),
        Metric(
            "average_order_value",
            "Average order value",
            "currency",
            "revenue / order_count (null when there are no orders).",
        ),
        Metric(
            "average_unit_price",
            "Average unit price",
            "currency",
            "revenue / units (null when there are no units).",
        ),
        Metric(
            "revenue_share",
            "Share of revenue",
            "ratio",
            "A group's revenue / the revenue of all groups in view (0-1).",
        ),
    )
}
# The stored metrics every breakdown returns (the derived ones follow from them).
BREAKDOWN_METRICS: tuple[str, ...] = ("revenue", "order_count", "line_count", "units", "customer_count")
BREAKDOWN_DEFINITIONS: tuple[str, ...] = (
    *BREAKDOWN_METRICS,
    "average_order_value",
    "average_unit_price",
    "revenue_share",
)
# The headline KPIs in the order people read them (cards, Excel, PDF).
KPI_ORDER: tuple[str, ...] = (
    "revenue",
    "order_count",
    "average_order_value",
    "customer_count",
    "units",
    "line_count",
    "country_count",
    "product_line_count",
    "average_unit_price",
)

# ---- columns (labels and units of every table column that is not a metric) ------------------------------------


@dataclass(frozen=True)
class Column:
    """A table column's words: its label, unit (also its JSON type in the API's response schemas: currency and
    ratio are numbers, count and plain integers, flag a boolean, date an ISO date, text a string), whether it
    may be null in any view, and what it means."""

    name: str
    label: str
    unit: str = "text"  # "currency" | "count" | "ratio" | "date" | "text" | "flag" | "plain" (a number as is)
    nullable: bool = False  # null in some rows (a ratio without a denominator, a value the data lacks)
    description: str = ""


# Metrics that are null when their denominator is 0 (no orders, no units, nothing in view).
NULLABLE_METRICS = frozenset({"average_order_value", "average_unit_price", "revenue_share"})

COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        *(
            Column(m.name, m.label, m.unit, m.name in NULLABLE_METRICS, m.description)
            for m in METRICS.values()
        ),
        Column("country", "Country"),
        Column("territory", "Territory", nullable=True),
        Column(
            "iso3", "ISO-3", nullable=True, description="ISO 3166 alpha-3 code (null: not a known country)."
        ),
        Column("product_line", "Product line"),
        Column("product_code", "Product code"),
        Column("customer", "Customer"),
        Column("customer_name", "Customer"),
        Column("status", "Status"),
        Column("deal_size", "Deal size"),
        Column("year", "Year", "plain"),
        Column("month", "Month", "plain"),
        Column("month_name", "Month"),
        Column("period", "Period", description='The period\'s name, e.g. "2004-11", "2004-Q4", "2004-W45".'),
        Column("period_end", "Period end", "date"),
        Column(
            "complete", "Complete", "flag", description="Whether the dates in view cover the whole period."
        ),
        Column("period_start", "Period start", "date"),
        Column("first_order_date", "First order", "date"),
        Column("last_order_date", "Last order", "date"),
        Column("order_date", "Order date", "date"),
        Column("msrp", "MSRP", "currency", nullable=True),
        Column("product_code_count", "Products", "count"),
        Column("rank", "#", "plain"),
        Column("order_number", "Order", "plain"),
        Column("order_line_number", "Line", "plain"),
        Column("quantity_ordered", "Quantity", "count"),
        Column("price_each", "Price each", "currency"),
        Column("sales", "Sales", "currency"),
        Column("revenue_change", "Revenue change", "currency", nullable=True),
        Column("revenue_change_pct", "Revenue change %", "ratio", nullable=True),
        Column("revenue_yoy_change", "Revenue change vs a year earlier", "currency", nullable=True),
        Column("revenue_yoy_change_pct", "Revenue change % vs a year earlier", "ratio", nullable=True),
        Column("kind", "Kind", description="actual or forecast"),
        Column("lower_80", "80% low", "currency", nullable=True),
        Column("upper_80", "80% high", "currency", nullable=True),
        Column("lower_95", "95% low", "currency", nullable=True),
        Column("upper_95", "95% high", "currency", nullable=True),
        Column("actual", "Actual", "currency"),
        Column("forecast", "Forecast", "currency"),
        Column("abs_pct_error", "Error", "ratio"),
        Column("mape", "MAPE", "ratio"),
        Column("wape", "WAPE", "ratio"),
        Column("monetary", "Monetary", "currency"),
        Column("average_monetary", "Average monetary", "currency"),
        Column("frequency", "Frequency", "count"),
        Column("recency_days", "Recency (days)", "count"),
        Column("segment", "Segment"),
        Column("r_score", "R score", "plain"),
        Column("f_score", "F score", "plain"),
        Column("m_score", "M score", "plain"),
        Column("rfm", "RFM", description='The three scores as one code, e.g. "545".'),
        Column(
            "new_customers", "New customers", "count", description="First order ever (under the filters)."
        ),
        Column("returning_customers", "Returning customers", "count"),
        Column("new_customer_revenue", "Revenue from new customers", "currency"),
        Column("returning_customer_revenue", "Revenue from returning customers", "currency"),
        Column("new_customer_share", "New customers' share", "ratio", nullable=True),
        Column("cohort", "Cohort", description='The period of the first orders, e.g. "2003-01".'),
        Column("cohort_start", "Cohort start", "date"),
        Column("customers", "Customers", "count"),
        Column("small", "Small cohort", "flag"),
        Column("periods_since_first", "Periods since first order", "plain"),
        Column("active_customers", "Active customers", "count"),
        Column("retention", "Retention", "ratio", nullable=True),
        Column("partial", "Partial period", "flag"),
        Column("revenue_per_customer", "Revenue per customer", "currency", nullable=True),
        Column("product_lines_bought", "Product lines bought", "count"),
        Column("product_line_share", "Share of product lines", "ratio", nullable=True),
        Column("current_revenue", "Revenue (current period)", "currency", nullable=True),
        Column("previous_revenue", "Revenue (comparison period)", "currency", nullable=True),
        # the order line's other stored columns (GET /api/orders)
        Column("phone", "Phone", nullable=True),
        Column("address_line1", "Address line 1", nullable=True),
        Column("address_line2", "Address line 2", nullable=True),
        Column("city", "City", nullable=True),
        Column("state", "State", nullable=True),
        Column("postal_code", "Postal code", nullable=True),
        Column("contact_last_name", "Contact last name", nullable=True),
        Column("contact_first_name", "Contact first name", nullable=True),
        Column("quarter", "Quarter", "plain"),
        Column("day", "Day", "plain"),
        Column("iso_year", "ISO year", "plain"),
        Column("iso_week", "ISO week", "plain"),
        Column("movement", "Movement"),
        Column("list_price_revenue", "Revenue at list price", "currency"),
        Column("list_price_gap", "List-price gap", "currency"),
        Column("list_price_gap_pct", "List-price gap %", "ratio", nullable=True),
    )
}


def label(name: str) -> str:
    """The label people read for a metric or column name (a readable fallback for the others)."""
    column = COLUMNS.get(name)
    return column.label if column else name.replace("_", " ").capitalize()


def unit(name: str) -> str:
    """The unit of a metric or column name ("text" when unknown; names ending in _pct are ratios)."""
    column = COLUMNS.get(name)
    if column is not None:
        return column.unit
    return "ratio" if name.endswith("_pct") else "text"


def columns_of(unit_name: str) -> frozenset[str]:
    """Every known column of one unit (e.g. all money columns)."""
    return frozenset(name for name, c in COLUMNS.items() if c.unit == unit_name)
