"""Charts as PNG: Plotly figures rendered by kaleido (1.x) in a headless Chrome/Chromium.

kaleido finds the browser itself (on Debian: ``apt-get install chromium`` gives /usr/bin/chromium); set the
``BROWSER_PATH`` environment variable to use another one. The browser is started on the first image and kept
open while exports come (one per renderer configuration in a process), so later images take a fraction of a
second; the API's renderer bounds how many exports render and wait at once and closes the browser when idle.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import plotly.graph_objects as go

from salesdash.errors import SalesdashError
from salesdash.markup import plotly_text
from salesdash.telemetry import set_export_queue_length

WIDTH, HEIGHT, SCALE = 1200, 600, 2
RENDER_TIMEOUT = 90.0
CRASH_REPORTER_OFF = "--disable-crash-reporter"


class ExportUnavailable(SalesdashError):
    """An image or PDF cannot be made on this machine (no browser for kaleido)."""

    code = "export_unavailable"
    http_status = 503


def for_export(fig: go.Figure, title: str, subtitle: str = "") -> go.Figure:
    """A copy of ``fig`` for a file: white background, a title (and subtitle) above the plot's own top margin
    (which holds its legend and notes), and margins wide enough for every axis label: never cut off."""
    out = go.Figure(fig)
    text = (
        f"<b>{plotly_text(title)}</b>"  # the subtitle names filter values: shown as written, never as markup
    )
    if subtitle:
        text += f"<br><span style='font-size:12px;color:#5F6B7A'>{plotly_text(subtitle)}</span>"
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


class ExportBusy(SalesdashError):
    """Every render slot is taken and the queue for them is full (or a queued export waited too long)."""

    code = "export_busy"
    http_status = 503  # with Retry-After (the API's envelope for every 503)


class ExportAbandoned(SalesdashError):
    """The client that asked for the export went away: the render was stopped (nobody receives the answer)."""

    code = "export_abandoned"
    http_status = 503


def _no_crash_reporter() -> None:
    """Start Chromium without its crash reporter. Debian's /usr/bin/chromium reads extra flags from
    CHROMIUM_FLAGS; without this flag every browser start left two ``chrome_crashpad_handler`` processes behind
    when kaleido closed the browser (they outlive it, reparented to init), so closing an idle browser and
    starting a new one would pile them up."""
    flags = os.environ.get("CHROMIUM_FLAGS", "")
    if CRASH_REPORTER_OFF not in flags.split():
        os.environ["CHROMIUM_FLAGS"] = f"{flags} {CRASH_REPORTER_OFF}".strip()


def _never() -> bool:
    return False


class Renderer:
    """A headless browser kept open for rendering: the first image pays the start (~2 s), the next ones take
    a fraction of a second. The browser runs on an asyncio loop in a daemon thread of its own; callers from any
    thread submit work to it and wait for the result. After a failure the browser is closed, and the next call
    starts a new one.

    Rendering is bounded: at most ``slots`` exports render at once (one browser tab each) and at most ``queue``
    more wait for a slot (for up to ``wait_seconds``); past that :meth:`slot` raises :class:`ExportBusy` at once,
    so a storm of exports holds a bounded number of server threads. A render whose client has gone (the
    ``cancelled`` callable given to :meth:`slot`) stops before its next figure. The browser is closed after
    ``idle_seconds`` without a render (0 = kept open)."""

    def __init__(
        self, slots: int = 1, queue: int = 4, wait_seconds: float = 30.0, idle_seconds: float = 0.0
    ) -> None:
        self.slots, self.queue, self.wait_seconds, self.idle_seconds = (
            slots,
            queue,
            wait_seconds,
            idle_seconds,
        )
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._gate = threading.Condition()
        self._active = 0
        self._waiting = 0
        self._last_done = 0.0
        self._idle_timer: threading.Timer | None = None
        self._held = threading.local()  # per thread: (depth, cancelled) while it holds a slot

    # ---- the bound ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def slot(self, cancelled: Callable[[], bool] = _never) -> Iterator[None]:
        """Hold one render slot (re-entrant within a thread); :class:`ExportBusy` when none is free in time."""
        depth, _ = getattr(self._held, "state", (0, _never))
        if depth:
            self._held.state = (depth + 1, cancelled)
            try:
                yield
            finally:
                self._held.state = (depth, cancelled)
            return
        self._acquire(cancelled)
        self._held.state = (1, cancelled)
        try:
            yield
        finally:
            self._held.state = (0, _never)
            self._release()

    def _acquire(self, cancelled: Callable[[], bool]) -> None:
        busy = (
            f"Every chart renderer is busy ({self.slots} rendering, {self.queue} waiting); "
            "try again in a few seconds."
        )
        with self._gate:
            if self._active >= self.slots and self._waiting >= self.queue:
                raise ExportBusy(
                    busy, details=[{"setting": "SALESDASH_EXPORT_QUEUE", "message": "queue full"}]
                )
            self._waiting += 1
            self._publish()
            try:
                deadline = time.monotonic() + self.wait_seconds
                while self._active >= self.slots:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ExportBusy(busy, details=[{"problem": "waited", "seconds": self.wait_seconds}])
                    if cancelled():
                        raise ExportAbandoned("The client went away before its export was rendered.")
                    self._gate.wait(min(left, 0.5))
            finally:
                self._waiting -= 1
                self._publish()
            self._active += 1
            self._publish()
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None

    def _publish(self) -> None:
        """The export queue length (rendering + waiting) on /metrics; called with the gate held."""
        set_export_queue_length(self._active + self._waiting)

    def _release(self) -> None:
        with self._gate:
            self._active -= 1
            self._publish()
            self._last_done = time.monotonic()
            self._gate.notify()
            if self._active == 0 and self.idle_seconds > 0:
                timer = threading.Timer(self.idle_seconds, self._close_if_idle)
                timer.daemon = True
                self._idle_timer = timer
                timer.start()

    def _close_if_idle(self) -> None:
        with self._gate:
            idle = self._active == 0 and time.monotonic() - self._last_done >= self.idle_seconds * 0.99
        if idle:
            self.close()

    def browser_open(self) -> bool:
        return self._kaleido is not None

    # ---- the browser --------------------------------------------------------------------------------------

    def _start(self) -> None:
        import kaleido
        from choreographer.errors import ChromeNotFoundError

        _no_crash_reporter()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="salesdash-kaleido", daemon=True)
        thread.start()

        async def open_browser() -> Any:
            # mathjax=False: no MathJax from a CDN (the charts use no LaTeX; the machine may be offline)
            browser = kaleido.Kaleido(n=self.slots, timeout=RENDER_TIMEOUT, mathjax=False)
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
        with self.slot():
            _, cancelled = self._held.state
            with self._lock:
                if self._kaleido is None:
                    self._start()
                loop, browser = self._loop, self._kaleido
            assert loop is not None

            async def one(fig: go.Figure) -> bytes:
                return bytes(await browser.calc_fig(fig, opts=opts))

            out: list[bytes] = []
            try:
                for fig in figures:
                    if cancelled():
                        raise ExportAbandoned("The client went away; the export was not finished.")
                    out.append(asyncio.run_coroutine_threadsafe(one(fig), loop).result(RENDER_TIMEOUT))
            except ExportAbandoned:
                raise
            except BaseException:
                self.close()
                raise
            return out

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


_renderers: dict[tuple[int, int, float, float], Renderer] = {}
_renderers_lock = threading.Lock()


def renderer_for(slots: int, queue: int, idle_seconds: float, wait_seconds: float = 30.0) -> Renderer:
    """The process's renderer for these bounds (one browser per configuration, shared by every app using it)."""
    key = (slots, queue, idle_seconds, wait_seconds)
    with _renderers_lock:
        if key not in _renderers:
            _renderers[key] = Renderer(slots, queue, wait_seconds, idle_seconds)
        return _renderers[key]


def current_renderer() -> Renderer | None:
    """The renderer whose slot this thread holds (so the PDF's charts render in the export's own slot)."""
    for renderer in list(_renderers.values()):
        if getattr(renderer._held, "state", (0, None))[0]:
            return renderer
    return None


_default = Renderer(slots=1, queue=64, wait_seconds=4 * RENDER_TIMEOUT)  # scripts and library calls


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
    return (renderer or current_renderer() or _default).render(list(figures), opts)
