"""Text alternatives of the charts: a one-line summary of what a chart shows and the table of what it draws.

Every chart function computes both from the records it draws and stores them in the figure
(:func:`described`, in ``layout.meta``); the dashboard reads them back with :func:`description` and shows the
line under the chart and the table behind its "View as table" toggle. Pure: no Streamlit here.
The texts are plain (never markup): the dashboard escapes them like any other value from the data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

Row = Mapping[str, Any]
META_KEY = "salesdash_description"


def described(fig: go.Figure, summary: str, table: Sequence[Row] = ()) -> go.Figure:
    """``fig`` with its summary line and its table (rows of column label -> shown value) attached."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    fig.update_layout(meta={**meta, META_KEY: {"summary": summary, "table": [dict(r) for r in table]}})
    return fig


def description(fig: go.Figure) -> tuple[str, list[dict[str, Any]]]:
    """The summary line and table a chart function attached to ``fig`` (empty when it attached none)."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    found = meta.get(META_KEY) or {}
    return str(found.get("summary") or ""), list(found.get("table") or [])


def extremes(
    subject: str,
    pairs: Sequence[tuple[str, float | None]],
    show: Callable[[Any], str],
    *,
    share: Callable[[str], str | None] | None = None,
    words: tuple[str, str] = ("highest", "lowest"),
    span: bool = False,
) -> str:
    """``"Revenue by product line: Classic Cars highest at $3.9M (39.1%), Trains lowest at $0.2M (2.3%)"``.

    ``pairs`` are (name, value) in drawing order; ``show`` formats a value, ``share`` adds a share in brackets,
    ``span`` names the first and last name ("…, Jan 2003 to May 2005: …", for time series)."""
    known = [(name, float(value)) for name, value in pairs if value is not None]
    if not known:
        return f"{subject}: no data for these filters"
    head = subject
    if span and len(pairs) > 1:
        head += f", {pairs[0][0]} to {pairs[-1][0]}"

    def item(name: str, value: float, word: str) -> str:
        extra = share(name) if share else None
        return f"{name}{word} at {show(value)}" + (f" ({extra})" if extra else "")

    if len(known) == 1:
        return f"{head}: only {item(*known[0], ',')}"
    top = max(known, key=lambda kv: kv[1])
    bottom = min(known, key=lambda kv: kv[1])
    return f"{head}: {item(*top, ' ' + words[0])}, {item(*bottom, ' ' + words[1])}"
