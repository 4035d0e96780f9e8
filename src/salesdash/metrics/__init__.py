"""The metric layer: one definition of every metric over the one filter model (no HTTP, no UI)."""

from salesdash.filters import PARAMETERS, Filters, parse_filters
from salesdash.metrics.compare import comparisons, growth, headline
from salesdash.metrics.definitions import METRICS, Metric, definitions
from salesdash.metrics.queries import (
    DIMENSIONS,
    GRAINS,
    breakdown,
    data_date_range,
    filter_options,
    filter_values,
    kpis,
    month_year_matrix,
    order_line_page,
    over_time,
)
from salesdash.vocabulary import CANCELLED

__all__ = [
    "CANCELLED",
    "DIMENSIONS",
    "GRAINS",
    "METRICS",
    "PARAMETERS",
    "Filters",
    "Metric",
    "breakdown",
    "comparisons",
    "data_date_range",
    "definitions",
    "filter_options",
    "filter_values",
    "growth",
    "headline",
    "kpis",
    "month_year_matrix",
    "order_line_page",
    "over_time",
    "parse_filters",
]
