"""Charts as PNG: Plotly figures rendered by kaleido (1.x) in a headless Chrome/Chromium.

kaleido finds the browser itself (on Debian: ``apt-get install chromium`` gives /usr/bin/chromium); set the
``BROWSER_PATH`` environment variable to use another one. The browser is started on the first image and kept
open (one per process, rendering one figure at a time), so later images take a fraction of a second.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from salesdash.errors import SalesdashError

WIDTH, HEIGHT, SCALE = 1200, 600, 2
RENDER_TIMEOUT = 90.0


class ExportUnavailable(SalesdashError):
    """An image or PDF cannot be made on this machine (no browser for kaleido)."""

    code = "export_unavailable"
    http_status = 503


def for_export(fig: go.Figure, title: str, subtitle: str = "") -> go.Figure:
    """A copy of ``fig`` for a file: white background, a title (and subtitle) above the plot's own top margin
    (which holds its legend and notes), and margins wide enough for every axis label: never cut off."""
    out = go.Figure(fig)
    text = f"<b>{title}</b>"
    if subtitle:
        text += f"<br><span style='font-size:12px;color:#5F6B7A'>{subtitle}</span>"
    margin = out.layout.margin

    def own(side: str, least: int) -> int:
        value = getattr(margin, side, None) if margin else None
        return max(int(value), least) if value is not None else least

    top = own("t", 12)
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
        # the chart's own margins hold its axis labels (sized from the labels' widths in the chart function);
        # at least 24 px of air on every side
        margin={"t": top + heading, "l": own("l", 24), "r": own("r", 24), "b": own("b", 24)},
    )
    # a file is drawn once, so Plotly may measure every label and widen a margin a label would overflow
    # (the dashboard turns this off only because measuring costs time on every redraw)
    out.update_xaxes(automargin=True)
    out.update_yaxes(automargin=True)
    return out


class Renderer:
    """A headless browser kept open for rendering: the first image pays the start (~2 s), the next ones take
    a fraction of a second. The browser runs on an asyncio loop in a daemon thread of its own; callers from any
    thread submit work to it and wait for the result. kaleido queues concurrent renders on its tab. After a
    failure the browser is closed, and the next call starts a new one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    def _start(self) -> None:
        import kaleido
        from choreographer.errors import ChromeNotFoundError

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="salesdash-kaleido", daemon=True)
        thread.start()

        async def open_browser() -> Any:
            # mathjax=False: no MathJax from a CDN (the charts use no LaTeX; the machine may be offline)
            browser = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, mathjax=False)
            await browser.open()
            return browser

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(RENDER_TIMEOUT)
        except ChromeNotFoundError:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            raise ExportUnavailable(
                "Chart images need Chrome or Chromium, which was not found. Install it "
                "(Debian/Ubuntu: apt-get install chromium) or set BROWSER_PATH to its executable.",
                details=[{"setting": "BROWSER_PATH", "message": "no Chrome/Chromium found"}],
            ) from None
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            raise
        self._loop, self._thread = loop, thread
        atexit.register(self.close)

    def render(self, figures: Sequence[go.Figure], opts: dict[str, Any]) -> list[bytes]:
        with self._lock:
            if self._kaleido is None:
                self._start()
            loop, browser = self._loop, self._kaleido
        assert loop is not None

        async def run() -> list[bytes]:
            return [bytes(await browser.calc_fig(fig, opts=opts)) for fig in figures]

        try:
            return asyncio.run_coroutine_threadsafe(run(), loop).result(RENDER_TIMEOUT * len(figures))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with self._lock:
            loop, thread, browser = self._loop, self._thread, self._kaleido
            self._loop = self._thread = self._kaleido = None
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(browser.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(10)
        if not loop.is_running():
            loop.close()


_default = Renderer()


def render_png(
    figures: Sequence[go.Figure],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    scale: int = SCALE,
    renderer: Renderer | None = None,
) -> list[bytes]:
    """PNG bytes of each figure (``width`` x ``height`` CSS pixels at ``scale``x, so ``width*scale`` pixels)."""
    if not figures:
        return []
    opts = {"format": "png", "width": width, "height": height, "scale": scale}
    return (renderer or _default).render(list(figures), opts)
