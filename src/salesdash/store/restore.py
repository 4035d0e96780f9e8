"""Restore a kept data version (see :mod:`salesdash.store.archive`): atomically, under the write lock, as a new
data version that says which version it restores."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, select

from salesdash.errors import NotFound
from salesdash.store.aggregates import rebuild_rollups
from salesdash.store.archive import DEFAULT_KEEP_VERSIONS, archive_lines
from salesdash.store.engine import ensure_schema
from salesdash.store.load import (
    DataVersion,
    _row_to_version,
    current_version,
    current_version_in,
    drop_leftover_stage,
)
from salesdash.store.lock import write_lock
from salesdash.store.schema import ORDER_LINE_COLUMNS, data_versions, line_archive, order_lines


def restore_version(
    engine: Engine,
    version: str,
    *,
    label: Callable[[str, datetime], str],
    loaded_at: datetime,
    keep: int = DEFAULT_KEEP_VERSIONS,
) -> DataVersion:
    """Make the kept data version ``version`` the current data again, as a new data version named
    ``label(its source_sha256, loaded_at)`` (``ingest.make_version``).

    NotFound when ``version`` was never loaded or its lines are no longer kept; RefreshInProgress (at once) when
    another load holds the write lock. Nothing changes on any error."""
    with write_lock(engine, purpose=f"restore of {version}"):
        ensure_schema(engine)
        with engine.begin() as conn:
            row = conn.execute(select(data_versions).where(data_versions.c.version == version)).first()
            kept = conn.execute(
                select(line_archive.c.data_version).where(line_archive.c.data_version == version).limit(1)
            ).first()
            if row is None or kept is None:
                raise NotFound(
                    f"Data version {version} cannot be restored: "
                    + ("no load has that version." if row is None else "its lines are no longer kept.")
                    + f" The last {keep} versions are kept (SALESDASH_KEEP_VERSIONS); see GET /api/data-versions.",
                    details=[{"data_version": version, "message": "unknown" if row is None else "pruned"}],
                )
            target = _row_to_version(row)
            new_version = label(target.source_sha256, loaded_at)
            previous = current_version_in(conn)
            drop_leftover_stage(conn)
            conn.execute(delete(order_lines))
            columns = [line_archive.c[name] for name in ORDER_LINE_COLUMNS]
            conn.execute(
                insert(order_lines).from_select(
                    list(ORDER_LINE_COLUMNS), select(*columns).where(line_archive.c.data_version == version)
                )
            )
            total = int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())
            rebuild_rollups(conn, new_version)
            report = {
                **target.report,
                "load_mode": "restore",
                "restored_from": version,
                "previous_data_version": previous.version if previous else None,
                "rows_before": previous.row_count if previous else 0,
            }
            conn.execute(
                insert(data_versions).values(
                    version=new_version,
                    source=f"restore:{version}",
                    source_sha256=target.source_sha256,
                    loaded_at=loaded_at,
                    row_count=total,
                    report=json.dumps(report, default=str),
                )
            )
            archive_lines(conn, new_version, keep)
        current = current_version(engine)
    assert current is not None
    return current
