"""Scheduled reports and alerts (issue #17): definitions stored in the database, sent by e-mail (SMTP) and
webhooks, run by a scheduler inside the API process or `salesdash scheduler`. See docs/reports.md.

- :mod:`.schedules` - report schedules (view, filters, formats, cron + time zone, recipients) and their runs;
- :mod:`.runner` - :func:`~.runner.run_due` (claim, build, send, retry with backoff) and ``send_now``;
- :mod:`.alerts` - alert rules, their checks and notifications; :func:`~.alerts.after_load` is the hook to
  call after every committed load or stream batch;
- :mod:`.scheduler` - the APScheduler jobs; :mod:`.mail` - SMTP and webhooks; :mod:`.timing` - cron rules.
"""
