"""The scheduler (APScheduler): every ``SALESDASH_SCHEDULER_INTERVAL_SECONDS`` it sends the reports that are
due (and retries), every ``SALESDASH_ALERT_CHECK_MINUTES`` it checks the alerts.

It runs inside the API server process (``salesdash serve``, and so ``salesdash run``) when
``SALESDASH_SCHEDULER_ENABLED`` is on (a DuckDB file can be opened by one process only), or alone as
``salesdash scheduler``. Several schedulers on one database are safe: each run is claimed in the database, so
exactly one of them sends it.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from salesdash.config import Settings
from salesdash.reports import alerts, runner

log = logging.getLogger(__name__)


def _reports_job(engine: Engine, settings: Settings) -> None:
    try:
        outcome = runner.run_due(engine, settings)
    except Exception:
        log.exception("scheduled reports: the run failed (next try at the next interval)")
        return
    if outcome.sent or outcome.failed or outcome.missed:
        log.info(
            "scheduled reports: %d sent, %d failed, %d missed",
            len(outcome.sent),
            len(outcome.failed),
            len(outcome.missed),
        )


def _alerts_job(engine: Engine, settings: Settings) -> None:
    try:
        alerts.check_all(engine, settings, trigger="schedule")
    except Exception:
        log.exception("alert check failed (next try at the next interval)")


def configure(scheduler: BaseScheduler, engine: Engine, settings: Settings) -> BaseScheduler:
    common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        _reports_job,
        "interval",
        seconds=settings.scheduler_interval_seconds,
        args=(engine, settings),
        id="salesdash-reports",
        **common,
    )
    scheduler.add_job(
        _alerts_job,
        "interval",
        minutes=settings.alert_check_minutes,
        args=(engine, settings),
        id="salesdash-alerts",
        **common,
    )
    return scheduler


def start_background(engine: Engine, settings: Settings) -> BackgroundScheduler:
    """Start the jobs in a daemon thread of this process (the API server); returns the scheduler."""
    scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
    configure(scheduler, engine, settings)
    scheduler.start()
    log.info(
        "scheduler started: reports every %ss, alerts every %s min",
        settings.scheduler_interval_seconds,
        settings.alert_check_minutes,
    )
    return scheduler


def run_blocking(engine: Engine, settings: Settings) -> None:
    """Run the jobs in the foreground until Ctrl-C / SIGTERM (``salesdash scheduler``)."""
    scheduler = BlockingScheduler(timezone="UTC")
    configure(scheduler, engine, settings)
    _reports_job(engine, settings)  # what fell due while nothing ran, at once
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
