"""Two-step uploads: validate a CSV and keep it (server-side, for a while) until a person confirms the load.

1. :meth:`UploadStore.put` keeps a validated, cleaned file (``ingest.prepare``'s result) under a random id in a
   private temporary directory, with an expiry;
2. :func:`confirm` loads it atomically, replacing the data or appending to it (duplicates refused), and the
   upload is gone.

Nothing here knows about HTTP; the API's upload endpoints are thin wrappers.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Engine

from salesdash.errors import InvalidParameter, NotFound
from salesdash.ingest import PreparedData, load_prepared
from salesdash.ingest import make_version as _make_version
from salesdash.store import DataVersion, current_version
from salesdash.store.append import append_data
from salesdash.store.archive import DEFAULT_KEEP_VERSIONS
from salesdash.telemetry import observe_load

Mode = Literal["replace", "append"]
MODES: tuple[str, ...] = ("replace", "append")
TTL = timedelta(minutes=30)
MAX_PENDING = 20
PREVIEW_ROWS = 20
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Upload:
    """What the store remembers about a pending upload (the data itself is on disk)."""

    id: str
    source: str
    sha256: str
    rows: int
    created_at: str
    expires_at: str
    report: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadResult:
    mode: str
    version: DataVersion
    previous_version: str | None
    rows_loaded: int
    report: dict[str, Any]


def preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> tuple[list[str], list[dict[str, Any]]]:
    """The first ``rows`` cleaned order lines (money as SALES, not cents), for a person to eyeball."""
    head = frame.head(rows).copy()
    if "sales_cents" in head:
        head.insert(head.columns.get_loc("sales_cents"), "sales", head.pop("sales_cents") / 100)
    head = head.drop(
        columns=[c for c in ("year", "quarter", "month", "day", "iso_year", "iso_week") if c in head]
    )
    records = head.astype(object).where(head.notna(), None).to_dict("records")
    return [str(c) for c in head.columns], [
        {str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in records
    ]


class UploadStore:
    """Pending uploads in a private temporary directory (parquet + JSON per upload), expiring after ``ttl``.

    Thread-safe. At most ``max_pending`` uploads are kept; the oldest go first."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        ttl: timedelta = TTL,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="salesdash-uploads-")
        self.directory = Path(directory or self._tmp.name)  # type: ignore[union-attr]
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self.max_pending = max_pending
        self.clock = clock
        self._lock = threading.Lock()

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        return self.directory / f"{upload_id}.parquet", self.directory / f"{upload_id}.json"

    def _all(self) -> list[Upload]:
        out = []
        for meta in self.directory.glob("*.json"):
            try:
                out.append(Upload(**json.loads(meta.read_text("utf-8"))))
            except (OSError, ValueError, TypeError):
                meta.unlink(missing_ok=True)
        return sorted(out, key=lambda u: u.created_at)

    def _remove(self, upload_id: str) -> None:
        for path in self._paths(upload_id):
            path.unlink(missing_ok=True)

    def purge(self) -> None:
        """Drop expired uploads, and the oldest beyond ``max_pending``."""
        now = self.clock().isoformat()
        pending = []
        for upload in self._all():
            if upload.expires_at <= now:
                self._remove(upload.id)
            else:
                pending.append(upload)
        # room for one more
        for upload in pending[: max(0, len(pending) - self.max_pending + 1)]:
            self._remove(upload.id)

    def put(self, prepared: PreparedData) -> Upload:
        with self._lock:
            self.purge()
            upload_id = secrets.token_urlsafe(18)
            now = self.clock()
            upload = Upload(
                id=upload_id,
                source=Path(prepared.source).name
                if not prepared.source.startswith("upload:")
                else prepared.source[7:],
                sha256=prepared.sha256,
                rows=len(prepared.frame),
                created_at=now.isoformat(),
                expires_at=(now + self.ttl).isoformat(),
                report=json.loads(json.dumps(prepared.report, default=str)),
            )
            data, meta = self._paths(upload_id)
            prepared.frame.to_parquet(data, index=False)
            meta.write_text(json.dumps(upload.to_dict()), "utf-8")
            return upload

    def get(self, upload_id: str) -> tuple[Upload, PreparedData]:
        """The pending upload ``upload_id``, or NotFound (unknown, expired or already confirmed)."""
        gone = NotFound(
            f"No pending upload {upload_id!r}: it was never made, was already confirmed, or expired (uploads are "
            f"kept for {int(self.ttl.total_seconds() // 60)} minutes). Upload the file again.",
            details=[{"parameter": "upload_id", "value": upload_id, "message": "unknown or expired"}],
        )
        if not _ID.match(upload_id):
            raise gone
        with self._lock:
            data, meta = self._paths(upload_id)
            if not meta.is_file() or not data.is_file():
                raise gone
            upload = Upload(**json.loads(meta.read_text("utf-8")))
            if upload.expires_at <= self.clock().isoformat():
                self._remove(upload_id)
                raise gone
            frame = pd.read_parquet(data)
        frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
        # text as the ingest made it: Python str / None (parquet gives pandas str / NaN)
        for column in frame.columns:
            if pd.api.types.is_string_dtype(frame[column]) and column != "order_date":
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        prepared = PreparedData(frame=frame, report=upload.report, sha256=upload.sha256, source=upload.source)
        return upload, prepared

    def discard(self, upload_id: str) -> None:
        if _ID.match(upload_id):
            with self._lock:
                self._remove(upload_id)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def check_mode(mode: Any) -> Mode:
    if mode not in MODES:
        raise InvalidParameter(
            f"mode must be 'replace' or 'append', got {mode!r}.",
            details=[{"parameter": "mode", "value": mode, "message": "replace or append"}],
        )
    return mode


def confirm(
    engine: Engine,
    prepared: PreparedData,
    mode: Mode,
    *,
    source: str,
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
) -> LoadResult:
    """Load ``prepared`` atomically: ``replace`` the stored data, or ``append`` to it (refusing order lines
    that are already stored). The data version's report is the upload's quality report plus how it was loaded."""
    check_mode(mode)
    previous = current_version(engine)
    report = {
        **prepared.report,
        "load_mode": mode,
        "previous_data_version": previous.version if previous else None,
        "rows_before": previous.row_count if previous else 0,
    }
    if mode == "replace" or previous is None:
        result = load_prepared(
            engine, replace(prepared, report=report, source=source), keep_versions=keep_versions
        )
        version = result.version
    else:
        started = time.perf_counter()
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        version = append_data(
            engine,
            prepared.frame,
            version=_make_version(prepared.sha256, loaded_at),
            source=source,
            source_sha256=prepared.sha256,
            loaded_at=loaded_at,
            report=report,
            keep_versions=keep_versions,
        )
        observe_load("append", time.perf_counter() - started, len(prepared.frame))
    return LoadResult(
        mode=mode,
        version=version,
        previous_version=previous.version if previous else None,
        rows_loaded=len(prepared.frame),
        report=report,
    )
