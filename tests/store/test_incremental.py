"""Stream batches update only the rollup rows they touch, and the rollups equal a full rebuild after every batch,
on every engine: daily and monthly rollups, product codes, order masks, pair bits and the exactness flags."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    literal_column,
    select,
)
from sqlalchemy import text as text_statement
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable, DropTable

from salesdash.ingest import prepare
from salesdash.metrics import Filters, kpis
from salesdash.store import aggregates, snapshot
from salesdash.store.bulk import execute_script
from salesdash.store.schema import (
    ENTITY_SOURCES,
    MONTHLY,
    ROLLUPS,
    order_masks,
    pair_bits,
    rollup_codes,
    rollup_products,
    rollup_state,
)
from salesdash.store.stream import commit_batch
from tests.conftest import SAMPLE_CSV

TABLES = (
    *ROLLUPS.values(),
    rollup_codes,
    *MONTHLY.values(),
    *ENTITY_SOURCES,
    rollup_products,
    order_masks,
    pair_bits,
)


def _rows(conn: Connection) -> dict[str, Any]:
    out: dict[str, Any] = {
        t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=lambda r: tuple(map(str, r)))
        for t in TABLES
    }
    state = conn.execute(select(rollup_state)).one()
    out["state"] = (state.version, state.orders_exact, state.codes_exact, state.masks_built, state.line_rows)
    return out


def assert_equal_to_rebuild(engine: Engine) -> dict[str, Any]:
    """The incremental rollups, compared with a full rebuild in a transaction that is rolled back."""
    with engine.connect() as conn:
        incremental = _rows(conn)
        conn.rollback()
        with conn.begin() as trans:
            aggregates.rebuild_rollups(conn, incremental["state"][0])
            rebuilt = _rows(conn)
            trans.rollback()
    for name in incremental:
        assert incremental[name] == rebuilt[name], name
    return incremental


def _append(engine: Engine, frame: pd.DataFrame, n: int) -> Any:
    at = datetime.now(UTC).replace(tzinfo=None)
    return commit_batch(
        engine,
        frame,
        sequences=list(range(len(frame))),
        payloads=["{}"] * len(frame),
        refused=[],
        stream="TEST",
        subject="test.orders",
        version=f"batch-{n:04d}",
        source_sha256="0" * 64,
        at=at,
        report={},
    )


@pytest.fixture(scope="module")
def sample_lines() -> pd.DataFrame:
    return prepare(SAMPLE_CSV).frame


def _batches(lines: pd.DataFrame, seed: int, count: int) -> list[pd.DataFrame]:
    """Random batches of whole and partial orders (an order's lines may arrive in several batches)."""
    rng = random.Random(seed)
    order = list(range(len(lines)))
    rng.shuffle(order)
    cuts = sorted(rng.sample(range(1, len(lines)), count - 1))
    bounds = [0, *cuts, len(lines)]
    return [lines.iloc[order[a:b]] for a, b in itertools.pairwise(bounds)]


def test_random_batches_equal_a_full_rebuild(fresh_engine: Engine, sample_lines: pd.DataFrame):
    # one product line held back until the end: its pairs are new then (the masks are renumbered: rebuilt)
    held = sample_lines["product_line"] == "Trains"
    batches = _batches(sample_lines[~held], seed=7, count=12)
    batches.append(sample_lines[held])
    for n, batch in enumerate(batches):
        outcome = _append(fresh_engine, batch, n)
        assert outcome.appended == len(batch)
        state = assert_equal_to_rebuild(fresh_engine)
        assert state["state"][0] == f"batch-{n:04d}"
    with snapshot(fresh_engine) as conn:
        figures = kpis(conn, Filters())
    assert figures["revenue"] == pytest.approx(9_838_141.37, abs=0.005)
    assert figures["order_count"] == 303
    assert figures["customer_count"] == 92


def test_orders_across_countries_and_repeated_codes_turn_the_flags(
    fresh_engine: Engine, sample_lines: pd.DataFrame
):
    """A later line of an order in another country (orders_exact turns false) and one repeating a product code
    of its order (codes_exact turns false): the incremental flags are the full build's."""
    first = sample_lines.iloc[:500]
    _append(fresh_engine, first, 0)
    order = first.iloc[0]
    other_country = order.copy()
    other_country["order_line_number"] = 90
    other_country["country"] = "Atlantis"
    other_country["product_code"] = "S99_9999"  # a code of no other line: only orders_exact turns
    _append(fresh_engine, pd.DataFrame([other_country]), 1)
    state = assert_equal_to_rebuild(fresh_engine)
    assert state["state"][1:3] == (False, True)
    repeated = order.copy()
    repeated["order_line_number"] = 91
    repeated["deal_size"] = "Large" if order["deal_size"] != "Large" else "Small"
    _append(fresh_engine, pd.DataFrame([repeated]), 2)
    state = assert_equal_to_rebuild(fresh_engine)
    assert state["state"][1:3] == (False, False)


def test_a_redelivered_batch_is_a_no_op(fresh_engine: Engine, sample_lines: pd.DataFrame):
    batch = sample_lines.iloc[:200]
    first = _append(fresh_engine, batch, 0)
    again = _append(fresh_engine, batch, 1)
    assert (first.appended, again.appended, again.duplicates) == (200, 0, 200)
    assert again.version is None and not again.dead_letters
    state = assert_equal_to_rebuild(fresh_engine)
    assert state["state"][0] == "batch-0000"  # no new data version for a batch that added nothing


def test_contradicting_lines_are_refused_with_the_reason(fresh_engine: Engine, sample_lines: pd.DataFrame):
    batch = sample_lines.iloc[:50]
    _append(fresh_engine, batch, 0)
    changed = batch.iloc[[0]].copy()
    changed["quantity_ordered"] += 1
    new_line = batch.iloc[[1]].copy()
    new_line["order_line_number"] = 99
    new_line["status"] = "Disputed" if new_line["status"].iloc[0] != "Disputed" else "Shipped"
    outcome = _append(fresh_engine, pd.concat([changed, new_line]), 1)
    assert outcome.appended == 0
    reasons = [d.reason for d in outcome.dead_letters]
    assert "differs in quantity_ordered" in reasons[0]
    assert "status" in reasons[1] and "one customer, date and status" in reasons[1]
    assert_equal_to_rebuild(fresh_engine)


def test_random_batches_of_a_high_cardinality_file_equal_a_full_rebuild(
    fresh_engine: Engine, tmp_path_factory: pytest.TempPathFactory
):
    """Many customers and product codes (the customer tables have a row per customer): every table equals a
    full rebuild after each batch, and the customer ranking the order lines' answer."""
    from salesdash.generate import Shape, generate
    from salesdash.metrics import breakdown
    from salesdash.metrics.rollups import raw_queries
    from salesdash.vocabulary import CANCELLED
    from tests.store.test_rollups import plain

    path = generate(
        rows=6_000,
        out=tmp_path_factory.mktemp("hicard-append") / "lines.parquet",
        seed=5,
        source=SAMPLE_CSV,
        shape=Shape(customers=1_500, products=300, years=5),
    )
    lines = prepare(path).frame
    for n, batch in enumerate(_batches(lines, seed=3, count=5)):
        assert _append(fresh_engine, batch, n).appended == len(batch)
        assert_equal_to_rebuild(fresh_engine)
    with snapshot(fresh_engine) as conn:
        rolled = plain(breakdown(conn, Filters(), "customer"))
        with raw_queries():
            assert plain(breakdown(conn, Filters(), "customer")) == rolled
    kept = lines[lines["status"].astype(str) != CANCELLED]
    assert len(rolled["rows"]) == kept["customer_name"].nunique() > 500


def test_a_script_runs_in_order_inside_the_transaction_and_fails_as_a_whole(fresh_engine: Engine):
    """execute_script (one round trip on PostgreSQL): statements see the ones before them, a statement with a
    bound parameter runs on its own in between, and a failing one raises SQLAlchemy's error (the consumer tells
    database trouble by it) and rolls the whole transaction back."""
    scratch = Table(
        "salesdash_script_test",
        MetaData(),
        Column("n", Integer),
        Column("label", String(16)),
        prefixes=["TEMPORARY"],
    )
    with fresh_engine.connect() as conn, conn.begin():
        execute_script(
            conn,
            [
                CreateTable(scratch),
                insert(scratch).from_select(["n"], select(literal_column("1"))),
                insert(scratch).values(n=2, label="it's bound"),  # a parameter: run on its own
                insert(scratch).from_select(["n"], select(func.max(scratch.c.n) + literal_column("1"))),
            ],
        )
        assert sorted(conn.execute(select(scratch.c.n)).scalars()) == [1, 2, 3]
        assert conn.execute(select(scratch.c.label).where(scratch.c.n == 2)).scalar_one() == "it's bound"
        conn.execute(DropTable(scratch))
    kept = Table("salesdash_script_kept", MetaData(), Column("n", Integer))
    with fresh_engine.connect() as conn, pytest.raises(DBAPIError), conn.begin():
        execute_script(
            conn,
            [
                CreateTable(kept),
                insert(kept).from_select(["n"], select(literal_column("1"))),
                text_statement("SELECT no_such_column FROM salesdash_script_kept"),
            ],
        )
    assert not inspect(fresh_engine).has_table("salesdash_script_kept")  # the CREATE was rolled back too
