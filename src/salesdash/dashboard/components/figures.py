"""Charts built once per input: :func:`figure` gives a chart function's figure for the same records, options and
theme from ``st.cache_data``, across reruns and visitors.

Building a Plotly figure (every trace and layout update is checked by Plotly) costs tens of milliseconds per
chart, most of a page run once its API answers are cached. The cache holds the figure as Plotly's plain dict
(``Figure.to_dict()``; a pickled ``go.Figure`` does not come back whole), and every call, first or cached, makes
a new ``go.Figure`` from it (a few milliseconds), so a page may change the figure it gets (the cross-filter
highlight, the brush) without changing the next one. That figure is the chart function's own, less the empty
objects Plotly writes for a title set to None (``"title": {}``, drawn exactly like no title). The chart
functions stay pure (``charts/``); this only remembers their answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from salesdash.charts.theme import THEMES, Theme


@st.cache_data(show_spinner=False, max_entries=256, ttl=24 * 3600)
def _built(
    name: str,
    _make: Callable[..., go.Figure],
    args: tuple[Any, ...],
    options: tuple[tuple[str, Any], ...],
    theme: str,
) -> dict[str, Any]:
    # ``name`` (module and function) keys the cache; ``_make`` itself is not hashed.
    built: dict[str, Any] = _make(*args, theme=THEMES[theme], **dict(options)).to_dict()
    return built


def figure(make: Callable[..., go.Figure], *args: Any, theme: Theme, **options: Any) -> go.Figure:
    """``make(*args, theme=theme, **options)``, built once per distinct input (records included)."""
    name = f"{make.__module__}.{make.__qualname__}"
    return go.Figure(_built(name, make, args, tuple(sorted(options.items())), theme.name))
