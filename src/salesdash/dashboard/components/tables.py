"""Sortable tables with the dashboard's number formats (money as $1,234.57, counts with separators, shares
with one decimal, dates as "May 31, 2005"): the formats are :data:`salesdash.charts.format.TABLE_FORMATS`,
the headers the vocabulary's labels ("Average order value", never ``average_order_value``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import streamlit as st

from salesdash import vocabulary
from salesdash.charts.format import TABLE_DATE, TABLE_FORMATS

FIT_ROWS = 25  # a table of up to this many rows is drawn whole (no half-drawn scroll box)


def column_config(columns: Sequence[str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in columns:
        label, kind = vocabulary.label(name), vocabulary.unit(name)
        if kind == "currency":
            config[name] = st.column_config.NumberColumn(label, format=TABLE_FORMATS["currency"])
        elif name == "revenue_share":
            # shown as a percentage with one decimal, like every share of the dashboard ("2.9%", not "2.93%");
            # a bar as wide as its header, so that the columns after it are not pushed out of a 1400 px page
            config[name] = st.column_config.ProgressColumn(
                label, format=TABLE_FORMATS["share"], min_value=0.0, max_value=100.0, width=130
            )
        elif kind == "ratio":
            config[name] = st.column_config.NumberColumn(label, format=TABLE_FORMATS["share"])
        elif kind == "count":
            config[name] = st.column_config.NumberColumn(label, format=TABLE_FORMATS["count"])
        elif kind == "plain":
            config[name] = st.column_config.NumberColumn(label, format=TABLE_FORMATS["plain"])
        elif kind == "date":
            config[name] = st.column_config.DateColumn(label, format=TABLE_DATE)
        else:
            config[name] = st.column_config.TextColumn(label)
    return config


def frame(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """The API records as a DataFrame with exactly ``columns`` (missing ones dropped), dates parsed."""
    df = pd.DataFrame(list(records))
    present = [c for c in columns if c in df.columns]
    df = df[present] if present else df
    for name in present:
        if vocabulary.unit(name) == "date":
            df[name] = pd.to_datetime(df[name], errors="coerce").dt.date
        elif name == "territory":
            df[name] = df[name].map(vocabulary.territory_name)
        elif name in written_out(df):
            continue  # a ratio the caller wrote out as text ("+12.5%", "new"): shown as it is
        elif name == "revenue_share" or vocabulary.unit(name) == "ratio":  # 0-1, shown as a percentage
            df[name] = pd.to_numeric(df[name], errors="coerce") * 100
    return df


def written_out(df: pd.DataFrame) -> set[str]:
    """The columns whose values the caller has already written as text (any value is a str)."""
    return {str(c) for c in df.columns if df[c].map(lambda v: isinstance(v, str)).any()}


def table(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    key: str,
    height: int | Literal["auto", "stretch", "content"] = "auto",
    on_select: Any = "ignore",
) -> Any:
    """A sortable (click a header) table; ``on_select`` makes rows selectable (single row). With the default
    height a table of up to FIT_ROWS rows is drawn whole."""
    df = frame(records, columns)
    if height == "auto" and len(df) <= FIT_ROWS:
        height = "content"
    config = column_config(list(df.columns))
    text = written_out(df)
    config.update({n: st.column_config.TextColumn(vocabulary.label(n)) for n in config if n in text})
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
