"""Cron timing with a time zone (APScheduler's crontab parser), in UTC-naive datetimes as the store keeps them.

Missed-run rule (docs/reports.md): when a scheduler finds runs that fell due while nothing was running, it
sends ONE run, the latest missed one, if that is at most ``grace`` old; otherwise it records the latest
missed run as ``missed`` and sends nothing. Either way the schedule moves on to its next future time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

from salesdash.errors import InvalidParameter

MAX_STEPS = 100_000  # fire times walked through when catching up (a minutely cron over ~10 weeks)


def zone(name: str) -> ZoneInfo:
    try:
        if name not in available_timezones() and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(
            f"timezone={name!r} is not an IANA time zone (for example Europe/Paris or UTC).",
            details=[{"parameter": "timezone", "value": name, "message": "not an IANA time zone"}],
        ) from None


def trigger(cron: str, timezone: str) -> CronTrigger:
    """The trigger of a five-field crontab expression (minute hour day month day-of-week) in ``timezone``."""
    tz = zone(timezone)
    try:
        return CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as exc:
        raise InvalidParameter(
            f"cron={cron!r} is not a five-field crontab expression (minute hour day month day-of-week, e.g. "
            f"'0 8 * * mon'): {exc}.",
            details=[{"parameter": "cron", "value": cron, "message": str(exc)}],
        ) from None


def to_utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def next_after(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (UTC-naive in, UTC-naive out)."""
    trig = trigger(cron, timezone)
    start = after.replace(tzinfo=UTC) + timedelta(microseconds=1)
    fire = trig.get_next_fire_time(None, start)
    if fire is None:  # pragma: no cover - a crontab always fires again
        raise InvalidParameter(f"cron={cron!r} never fires again.")
    return to_utc_naive(fire)


@dataclass(frozen=True)
class Due:
    """What a scheduler does with a schedule whose next run time has passed."""

    run_at: datetime | None  # the run to send (None: nothing to send)
    missed: datetime | None  # the latest missed run that was too old to send (recorded as missed)
    skipped: int  # earlier missed runs dropped by the rule
    next_run_at: datetime  # the schedule's next future run time


def catch_up(cron: str, timezone: str, next_run_at: datetime, now: datetime, grace: timedelta) -> Due:
    """Apply the missed-run rule to a schedule due at ``next_run_at`` <= ``now``."""
    latest = next_run_at
    skipped = 0
    following = next_after(cron, timezone, latest)
    steps = 0
    while following <= now and steps < MAX_STEPS:
        latest, following = following, next_after(cron, timezone, following)
        skipped += 1
        steps += 1
    if following <= now:  # more than MAX_STEPS behind: jump to the present
        following = next_after(cron, timezone, now)
    if now - latest <= grace:
        return Due(run_at=latest, missed=None, skipped=skipped, next_run_at=following)
    return Due(run_at=None, missed=latest, skipped=skipped, next_run_at=following)
