"""Restorable data versions: each load keeps an exact copy of its order lines, and a restore brings one back.

Every load (replace, append, restore) copies the order lines it leaves into ``order_line_archive`` under its new
data version, in the load's own transaction, and prunes the archive to the newest ``keep`` versions
(SALESDASH_KEEP_VERSIONS; 0 keeps none). The copy is exact (the same integer cents, dates and texts), so a
restore gives the old figures to the cent; the rollups are rebuilt from the restored lines.

:func:`salesdash.store.restore.restore_version` makes a kept version current again, atomically and under the write lock, as a NEW data
version whose source is ``restore:<version>`` and whose report says which version it restores.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, String, Table, delete, insert, literal, select

from salesdash.store.engine import has_schema, snapshot
from salesdash.store.schema import ORDER_LINE_COLUMNS, data_versions, line_archive, order_lines

DEFAULT_KEEP_VERSIONS = 5


def archive_lines(conn: Connection, version: str, keep: int) -> None:
    """Copy the current order lines under ``version`` (already recorded in data_versions in this transaction)
    and keep only the newest ``keep`` versions' copies."""
    if keep > 0:
        copy_lines(conn, version, order_lines)
    prune_archive(conn, keep)


def copy_lines(conn: Connection, version: str, lines: Table) -> None:
    """Copy the rows of ``lines`` (order_lines or a table of its columns) into the archive under ``version``."""
    columns = [lines.c[name] for name in ORDER_LINE_COLUMNS]
    source = select(literal(version, String(64)).label("data_version"), *columns)
    conn.execute(insert(line_archive).from_select(["data_version", *ORDER_LINE_COLUMNS], source))


def prune_archive(conn: Connection, keep: int) -> None:
    """Keep the copies of the newest ``keep`` recorded versions only (a copy whose version was never recorded,
    left by a killed load, goes too)."""
    newest = conn.execute(
        select(data_versions.c.version).order_by(data_versions.c.id.desc()).limit(keep)
    ).all()
    kept = [row.version for row in newest]
    prune = delete(line_archive)
    if kept:
        prune = prune.where(line_archive.c.data_version.not_in(kept))
    conn.execute(prune)


def restorable_in(conn: Connection) -> set[str]:
    """The data versions whose lines are kept (a restore of any of them is possible)."""
    return {str(v) for v in conn.execute(select(line_archive.c.data_version).distinct()).scalars()}


def restorable(engine: Engine) -> set[str]:
    if not has_schema(engine):
        return set()
    with snapshot(engine) as conn:
        return restorable_in(conn)
