"""What replacing the data with an upload changes: the headline figures of the stored data and of the upload
side by side, and what disappears (orders, customers, months present now and absent after).

Both sides come from the one metric definition (:func:`salesdash.metrics.queries.kpis` with no filter, so
Cancelled orders are left out of revenue and orders as on every page): the stored side in one read snapshot,
the upload's side from its cleaned lines put in a private in-memory SQLite database.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, func, select
from sqlalchemy.pool import StaticPool

from salesdash.filters import Filters
from salesdash.metrics.queries import data_date_range, kpis
from salesdash.store.bulk import insert_lines
from salesdash.store.engine import has_schema, snapshot
from salesdash.store.schema import metadata, order_lines

EXAMPLES = 10
FIGURES = ("revenue", "order_count", "customer_count", "average_order_value")


def _side(conn: Connection) -> dict[str, Any]:
    """The figures of the lines behind ``conn``, and the keys whose disappearance is reported."""
    t = order_lines
    figures = kpis(conn, Filters())
    first, last = data_date_range(conn)
    return {
        "figures": {
            "line_count": int(conn.execute(select(func.count()).select_from(t)).scalar_one()),
            **{name: figures[name] for name in FIGURES},
            "first_date": first.isoformat() if first else None,
            "last_date": last.isoformat() if last else None,
        },
        "orders": {int(v) for v in conn.execute(select(t.c.order_number).distinct()).scalars()},
        "customers": {str(v) for v in conn.execute(select(t.c.customer_name).distinct()).scalars()},
        "months": {f"{y:04d}-{m:02d}" for y, m in conn.execute(select(t.c.year, t.c.month).distinct())},
    }


def _upload_side(frame: pd.DataFrame) -> dict[str, Any]:
    private = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with private.begin() as conn:
            metadata.create_all(conn)  # the rollup state table too: empty, so the raw lines answer
            insert_lines(conn, frame)
            return _side(conn)
    finally:
        private.dispose()


def _gone(now: set[Any], after: set[Any]) -> dict[str, Any]:
    missing = sorted(now - after)
    return {"count": len(missing), "examples": missing[:EXAMPLES]}


def replace_summary(engine: Engine, frame: pd.DataFrame) -> dict[str, Any]:
    """``{"current": figures, "upload": figures, "disappearing": {"orders"|"customers"|"months": {"count",
    "examples"}}}``; ``current`` is None when nothing is stored yet."""
    after = _upload_side(frame)
    if not has_schema(engine):
        return {"current": None, "upload": after["figures"], "disappearing": None}
    with snapshot(engine) as conn:
        now = _side(conn)
    if now["figures"]["line_count"] == 0:
        return {"current": None, "upload": after["figures"], "disappearing": None}
    return {
        "current": now["figures"],
        "upload": after["figures"],
        "disappearing": {key: _gone(now[key], after[key]) for key in ("orders", "customers", "months")},
    }
