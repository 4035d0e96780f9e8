"""Charts as PNG: Plotly figures rendered by kaleido (1.x) in a headless Chrome/Chromium.

kaleido finds the browser itself (on Debian: ``apt-get install chromium`` gives /usr/bin/chromium); set the
``BROWSER_PATH`` environment variable to use another one. One browser is started per call and renders every
figure of that call (a PDF report's charts cost one browser start, not one each); at most two renders run at
once so that concurrent exports cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import plotly.graph_objects as go

from salesdash.errors import SalesdashError

WIDTH, HEIGHT, SCALE = 1200, 600, 2
RENDER_TIMEOUT = 90.0
_SLOTS = threading.BoundedSemaphore(2)


class ExportUnavailable(SalesdashError):
    """An image or PDF cannot be made on this machine (no browser for kaleido)."""

    code = "export_unavailable"
    http_status = 503


def for_export(fig: go.Figure, title: str, subtitle: str = "") -> go.Figure:
    """A copy of ``fig`` for a file: white background, a title (and subtitle) above the plot's own top margin
    (which holds its legend and notes)."""
    out = go.Figure(fig)
    text = f"<b>{title}</b>"
    if subtitle:
        text += f"<br><span style='font-size:12px;color:#5F6B7A'>{subtitle}</span>"
    margin = out.layout.margin
    top = margin.t if margin and margin.t is not None else 12
    heading = 84 if subtitle else 58
    out.update_layout(
        # fonts every Debian/Ubuntu desktop has (the dashboard's web font is not there for the browser)
        font_family="DejaVu Sans, Liberation Sans, Arial, sans-serif",
        paper_bgcolor="white",
        plot_bgcolor="white",
        title={
            "text": text,
            "x": 0.01,
            "xanchor": "left",
            "yref": "container",
            "y": 1.0,
            "yanchor": "top",
            "pad": {"t": 22},
            "font": {"size": 18},
        },
        margin={"t": top + heading, "l": 24, "r": 24, "b": 24},
    )
    return out


async def _render_all(figures: Sequence[go.Figure], opts: dict[str, Any]) -> list[bytes]:
    import kaleido

    # mathjax=False: no MathJax from a CDN (the charts use no LaTeX; the machine may be offline)
    async with kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False) as k:
        return [bytes(await k.calc_fig(fig, opts=opts)) for fig in figures]


def render_png(
    figures: Sequence[go.Figure], *, width: int = WIDTH, height: int = HEIGHT, scale: int = SCALE
) -> list[bytes]:
    """PNG bytes of each figure (``width`` x ``height`` CSS pixels at ``scale``x, so ``width*scale`` pixels)."""
    if not figures:
        return []
    from choreographer.errors import ChromeNotFoundError

    opts = {"format": "png", "width": width, "height": height, "scale": scale}
    # a thread of its own: asyncio.run needs a thread without a running event loop
    with _SLOTS, ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesdash-kaleido") as pool:
        try:
            return pool.submit(asyncio.run, _render_all(list(figures), opts)).result()
        except ChromeNotFoundError:
            raise ExportUnavailable(
                "Chart images need Chrome or Chromium, which was not found. Install it "
                "(Debian/Ubuntu: apt-get install chromium) or set BROWSER_PATH to its executable.",
                details=[{"setting": "BROWSER_PATH", "message": "no Chrome/Chromium found"}],
            ) from None
