"""The one typed settings object.

Every knob is named, typed, defaulted and documented here (and in docs/configuration.md; a test keeps the
two in step). Values come from environment variables with the prefix ``SALESDASH_``. Nothing happens at
import time: call :func:`load_settings` (or construct :class:`Settings`) where the settings are needed.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from salesdash.errors import ConfigError

SUPPORTED_DIALECTS = ("sqlite", "duckdb", "postgresql")


def _default_database_url() -> str:
    return f"sqlite:///{(Path.cwd() / 'data' / 'salesdash.db').as_posix()}"


BUNDLED_SAMPLE = Path(__file__).parent / "data" / "sales_data_sample.csv"  # shipped in the package


def _default_source() -> Path:
    """``data/raw/sales_data_sample.csv`` under the working directory (a checkout), else the sample the package
    ships, so that ``salesdash run`` works from any directory after a plain install."""
    local = Path.cwd() / "data" / "raw" / "sales_data_sample.csv"
    return local if local.is_file() else BUNDLED_SAMPLE


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """salesdash settings; environment variable = ``SALESDASH_`` + field name in upper case."""

    model_config = SettingsConfigDict(env_prefix="SALESDASH_", extra="ignore", validate_default=True)

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL of the store: sqlite:///path, duckdb:///path or postgresql+psycopg://...; "
        "or a Spark Connect endpoint sc://host:port (Apache Spark).",
    )
    spark_database: str = Field(
        default="salesdash",
        description="On Spark: the database that holds the store (its data versions are the databases "
        "<name>__v<N> beside it).",
    )
    spark_location: str | None = Field(
        default=None,
        description="On Spark: a directory or URI every node of the cluster can read and write, where the "
        "store's databases are created (default: the cluster's warehouse directory).",
    )
    spark_ingest_bytes: int = Field(
        default=32 << 20,
        ge=0,
        description="On Spark: files of this many bytes or more are read, validated and cleaned by the cluster "
        "(in parallel, nothing collected to salesdash) when it can read them (SALESDASH_SPARK_SHARED_FILES); "
        "smaller ones are validated by salesdash and sent to the cluster in Arrow batches.",
    )
    spark_shared_files: Literal["auto", "yes", "no"] = Field(
        default="auto",
        description="On Spark: whether the cluster reads this machine's file paths (a shared file system). "
        "auto: yes when the Spark Connect server runs on this machine (the local cluster).",
    )
    source_path: Path = Field(
        default_factory=_default_source,
        description="CSV that `salesdash ingest` and a data refresh load when no file is given.",
    )
    api_host: str = Field(default="127.0.0.1", description="Interface the API binds to.")
    api_port: int = Field(default=5000, ge=1, le=65535, description="Port of the API.")
    dashboard_host: str = Field(default="127.0.0.1", description="Interface the dashboard binds to.")
    dashboard_port: int = Field(default=8501, ge=1, le=65535, description="Port of the dashboard.")
    api_url: str = Field(
        default="http://127.0.0.1:5000", description="Where the dashboard finds the API (base URL, no /api)."
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="Token the dashboard sends to the API: a viewer token, needed when the API has "
        "SALESDASH_REQUIRE_AUTH on. Never shown.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8501", "http://localhost:8501"],
        description="Origins allowed to call the API from a browser (comma-separated). `*` is refused.",
    )
    require_auth: bool = Field(default=False, description="If true, read endpoints need a viewer token too.")
    debug: bool = Field(default=False, description="Flask debug mode; refused unless api_host is loopback.")
    api_threads: int = Field(default=8, ge=1, le=256, description="Worker threads of the API server.")
    api_client_timeout: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="Seconds the API server keeps a connection that sends nothing (an idle keep-alive "
        "connection, or a request whose headers or body stop arriving) before closing it.",
    )
    api_max_connections: int = Field(
        default=1000,
        ge=10,
        le=10000,
        description="Open connections the API server accepts at once; past it, new ones wait in the "
        "listen backlog until one closes.",
    )
    request_timeout: float = Field(
        default=15.0, gt=0, le=600, description="Seconds the dashboard waits for one API call."
    )
    auto_refresh_seconds: int = Field(
        default=300, ge=0, le=86400, description="How often the dashboard checks for new data (0 = never)."
    )
    cache_entries: int = Field(default=512, ge=0, le=100000, description="API result cache size (0 = off).")
    export_renders: int = Field(
        default=1,
        ge=1,
        le=8,
        description="PNG/PDF exports rendered at once (one headless-browser tab each).",
    )
    export_queue: int = Field(
        default=3,
        ge=0,
        le=64,
        description="PNG/PDF exports that may wait for a render slot (up to 30 s); past it an export gets "
        "503 with Retry-After at once. Keep export_renders + export_queue below api_threads.",
    )
    export_browser_idle_seconds: int = Field(
        default=120,
        ge=0,
        le=86400,
        description="Seconds without an export after which the API closes its headless browser "
        "(0 = keep it open).",
    )
    max_upload_mb: int = Field(
        default=200, ge=1, le=10240, description="Largest CSV upload accepted, in MiB."
    )
    keep_versions: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Data versions kept restorable (`salesdash restore`, POST /api/data-versions/{version}/restore): "
        "the newest N loads keep an exact copy of their order lines; 0 keeps none.",
    )
    ingest_chunk_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Lines per chunk when a large file (more lines than one chunk) is ingested a chunk at a "
        "time: validated, cleaned and loaded with salesdash's own memory bounded by the chunk (the engine's may "
        "still grow with the one transaction), all in one transaction. Smaller chunks use less memory and "
        "add a little time per chunk.",
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    # -- scheduled reports, alerts, /metrics (docs/reports.md) --
    smtp_url: SecretStr | None = Field(
        default=None,
        description="SMTP server for reports and alerts: smtp://[user:password@]host[:port] or smtps://... "
        "(URL-encode the password). Never shown.",
    )
    smtp_tls: Literal["auto", "none", "starttls", "ssl"] = Field(
        default="auto",
        description="SMTP transport security: auto (smtps:// = ssl; smtp:// = starttls, plain to a loopback "
        "relay), none, starttls or ssl.",
    )
    smtp_from: str = Field(default="salesdash@localhost", description="Sender address of reports and alerts.")
    smtp_timeout: float = Field(
        default=15.0, gt=0, le=300, description="Seconds to wait for the SMTP server."
    )
    scheduler_enabled: bool = Field(
        default=True,
        description="Run the report and alert scheduler inside the API server process (`salesdash serve`, so "
        "also `salesdash run`).",
    )
    scheduler_interval_seconds: int = Field(
        default=30, ge=1, le=3600, description="How often the scheduler looks for due reports and retries."
    )
    report_grace_minutes: int = Field(
        default=60,
        ge=0,
        le=10080,
        description="Missed-run rule: after downtime the latest missed run is sent if at most this old; "
        "older ones are recorded as missed.",
    )
    report_retries: int = Field(
        default=3, ge=0, le=20, description="Retries of a failed report send (after the first attempt)."
    )
    report_retry_seconds: int = Field(
        default=60, ge=1, le=86400, description="First retry delay of a failed send; doubles on each retry."
    )
    alert_check_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="How often the scheduler checks alerts (they are also checked after every load).",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=120, description="Seconds to wait for an alert webhook."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for GET /metrics. Unset: /metrics is open on a loopback api_host and needs an "
        "admin token otherwise. Never shown.",
    )
    stream_url: str = Field(
        default="nats://127.0.0.1:4222", description="NATS server of the live order feed (nats://host:port)."
    )
    stream_name: str = Field(
        default="SALESDASH_ORDERS", description="JetStream stream holding the order lines."
    )
    stream_subject: str = Field(
        default="salesdash.orders",
        description="Subject the order lines are published on (one JSON object each).",
    )
    stream_durable: str = Field(
        default="salesdash-consumer", description="Durable consumer name: where `salesdash stream` resumes."
    )
    stream_dead_letter_subject: str = Field(
        default="salesdash.orders.dead",
        description="Subject refused messages are published on, with the reason.",
    )
    stream_batch_size: int = Field(
        default=5000, ge=1, le=100000, description="Most order lines one micro-batch commits."
    )
    stream_backlog_batch_size: int = Field(
        default=20000,
        ge=1,
        le=100000,
        description="Most order lines one micro-batch commits while a backlog waits: a batch that filled up "
        "lets the next one take twice as many lines, up to this; one that did not goes back to "
        "stream_batch_size.",
    )
    stream_batch_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Longest a micro-batch waits to fill before it commits."
    )
    stream_ack_wait_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="Seconds before NATS re-delivers a message that was not acknowledged.",
    )
    stream_enabled: bool = Field(
        default=False,
        description="If true, the API process runs the stream consumer itself (needed for DuckDB: one process "
        "per database file).",
    )
    live_poll_seconds: int = Field(
        default=3,
        ge=1,
        le=300,
        description="How often the dashboard checks for new data while a stream is live.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if value.startswith("sc://"):
            if not re.match(r"^sc://[A-Za-z0-9.\-\[\]:]+:\d{1,5}(/(;[A-Za-z0-9_\-]+=[^;\s]*)*)?$", value):
                raise ValueError(f"not a Spark Connect URL (sc://host:port): {value!r}")
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in SUPPORTED_DIALECTS:
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}; use one of {', '.join(SUPPORTED_DIALECTS)}"
            )
        return value

    @field_validator("spark_database")
    @classmethod
    def _check_spark_database(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,90}$", value):
            raise ValueError(f"must be a Spark database name (letters, digits, underscore), got {value!r}")
        return value

    @field_validator("spark_location")
    @classmethod
    def _check_spark_location(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or re.search(r"['\\`\s;]", value)):
            raise ValueError(
                f"must be a path or URI without quotes, backslashes, spaces or ';', got {value!r}"
            )
        return value or None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin must be an explicit http(s) origin, got {origin!r}")
        return value

    @field_validator("api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        from urllib.parse import urlsplit

        if value is None:
            return None
        try:
            parts = urlsplit(value.get_secret_value())
            ok = parts.scheme in ("smtp", "smtps") and bool(parts.hostname)
            _ = parts.port  # raises on a bad port
        except ValueError:
            ok = False
        if not ok:  # never echo the value: it may hold a password
            raise ValueError("must look like smtp://host[:port] or smtps://user:password@host[:port]")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        value = value.strip()
        if "@" not in value or any(c.isspace() or c in ",;<>" for c in value):
            raise ValueError(f"must be one e-mail address, got {value!r}")
        return value

    @field_validator("stream_url")
    @classmethod
    def _check_stream_url(cls, value: str) -> str:
        if not value.startswith(("nats://", "tls://")):
            raise ValueError(f"must start with nats:// or tls://, got {value!r}")
        return value

    @field_validator("stream_name", "stream_durable")
    @classmethod
    def _check_stream_names(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError(f"use 1 to 64 letters, digits, '_' or '-', got {value!r}")
        return value

    @field_validator("stream_subject", "stream_dead_letter_subject")
    @classmethod
    def _check_subjects(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", value) or len(value) > 255:
            raise ValueError(f"not a NATS subject (dot-separated tokens, no wildcards): {value!r}")
        return value

    @model_validator(mode="after")
    def _distinct_subjects(self) -> Settings:
        if self.stream_subject == self.stream_dead_letter_subject:
            raise ValueError("stream_dead_letter_subject must differ from stream_subject")
        return self

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
        return level

    @model_validator(mode="after")
    def _safe_debug(self) -> Settings:
        if self.debug and not is_loopback(self.api_host):
            raise ValueError(
                f"debug mode may only be used on a loopback address, not on api_host={self.api_host!r}"
            )
        return self

    @property
    def dialect(self) -> str:
        from sqlalchemy.engine import make_url

        if self.database_url.startswith("sc://"):
            return "spark"
        return make_url(self.database_url).get_backend_name()

    def store_options(self) -> dict[str, Any]:
        """Keyword arguments of ``store.make_engine`` besides the URL."""
        return {
            "spark_database": self.spark_database,
            "spark_location": self.spark_location,
            "spark_ingest_bytes": self.spark_ingest_bytes,
            "spark_shared_files": self.spark_shared_files,
        }


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (plus overrides), turning validation errors into one message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        details = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"SALESDASH_{field.upper()}" if err["loc"] else "settings"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{env}: {msg}")
            details.append({"setting": env, "message": msg})
        raise ConfigError("Invalid settings: " + "; ".join(problems), details=details) from None
