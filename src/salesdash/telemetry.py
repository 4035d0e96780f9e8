"""Process-wide Prometheus metrics that are not tied to one API app: loads and stream batches, the export
render queue, report and alert sends. ``GET /metrics`` (``salesdash.api.observe``) serves these together with
the app's own request, cache and data-version metrics.

Callers use the small functions below (thread-safe; prometheus-client's metrics lock internally); the
registry is created on first use, never at import time.

- :func:`observe_load` - after a committed load or stream batch (kind: ``ingest``, ``append``, ``stream``).
- :func:`set_export_queue_length` - the export renderer's queue (exports waiting or rendering).
- :func:`count_send` - a report or alert message sent or failed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LOAD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


@dataclass(frozen=True)
class ProcessMetrics:
    registry: CollectorRegistry
    load_seconds: Histogram
    load_lines: Counter
    loads: Counter
    export_queue: Gauge
    sends: Counter


_lock = threading.Lock()
_metrics: ProcessMetrics | None = None


def process_metrics() -> ProcessMetrics:
    """The process's metrics (created on first use)."""
    global _metrics
    with _lock:
        if _metrics is None:
            registry = CollectorRegistry(auto_describe=True)
            _metrics = ProcessMetrics(
                registry=registry,
                load_seconds=Histogram(
                    "salesdash_load_duration_seconds",
                    "Duration of committed loads and stream batches (the load step, validation excluded), by kind.",
                    ["kind"],
                    buckets=LOAD_BUCKETS,
                    registry=registry,
                ),
                load_lines=Counter(
                    "salesdash_load_lines",
                    "Order lines committed by loads and stream batches, by kind.",
                    ["kind"],
                    registry=registry,
                ),
                loads=Counter(
                    "salesdash_loads",
                    "Committed loads and stream batches, by kind.",
                    ["kind"],
                    registry=registry,
                ),
                export_queue=Gauge(
                    "salesdash_export_queue_length",
                    "Exports waiting for or holding the renderer (PDF/PNG).",
                    registry=registry,
                ),
                sends=Counter(
                    "salesdash_sends",
                    "Messages of scheduled reports and alerts, by kind (report, alert), channel (email, "
                    "webhook) and result (sent, failed).",
                    ["kind", "channel", "result"],
                    registry=registry,
                ),
            )
        return _metrics


def observe_load(kind: str, seconds: float, lines: int) -> None:
    m = process_metrics()
    m.loads.labels(kind).inc()
    m.load_seconds.labels(kind).observe(max(seconds, 0.0))
    m.load_lines.labels(kind).inc(max(lines, 0))


def set_export_queue_length(length: int) -> None:
    process_metrics().export_queue.set(max(length, 0))


def count_send(kind: str, channel: str, ok: bool) -> None:
    process_metrics().sends.labels(kind, channel, "sent" if ok else "failed").inc()


__all__ = ["ProcessMetrics", "count_send", "observe_load", "process_metrics", "set_export_queue_length"]
