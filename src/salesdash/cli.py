"""The `salesdash` command: thin argument parsing over the library. Errors are one clear message, never a
traceback (set SALESDASH_LOG_LEVEL=DEBUG to see one)."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from salesdash import __version__
from salesdash.config import Settings, load_settings
from salesdash.errors import ConfigError, InvalidParameter, SalesdashError

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 70


class Progress:
    """Prints ingest/generate progress to stderr: a live line on a terminal, a line per step otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, int] = ("", -1)
        self.started = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        step = pct if self.tty else pct // 25 * 25
        if (stage, step) == self.last:
            return
        self.last = (stage, step)
        elapsed = time.monotonic() - self.started
        text = f"{stage:>9}: {pct:3d}%  ({done:,}/{total:,})  {elapsed:6.1f}s"
        if self.tty:
            end = "\n" if done >= total else ""
            print("\r" + text, end=end, file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)


def _engine(settings: Settings) -> Any:
    from salesdash.store import make_engine

    return make_engine(settings.database_url, **settings.store_options())


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.ingest import format_report, ingest_file

    path = Path(args.path) if args.path else settings.source_path
    if args.mode == "append":
        return _ingest_append(args, settings, path)
    result = ingest_file(
        _engine(settings),
        path,
        encoding=args.encoding,
        on_error=args.on_error,
        rejects_path=args.rejects,
        progress=None if args.quiet else Progress(),
        keep_versions=settings.keep_versions,
        chunk_rows=settings.ingest_chunk_rows,
    )
    print(format_report(result.report))
    print(f"data version:  {result.version.version}")
    _audit_cli(
        settings,
        "data.ingest",
        {"source": path.name, "on_error": args.on_error, "rows": result.version.row_count},
    )
    if args.on_error == "skip" and result.report["rows_rejected"] and args.rejects:
        print(f"rejected rows written to {args.rejects}")
    if args.write_processed:
        _write_processed(settings, Path(args.write_processed), args.quiet)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from salesdash.ingest import make_version
    from salesdash.store.restore import restore_version

    engine = _engine(settings)
    try:
        restored = restore_version(
            engine,
            args.version,
            label=make_version,
            loaded_at=datetime.now(UTC).replace(tzinfo=None),
            keep=settings.keep_versions,
        )
    except SalesdashError:
        _audit_cli(settings, "data.restore", {"version": args.version}, "refused")
        raise
    _audit_cli(settings, "data.restore", {"version": args.version, "rows": restored.row_count})
    print(f"restored data version {args.version}: {restored.row_count:,} order lines")
    print(f"data version:  {restored.version}")
    return 0


