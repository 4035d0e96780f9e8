"""Appending order lines to the stored data, atomically, refusing duplicates.

The counterpart of :func:`salesdash.store.replace_data` for "add this file to what is there": under the
database's write lock and in ONE transaction it checks the new lines against the stored ones, inserts them and
records the new data version. Nothing is written when a check fails:

- an order line whose (ORDERNUMBER, ORDERLINENUMBER) is already stored -> :class:`DuplicateOrderLines` (409),
  listing them;
- a new line of a stored order that gives the order another customer, date or status -> ValidationFailed (422),
  since an order has one of each.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, select

from salesdash.errors import SalesdashError, ValidationFailed
from salesdash.store.aggregates import rebuild_rollups
from salesdash.store.archive import DEFAULT_KEEP_VERSIONS, archive_lines
from salesdash.store.engine import ensure_schema, has_schema, snapshot
from salesdash.store.load import BATCH_ROWS, DataVersion, _records, current_version, drop_leftover_stage
from salesdash.store.lock import write_lock
from salesdash.store.schema import ORDER_LINE_COLUMNS, data_versions, order_lines

KEY_BATCH = 1000  # order numbers per lookup (bound parameters)
LISTED = 100  # conflicts listed in an error's details


class DuplicateOrderLines(SalesdashError):
    """Appending would store an order line twice."""

    code = "duplicate_order_lines"
    http_status = 409


class AppendNotSupported(SalesdashError):
    """The store cannot append in place (Spark: each load is a whole new data version)."""

    code = "append_not_supported"
    http_status = 400


ORDER_FIELDS = ("customer_name", "order_date", "status")


def _stored_lines(conn: Any, order_numbers: list[int]) -> pd.DataFrame:
    t = order_lines
    columns = [t.c.order_number, t.c.order_line_number, *(t.c[name] for name in ORDER_FIELDS)]
    parts = []
    for start in range(0, len(order_numbers), KEY_BATCH):
        batch = order_numbers[start : start + KEY_BATCH]
        rows = conn.execute(select(*columns).where(t.c.order_number.in_(batch))).all()
        parts.append(pd.DataFrame(rows, columns=[c.name for c in columns]))
    if not parts:
        return pd.DataFrame(columns=[c.name for c in columns])
    return pd.concat(parts, ignore_index=True)


def conflicts(frame: pd.DataFrame, stored: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(new lines already stored, new lines that contradict their stored order), each a list of details."""
    if stored.empty or frame.empty:
        return [], []
    new_keys = frame[["order_number", "order_line_number"]].astype("int64")
    old_keys = stored[["order_number", "order_line_number"]].astype("int64")
    dupes = new_keys.merge(old_keys, on=["order_number", "order_line_number"]).drop_duplicates()
    duplicates = [
        {
            "order_number": int(r.order_number),
            "order_line_number": int(r.order_line_number),
            "message": "already stored",
        }
        for r in dupes.sort_values(["order_number", "order_line_number"]).itertuples()
    ]
    orders_new = frame[["order_number", *ORDER_FIELDS]].drop_duplicates("order_number")
    orders_old = stored[["order_number", *ORDER_FIELDS]].drop_duplicates("order_number")
    both = orders_new.merge(orders_old, on="order_number", suffixes=("", "_stored"))
    contradictions = []
    for row in both.itertuples():
        for name in ORDER_FIELDS:
            new, old = getattr(row, name), getattr(row, f"{name}_stored")
            if str(new) != str(old)[: 10 if name == "order_date" else None]:
                contradictions.append(
                    {
                        "order_number": int(row.order_number),
                        "column": name,
                        "value": str(new),
                        "stored": str(old),
                        "message": f"the stored order has {name} {old}",
                    }
                )
    return duplicates, contradictions


def _check(frame: pd.DataFrame, stored: pd.DataFrame) -> None:
    duplicates, contradictions = conflicts(frame, stored)
    if duplicates:
        sample = ", ".join(f"{d['order_number']}/{d['order_line_number']}" for d in duplicates[:5])
        raise DuplicateOrderLines(
            f"{len(duplicates):,} order line(s) of the file are already stored (ORDERNUMBER/ORDERLINENUMBER "
            f"{sample}{', ...' if len(duplicates) > 5 else ''}). Remove them from the file, or replace the data "
            "instead of appending.",
            details=duplicates[:LISTED],
        )
    if contradictions:
        raise ValidationFailed(
            f"{len(contradictions):,} new line(s) belong to stored orders but disagree with them (an order has one "
            "customer, date and status); nothing was appended.",
            details=contradictions[:LISTED],
        )


def find_conflicts(engine: Engine, frame: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What :func:`append_data` would refuse, without writing: (duplicate lines, contradicting lines)."""
    if not has_schema(engine):
        return [], []
    with snapshot(engine) as conn:
        return conflicts(frame, _stored_lines(conn, sorted({int(n) for n in frame["order_number"]})))


def append_data(
    engine: Engine,
    frame: pd.DataFrame,
    *,
    version: str,
    source: str,
    source_sha256: str,
    loaded_at: datetime,
    report: dict[str, Any],
    keep_versions: int = DEFAULT_KEEP_VERSIONS,
) -> DataVersion:
    """Add ``frame`` (columns = ORDER_LINE_COLUMNS) to the stored order lines in one transaction and record
    the new data version (its row_count is the total after the append)."""
    if engine.dialect.name == "spark":
        raise AppendNotSupported(
            "Appending is not supported on the Spark store: load the whole file (replace) instead.",
            details=[{"problem": "append_not_supported", "engine": "spark"}],
        )
    with write_lock(engine, purpose="append"):
        ensure_schema(engine)
        frame = frame.loc[:, list(ORDER_LINE_COLUMNS)]
        with engine.begin() as conn:
            drop_leftover_stage(conn)
            orders = sorted({int(n) for n in frame["order_number"]})
            _check(frame, _stored_lines(conn, orders))
            for start in range(0, len(frame), BATCH_ROWS):
                conn.execute(insert(order_lines), _records(frame, start, min(start + BATCH_ROWS, len(frame))))
            total = int(conn.execute(select(func.count()).select_from(order_lines)).scalar_one())
            rebuild_rollups(conn, version)  # the rollups follow the lines, in the same transaction
            conn.execute(
                insert(data_versions).values(
                    version=version,
                    source=source,
                    source_sha256=source_sha256,
                    loaded_at=loaded_at,
                    row_count=total,
                    report=json.dumps(report, default=str),
                )
            )
            archive_lines(conn, version, keep_versions)  # this version stays restorable
        current = current_version(engine)
    assert current is not None
    return current
