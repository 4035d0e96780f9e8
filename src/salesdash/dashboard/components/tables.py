"""Sortable tables with the dashboard's number formats (money as $1,234.57, counts with separators)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import streamlit as st

from salesdash.dashboard.charts import CURRENCY_METRICS, METRIC_LABELS

COUNT_COLUMNS = {
    "order_count",
    "line_count",
    "units",
    "customer_count",
    "country_count",
    "product_code_count",
    "quantity_ordered",
}
MONEY_COLUMNS = {"msrp", "sales", "price_each"}
PLAIN_COLUMNS = {"year", "order_number", "order_line_number"}
LABELS = {
    **METRIC_LABELS,
    "country": "Country",
    "territory": "Territory",
    "iso3": "ISO-3",
    "product_line": "Product line",
    "product_code": "Product code",
    "customer": "Customer",
    "customer_name": "Customer",
    "status": "Status",
    "deal_size": "Deal size",
    "year": "Year",
    "first_order_date": "First order",
    "last_order_date": "Last order",
    "msrp": "MSRP",
    "average_unit_price": "Avg unit price",
    "average_order_value": "Avg order value",
    "country_count": "Countries",
    "product_code_count": "Products",
    "rank": "#",
    "order_date": "Order date",
    "order_number": "Order",
    "order_line_number": "Line",
    "quantity_ordered": "Qty",
    "price_each": "Price each",
    "sales": "Sales",
}


def column_config(columns: Sequence[str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in columns:
        label = LABELS.get(name, name.replace("_", " ").capitalize())
        if name in CURRENCY_METRICS or name in MONEY_COLUMNS:
            config[name] = st.column_config.NumberColumn(label, format="dollar")
        elif name == "revenue_share":
            config[name] = st.column_config.ProgressColumn(
                label, format="percent", min_value=0.0, max_value=1.0, width="small"
            )
        elif name in COUNT_COLUMNS or name == "rank":
            config[name] = st.column_config.NumberColumn(label, format="localized")
        elif name in PLAIN_COLUMNS:
            config[name] = st.column_config.NumberColumn(label, format="plain")
        elif name.endswith("_date"):
            config[name] = st.column_config.DateColumn(label, format="YYYY-MM-DD")
        else:
            config[name] = st.column_config.TextColumn(label)
    return config


def frame(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """The API records as a DataFrame with exactly ``columns`` (missing ones dropped), dates parsed."""
    df = pd.DataFrame(list(records))
    present = [c for c in columns if c in df.columns]
    df = df[present] if present else df
    for name in present:
        if name.endswith("_date"):
            df[name] = pd.to_datetime(df[name], errors="coerce").dt.date
    return df


def table(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    key: str,
    height: int | Literal["auto", "stretch", "content"] = "auto",
    on_select: Any = "ignore",
) -> Any:
    """A sortable (click a header) table; ``on_select`` makes rows selectable (single row)."""
    df = frame(records, columns)
    config = column_config(list(df.columns))
    if on_select == "ignore":
        return st.dataframe(
            df, hide_index=True, column_config=config, key=key, height=height, width="stretch"
        )
    return st.dataframe(
        df,
        hide_index=True,
        column_config=config,
        key=key,
        height=height,
        width="stretch",
        on_select=on_select,
        selection_mode="single-row",
    )