def cmd_versions(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.store import version_history
    from salesdash.store.archive import restorable

    engine = _engine(settings)
    history = version_history(engine, limit=args.limit)
    if not history:
        print("No data loaded yet. Load a file with `salesdash ingest FILE`.")
    kept = restorable(engine)
    for v in history:
        mark = "restorable" if v.version in kept else "-"
        print(f"{v.version}  {v.loaded_at:%Y-%m-%d %H:%M}  {v.row_count:>9,} lines  {mark:<10}  {v.source}")
    return 0


def _ingest_append(args: argparse.Namespace, settings: Settings, path: Path) -> int:
    """`ingest --mode append`: the Data page's append path (ingest.uploads.confirm), refusing stored lines."""
    from salesdash.ingest import format_report, prepare
    from salesdash.ingest.uploads import confirm
    from salesdash.store.lock import write_lock

    engine = _engine(settings)
    parameters = {"source": path.name, "on_error": args.on_error, "mode": "append"}
    with write_lock(engine, f"append of {path.name}"):
        prepared = prepare(
            path,
            encoding=args.encoding,
            on_error=args.on_error,
            rejects_path=args.rejects,
            progress=None if args.quiet else Progress(),
        )
        try:
            result = confirm(
                engine, prepared, "append", source=str(path), keep_versions=settings.keep_versions
            )
        except SalesdashError:
            _audit_cli(settings, "data.ingest", parameters, "refused")
            raise
    print(format_report(result.report))
    print(f"appended:      {result.rows_loaded:,} order lines ({result.version.row_count:,} stored in all)")
    print(f"data version:  {result.version.version}")
    _audit_cli(settings, "data.ingest", parameters | {"rows": result.version.row_count})
    if args.write_processed:
        _write_processed(settings, Path(args.write_processed), args.quiet)
    return 0


def _write_processed(settings: Settings, directory: Path, quiet: bool) -> None:
    from salesdash.processed import write_processed

    written = write_processed(_engine(settings), directory, progress=None if quiet else Progress())
    print(f"processed data ({written.line_count:,} lines, data version {written.data_version}):")
    for path in written.files.values():
        print(f"  {path}")


def cmd_export_processed(args: argparse.Namespace, settings: Settings) -> int:
    _write_processed(settings, Path(args.directory), args.quiet)
    return 0


def ensure_data(settings: Settings) -> None:
    """Ingest the configured source when the store has no data yet (first `make run`)."""
    from salesdash.ingest import format_report, ingest_file
    from salesdash.store import current_version

    engine = _engine(settings)
    if current_version(engine) is None:
        print(f"No data yet: ingesting {settings.source_path} ...", file=sys.stderr)
        result = ingest_file(
            engine,
            settings.source_path,
            progress=Progress(),
            keep_versions=settings.keep_versions,
            chunk_rows=settings.ingest_chunk_rows,
        )
        print(format_report(result.report), file=sys.stderr)
    engine.dispose()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.api.server import serve

    settings = load_settings(**_overrides(settings, api_host=args.host, api_port=args.port))
    serve(settings)
    return 0


def dashboard_command(settings: Settings) -> list[str]:
    app = Path(__file__).parent / "dashboard" / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        settings.dashboard_host,
        "--server.port",
        str(settings.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
    ]


def _overrides(settings: Settings, **values: Any) -> dict[str, Any]:
    current = settings.model_dump()
    current.update({k: v for k, v in values.items() if v is not None})
    return current


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    settings = load_settings(**_overrides(settings, dashboard_host=args.host, dashboard_port=args.port))
    env = os.environ | {"SALESDASH_API_URL": settings.api_url}
    return subprocess.call(dashboard_command(settings), env=env)  # noqa: S603 (fixed argv, no shell)


def check_port_free(host: str, port: int, what: str, flag: str, setting: str) -> None:
    """Refuse to start when ``host:port`` is taken, naming the port and how to choose another (a listening
    socket blocks the bind; connections lingering in TIME_WAIT do not, as for the servers themselves)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else "may not be used by this user"
            raise ConfigError(
                f"port {port} on {host} (the {what}) {reason}: stop what is using it, or choose another port "
                f"with {flag} PORT (or the {setting} setting)."
            ) from None


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    settings = load_settings(
        **_overrides(settings, api_port=args.api_port, dashboard_port=args.dashboard_port)
    )
    if settings.api_port == settings.dashboard_port:
        raise ConfigError(
            f"the API and the dashboard cannot share port {settings.api_port}: give them different ports "
            "(--api-port, --dashboard-port)."
        )
    # before anything starts (or is loaded): a busy port is said once, clearly, not as a server's traceback
    check_port_free(settings.api_host, settings.api_port, "API", "--api-port", "SALESDASH_API_PORT")
    check_port_free(
        settings.dashboard_host,
        settings.dashboard_port,
        "dashboard",
        "--dashboard-port",
        "SALESDASH_DASHBOARD_PORT",
    )
    ensure_data(settings)
    env = os.environ | {
        "SALESDASH_API_URL": f"http://{settings.api_host}:{settings.api_port}",
        "SALESDASH_DATABASE_URL": settings.database_url,
        "SALESDASH_API_PORT": str(settings.api_port),
    }
    api = [sys.executable, "-m", "salesdash", "serve"]
    children = [
        subprocess.Popen(api, env=env),  # noqa: S603
        subprocess.Popen(dashboard_command(settings), env=env),  # noqa: S603
    ]
    print(
        f"API:       http://{settings.api_host}:{settings.api_port}/api  (docs at /api/docs)\n"
        f"Dashboard: http://{settings.dashboard_host}:{settings.dashboard_port}\n"
        "Press Ctrl-C to stop both.",
        file=sys.stderr,
        flush=True,
    )

    def stop(*_: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        code = next(c.returncode for c in children if c.poll() is not None) or 0
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    print("Stopped.", file=sys.stderr)
    return code


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.generate import Shape, generate

    out = generate(
        rows=args.rows,
        out=Path(args.out),
        seed=args.seed,
        source=Path(args.source) if args.source else None,
        shape=Shape(
            customers=args.customers, products=args.products, years=args.years, realistic=args.realistic
        ),
        progress=None if args.quiet else Progress(),
    )
    print(f"wrote {args.rows:,} rows to {out}")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.tokens import create_token

    token = create_token(_engine(settings), args.role, args.name or "")
    _audit_cli(settings, "token.create", {"role": args.role, "name": args.name or ""})
    print(token)
    print(f"(role {args.role}; shown once, store it safely)", file=sys.stderr)
    return 0


def _audit_cli(settings: Settings, action: str, parameters: dict[str, Any], result: str = "ok") -> None:
    """Record a CLI write in the audit log (actor cli: a local operator, no token)."""
    from salesdash.audit import Entry, record
    from salesdash.store import current_version_label

    engine = _engine(settings)
    record(
        engine,
        Entry(
            action=action,
            result=result,
            parameters=parameters,
            actor="cli",
            role="operator",
            status=0,
            data_version=current_version_label(engine),
        ),
    )


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.tokens import list_tokens

    tokens = list_tokens(_engine(settings))
    if not tokens:
        print("No tokens. Create one with `salesdash token create --role viewer|admin`.")
    for t in tokens:
        print(f"{t['id']:>4}  {t['role']:<6}  {t['created_at']:%Y-%m-%d %H:%M}  {t['name']}")
    return 0


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.tokens import revoke_token

    gone = revoke_token(_engine(settings), args.id)
    _audit_cli(settings, "token.revoke", {"token_id": gone["id"], "name": gone["name"], "role": gone["role"]})
    print(f"revoked token {gone['id']} ({gone['role']}, {gone['name']}); it no longer works")
    return 0


def _schedule_line(item: dict[str, Any]) -> str:
    last = item.get("last_run") or {}
    state = "paused" if item["paused"] else f"next {item['next_run_at']:%Y-%m-%d %H:%M} UTC"
    status = last.get("status", "never run")
    if last.get("error"):
        status += f" ({last['error']})"
    filters = json_text(item["filters"])
    return (
        f"{item['id']:>4}  {item['name']}  [{item['cron']} {item['timezone']}; {state}]  view={item['view']} "
        f"formats={','.join(item['formats'])} filters={filters} to {', '.join(item['recipients'])}; last: {status}"
    )


def json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def cmd_report_add(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.reports import schedules

    filters: dict[str, list[str]] = {}
    for item in args.filter or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidParameter(f"--filter {item!r}: use NAME=VALUE, e.g. --filter country=France")
        filters.setdefault(name.strip(), []).append(value.strip())
    body = {
        "name": args.name,
        "view": args.view,
        "filters": filters,
        "formats": args.format or ["pdf"],
        "cron": args.cron,
        "timezone": args.timezone,
        "recipients": args.to,
    }
    created = schedules.create(_engine(settings), body)
    _audit_cli(settings, "schedule.create", {"id": created["id"], "body": body})
    print(_schedule_line(created))
    return 0


def cmd_report_list(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.reports import schedules

    items = schedules.all_schedules(_engine(settings))
    if not items:
        print("No scheduled reports. Add one with `salesdash report add`.")
    for item in items:
        print(_schedule_line(item))
    return 0


def cmd_report_remove(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.reports import schedules

    gone = schedules.remove(_engine(settings), args.id)
    _audit_cli(settings, "schedule.delete", {"id": args.id, "name": gone["name"]})
    print(f"removed report {args.id} ({gone['name']})")
    return 0


def cmd_report_send(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.reports import runner

    run = runner.send_now(_engine(settings), settings, args.id)
    _audit_cli(settings, "schedule.send", {"id": args.id}, "ok" if run["status"] == "sent" else "failed")
    if run["status"] != "sent":
        raise SalesdashError(
            f"report {args.id} was not sent: {run['error']} (the scheduler retries it; `salesdash report list`)"
        )
    print(f"report {args.id} sent (data version {run['data_version']})")
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.reports import alerts, runner, scheduler

    engine = _engine(settings)
    if args.once:
        outcome = runner.run_due(engine, settings)
        events = alerts.check_all(engine, settings, trigger="schedule")
        print(
            f"reports: {len(outcome.sent)} sent, {len(outcome.failed)} failed, {len(outcome.missed)} missed; "
            f"alerts: {len(events)} fired or cleared"
        )
        return 0
    print(
        f"scheduler: reports every {settings.scheduler_interval_seconds}s, alerts every "
        f"{settings.alert_check_minutes} min. Press Ctrl-C to stop.",
        file=sys.stderr,
        flush=True,
    )
    scheduler.run_blocking(engine, settings)
    return 0


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def cmd_stream(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.store import ensure_schema
    from salesdash.stream.consumer import StreamConsumer, default_hooks

    engine = _engine(settings)
    ensure_schema(engine)  # a DuckDB file held by the API is refused here, with what to do instead
    print(
        f"consuming {settings.stream_subject} (stream {settings.stream_name}, durable {settings.stream_durable}) "
        f"from {settings.stream_url} into {engine.url.get_backend_name()}; Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    StreamConsumer(settings, engine, after_batch=default_hooks(settings, engine)).run()
    engine.dispose()
    print("Stopped.", file=sys.stderr)
    return 0


def cmd_stream_publish(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash.stream.publisher import publish_file

    count = publish_file(
        settings, Path(args.path), rate=args.rate, progress=None if args.quiet else Progress()
    )
    print(f"published {count:,} order lines on {settings.stream_subject}")
    return 0


def positive_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of lines per second, got {text}")
    return value


def cmd_spark(args: argparse.Namespace, settings: Settings) -> int:
    from salesdash import spark_cluster

    run_dir = Path(args.run_dir) if args.run_dir else spark_cluster.default_run_dir()
    state, alive = spark_cluster.status(run_dir)
    if args.spark_command == "status":
        if state is None or not any(alive.values()):
            print(f"no local Spark cluster runs from {run_dir}")
            return 1
        for name, up in alive.items():
            print(f"{name:>8}: {'running' if up else 'stopped'} (pid {state.pids[name]})")
        print(f"SALESDASH_DATABASE_URL={state.url}")
        return 0 if all(alive.values()) else 1
    if args.spark_command == "stop":
        if state is None:
            print(f"no local Spark cluster runs from {run_dir}")
            return 0
        spark_cluster.stop(state)
        print("stopped the local Spark cluster")
        return 0
    print(f"starting a local Spark cluster in {run_dir} (about a minute) ...", file=sys.stderr)
    config = spark_cluster.ClusterConfig(run_dir=run_dir, workers=args.workers, connect_port=args.port)
    state = spark_cluster.start(config)
    print(f"Spark Connect is ready. Use it with:\n  export SALESDASH_DATABASE_URL={state.url}")
    print(
        "Its tables live while it runs (ingest again after a restart); stop it with `salesdash spark stop`."
    )
    return 0


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


EXAMPLES = """examples:
  salesdash run                               load the bundled sample if needed, start the API and dashboard
  salesdash ingest sales.csv                  validate a CSV and make it the data
  salesdash ingest more.csv --mode append     add a CSV's order lines to the stored ones
  salesdash versions                          the data loads, and which can be restored
  salesdash restore VERSION                   make an earlier load current again
  salesdash token create --role admin         an API token for uploads, refreshes and restores
  salesdash COMMAND --help                    a command's options and the settings it reads

settings are environment variables (SALESDASH_*), listed in docs/configuration.md"""

# The settings each command reads (field names of config.Settings; its descriptions are shown in --help).
COMMON_SETTINGS = ("database_url", "log_level")
COMMAND_SETTINGS: dict[str, tuple[str, ...]] = {
    "ingest": (
        "source_path",
        "keep_versions",
        "ingest_chunk_rows",
        "spark_ingest_bytes",
        "spark_shared_files",
    ),
    "restore": ("keep_versions",),
    "versions": (),
    "export-processed": (),
    "serve": (
        "api_host",
        "api_port",
        "api_threads",
        "api_token",
        "require_auth",
        "cors_origins",
        "debug",
        "cache_entries",
        "max_upload_mb",
        "keep_versions",
        "source_path",
        "scheduler_enabled",
        "metrics_token",
        "api_client_timeout",
        "api_max_connections",
        "export_renders",
        "export_queue",
        "export_browser_idle_seconds",
        "stream_enabled",
        "spark_database",
        "spark_location",
        "spark_ingest_bytes",
        "spark_shared_files",
    ),
    "dashboard": (
        "dashboard_host",
        "dashboard_port",
        "api_url",
        "request_timeout",
        "auto_refresh_seconds",
        "live_poll_seconds",
    ),
    "run": (
        "source_path",
        "api_host",
        "api_port",
        "dashboard_host",
        "dashboard_port",
        "keep_versions",
        "ingest_chunk_rows",
    ),
    "generate": ("source_path",),
    "token": (),
    "stream": (
        "stream_url",
        "stream_name",
        "stream_subject",
        "stream_durable",
        "stream_dead_letter_subject",
        "stream_batch_size",
        "stream_backlog_batch_size",
        "stream_batch_seconds",
        "stream_ack_wait_seconds",
    ),
    "spark": (),
    "report": ("smtp_url", "smtp_tls", "smtp_from", "smtp_timeout", "report_retries", "report_retry_seconds"),
    "scheduler": (
        "scheduler_interval_seconds",
        "alert_check_minutes",
        "report_grace_minutes",
        "report_retries",
        "report_retry_seconds",
        "smtp_url",
        "smtp_tls",
        "smtp_from",
        "smtp_timeout",
        "webhook_timeout",
    ),
}


def settings_epilog(command: str) -> str:
    """The environment settings ``command`` reads, each with its description from config.Settings."""
    fields = Settings.model_fields
    lines = ["environment settings (docs/configuration.md):"]
    for name in (*COMMON_SETTINGS, *COMMAND_SETTINGS[command]):
        lines.append(f"  SALESDASH_{name.upper():<28} {fields[name].description or ''}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesdash",
        description="Sales analytics: ETL, API and dashboard.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"salesdash {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "ingest",
        epilog=settings_epilog("ingest"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="validate a CSV or Parquet file of order lines and load it (atomically)",
    )
    p.add_argument(
        "path", nargs="?", help="CSV or Parquet file (default: SALESDASH_SOURCE_PATH, the bundled sample)"
    )
    p.add_argument(
        "--encoding", help="CSV encoding (default: detected: UTF-8, UTF-8 with BOM, cp437, cp1252)"
    )
    p.add_argument(
        "--on-error",
        choices=("strict", "skip"),
        default="strict",
        help="strict (default): refuse the file on any bad row; skip: load the good rows, report the rest",
    )
    p.add_argument("--rejects", help="with --on-error skip: write rejected rows and reasons to this CSV")
    p.add_argument(
        "--mode",
        choices=("replace", "append"),
        default="replace",
        help="replace (default): the file becomes the data; append: add its lines to the stored ones (refused, "
        "with the count, when any of its order lines is already stored)",
    )
    p.add_argument(
        "--write-processed",
        metavar="DIR",
        help="after the load, write the processed lines (CSV, Parquet) and the quality report (text, JSON) to DIR",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "restore",
        epilog=settings_epilog("restore"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="make a kept data version current again (as a new data version; see `salesdash versions`)",
    )
    p.add_argument("version", help="data version to restore (one of the last SALESDASH_KEEP_VERSIONS loads)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser(
        "versions",
        epilog=settings_epilog("versions"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="list the data loads, newest first, and which can be restored",
    )
    p.add_argument("--limit", type=positive_int, default=10, help="number of loads (default 10)")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser(
        "export-processed",
        epilog=settings_epilog("export-processed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write the stored data's processed lines (CSV, Parquet) and quality report (text, JSON) to a folder",
    )
    p.add_argument("directory", metavar="DIR", help="output folder (created if needed)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_export_processed)

    p = sub.add_parser(
        "serve",
        epilog=settings_epilog("serve"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="start the REST API",
    )
    p.add_argument("--host", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 5000)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "dashboard",
        epilog=settings_epilog("dashboard"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="start the dashboard",
    )
    p.add_argument("--host", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8501)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser(
        "run",
        epilog=settings_epilog("run"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="ingest the bundled data if needed, then start the API and the dashboard",
    )
    p.add_argument("--api-port", type=port_number, help="API port (default: SALESDASH_API_PORT, 5000)")
    p.add_argument(
        "--dashboard-port", type=port_number, help="dashboard port (default: SALESDASH_DASHBOARD_PORT, 8501)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "generate",
        epilog=settings_epilog("generate"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write a synthetic CSV in the source schema by resampling real orders",
    )
    p.add_argument("--rows", type=positive_int, required=True, help="number of order lines")
    p.add_argument("--out", required=True, help="output file (.csv, .csv.gz or .parquet)")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same file)")
    p.add_argument("--source", help="CSV to resample (default: the bundled sample, shipped in the package)")
    p.add_argument(
        "--customers",
        type=positive_int,
        help="number of customers, each a copy of a source customer of the same country (default: the source's)",
    )
    p.add_argument(
        "--products",
        type=positive_int,
        help="number of product codes, each a copy of a source code of the same line (default: the source's)",
    )
    p.add_argument(
        "--years",
        type=positive_int,
        help="spread the dates over this many years up to the source's last date (default: the source's range)",
    )
    p.add_argument(
        "--realistic",
        action="store_true",
        help="realistic cardinality for the size: a customer per 50 lines, a product code per 500, 5 years",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser(
        "stream",
        epilog=settings_epilog("stream"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="consume the live order feed (NATS JetStream) into the store",
    )
    p.set_defaults(func=cmd_stream)
    stream_sub = p.add_subparsers(dest="stream_command", metavar="ACTION")
    t = stream_sub.add_parser("publish", help="replay a CSV of order lines as a live feed")
    t.add_argument(
        "path", help="CSV file of order lines (e.g. the bundled sample or a `salesdash generate` CSV)"
    )
    t.add_argument(
        "--rate", type=positive_rate, help="lines per second (default: as fast as NATS takes them)"
    )
    t.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    t.set_defaults(func=cmd_stream_publish)

    p = sub.add_parser(
        "token",
        epilog=settings_epilog("token"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="manage API tokens",
    )
    token_sub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    t = token_sub.add_parser(
        "create",
        epilog=settings_epilog("token"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="create a token and print it once",
    )
    t.add_argument("--role", required=True, choices=("viewer", "admin"))
    t.add_argument("--name", help="a label for the token (who or what uses it)")
    t.set_defaults(func=cmd_token_create)
    t = token_sub.add_parser(
        "list",
        epilog=settings_epilog("token"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="list tokens (id, role, created, name; never the token)",
    )
    t.set_defaults(func=cmd_token_list)
    t = token_sub.add_parser(
        "revoke",
        epilog=settings_epilog("token"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="revoke a token by id (it stops working at once)",
    )
    t.add_argument("id", type=positive_int, help="token id (from `salesdash token list`)")
    t.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser(
        "report",
        epilog=settings_epilog("report"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="scheduled reports by e-mail",
    )
    report_sub = p.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    r = report_sub.add_parser(
        "add",
        epilog=settings_epilog("report"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="schedule a report",
    )
    r.add_argument("--name", required=True, help="what the report is")
    r.add_argument("--cron", required=True, help="minute hour day month day-of-week, e.g. '0 8 * * mon'")
    r.add_argument("--timezone", default="UTC", help="IANA time zone of the cron (default UTC)")
    r.add_argument("--to", required=True, action="append", help="recipient address (repeat for several)")
    r.add_argument("--view", default="kpis", help="export view (default kpis = the full PDF report)")
    r.add_argument("--format", action="append", choices=("pdf", "xlsx"), help="pdf (default) and/or xlsx")
    r.add_argument("--filter", action="append", help="NAME=VALUE filter, e.g. country=France (repeat)")
    r.set_defaults(func=cmd_report_add)
    r = report_sub.add_parser(
        "list",
        epilog=settings_epilog("report"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="list scheduled reports with their last run",
    )
    r.set_defaults(func=cmd_report_list)
    r = report_sub.add_parser(
        "remove",
        epilog=settings_epilog("report"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="delete a scheduled report",
    )
    r.add_argument("id", type=positive_int)
    r.set_defaults(func=cmd_report_remove)
    r = report_sub.add_parser(
        "send",
        epilog=settings_epilog("report"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="send a scheduled report now",
    )
    r.add_argument("id", type=positive_int)
    r.set_defaults(func=cmd_report_send)

    p = sub.add_parser(
        "scheduler",
        epilog=settings_epilog("scheduler"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="run the report and alert scheduler (Ctrl-C stops it)",
    )
    p.add_argument("--once", action="store_true", help="send what is due and check alerts once, then exit")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser(
        "spark",
        epilog=settings_epilog("spark"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="a local Apache Spark cluster (master, workers, Spark Connect) to try Spark",
    )
    spark_sub = p.add_subparsers(dest="spark_command", required=True, metavar="ACTION")
    for action, text in (
        ("start", "start it and print the URL to set"),
        ("stop", "stop it"),
        ("status", "show it"),
    ):
        s = spark_sub.add_parser(action, help=text)
        s.add_argument("--run-dir", help="state, logs and tables (default: ~/.cache/salesdash/spark)")
        if action == "start":
            s.add_argument("--port", type=int, default=15002, help="Spark Connect port (default 15002)")
            s.add_argument("--workers", type=positive_int, default=2, help="workers of 1 core (default 2)")
        s.set_defaults(func=cmd_spark)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if not (
        sys.argv[1:] if argv is None else list(argv)
    ):  # bare `salesdash`: help with examples, not an error
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    level = os.environ.get("SALESDASH_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
        return int(args.func(args, settings))
    except SalesdashError as exc:
        print(f"salesdash: error: {exc.message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("salesdash: interrupted; nothing was changed.", file=sys.stderr)
        return 130
    except Exception as exc:
        from salesdash.store import explain

        if (known := explain(exc)) is not None:  # a full disk, a damaged database file: say so, exit 2
            print(f"salesdash: error: {known.message}", file=sys.stderr)
            return EXIT_USER_ERROR
        if level == "DEBUG":
            raise
        print(
            f"salesdash: unexpected error ({type(exc).__name__}): {exc}. "
            "Run again with SALESDASH_LOG_LEVEL=DEBUG for details.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
