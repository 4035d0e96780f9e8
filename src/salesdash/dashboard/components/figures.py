"""Charts built once per input: :func:`figure` gives a chart function's figure for the same records, options and
theme from ``st.cache_data``, across reruns and visitors.

Building a Plotly figure (every trace and layout update is checked by Plotly) costs tens of milliseconds per
chart, most of a page run once its API answers are cached; a cached figure is a pickled copy (a few
milliseconds), so a page may still change the figure it gets (the cross-filter highlight, the brush). The chart
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
) -> go.Figure:
    # ``name`` (module and function) keys the cache; ``_make`` itself is not hashed.
    return _make(*args, theme=THEMES[theme], **dict(options))


def figure(make: Callable[..., go.Figure], *args: Any, theme: Theme, **options: Any) -> go.Figure:
    """``make(*args, theme=theme, **options)``, built once per distinct input (records included)."""
    name = f"{make.__module__}.{make.__qualname__}"
    return _built(name, make, args, tuple(sorted(options.items())), theme.name)
