"""The rollups built at load answer exactly what the order lines answer, on every engine.

Every metric function runs twice on the same snapshot: with the rollups (the default) and with
``raw_queries()`` (straight from order_lines, the reference). The answers must be equal, value for value,
for many filter shapes: none, dates, countries, one and several product lines and deal sizes (where order
counts cannot be summed and come from the order lines), statuses, a customer, and combinations.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, delete, func, select, update

from salesdash.generate import generate
from salesdash.ingest import ingest_file
from salesdash.metrics import (
    DIMENSIONS,
    GRAINS,
    Filters,
    breakdown,
    comparisons,
    data_date_range,
    filter_options,
    growth,
    kpis,
    month_year_matrix,
    order_line_page,
    over_time,
)
from salesdash.metrics.queries import group_count, total_revenue
from salesdash.metrics.rollups import current_state, raw_queries
from salesdash.store import aggregates, snapshot
from salesdash.store.schema import (
    ENTITY_SOURCES,
    MONTHLY,
    ROLLUPS,
    order_lines,
    order_masks,
    pair_bits,
    rollup_codes,
    rollup_products,
    rollup_state,
)
from tests.conftest import SAMPLE_CSV, SMALL_CSV

ALL_STATUSES = ("Shipped", "Cancelled", "Resolved", "On Hold", "In Process", "Disputed")

FILTERS = {
    "default": Filters(),
    "all-statuses": Filters(statuses=ALL_STATUSES),
    "cancelled": Filters(statuses=("Cancelled",)),
    "year-2004": Filters(start=date(2004, 1, 1), end=date(2004, 12, 31)),
    "mid-month-range": Filters(start=date(2003, 11, 7), end=date(2004, 2, 20)),
    "within-a-month": Filters(start=date(2004, 2, 3), end=date(2004, 2, 20)),
    "up-to-mid-month": Filters(end=date(2004, 6, 15)),
    "from-a-month-end": Filters(start=date(2004, 12, 31)),
    "across-a-month-end": Filters(start=date(2003, 1, 15), end=date(2003, 2, 10)),
    "one-country": Filters(countries=("France",)),
    "countries": Filters(countries=("USA", "Spain", "Germany")),
    "one-line": Filters(product_lines=("Classic Cars",)),
    "two-lines": Filters(product_lines=("Classic Cars", "Motorcycles", "Planes")),
    "one-deal": Filters(deal_sizes=("Medium",)),
    "two-deals": Filters(deal_sizes=("Small", "Large")),
    "line-and-deal": Filters(product_lines=("Classic Cars",), deal_sizes=("Large",)),
    "lines-and-deals": Filters(product_lines=("Ships", "Trains"), deal_sizes=("Small", "Medium")),
    "customer": Filters(customers=("Euro Shopping Channel",)),
    "customer-and-line": Filters(customers=("Alpha Co",), product_lines=("Planes",)),
    "combined": Filters(
        start=date(2004, 3, 1), countries=("USA", "France"), statuses=("Shipped", "On Hold", "Cancelled")
    ),
    "nothing": Filters(countries=("Nowhere",)),
    "a-line-not-in-the-data": Filters(product_lines=("Boats", "Classic Cars")),
}
# a few shapes for the smaller cases: plain sums, one and several line values, a customer, nothing in view
SHAPES = (
    "default",
    "all-statuses",
    "mid-month-range",
    "from-a-month-end",
    "across-a-month-end",
    "one-line",
    "lines-and-deals",
    "customer-and-line",
    "nothing",
)


def plain(value: Any) -> Any:
    """Frames and nested values as plain comparable data (NaN -> None)."""
    if isinstance(value, pd.DataFrame):
        frame = value.astype(object).where(value.notna(), None)
        return {
            "columns": [str(c) for c in frame.columns],
            "index": [str(i) for i in frame.index],
            "rows": frame.to_numpy().tolist(),
        }
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def answers(engine: Engine, filters: Filters) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with snapshot(engine) as conn:
        out["kpis"] = kpis(conn, filters)
        out["total_revenue"] = total_revenue(conn, filters)
        for dimension in DIMENSIONS:
            out[f"breakdown/{dimension}"] = breakdown(conn, filters, dimension)
        out["top-customers"] = breakdown(conn, filters, "customer", limit=5)
        out["by-orders-asc"] = breakdown(conn, filters, "country", sort="order_count", descending=False)
        out["by-name"] = breakdown(conn, filters, "product_line", sort="product_line", descending=True)
        # the paged product ranking (agg_products, then the page's customers) and the count of its rows
        out["product-page"] = breakdown(conn, filters, "product_code", limit=7, offset=3)
        out["product-page/units-asc"] = breakdown(
            conn, filters, "product_code", limit=5, offset=0, sort="units", descending=False
        )
        out["product-page/by-customers"] = breakdown(
            conn, filters, "product_code", limit=5, offset=2, sort="customer_count"
        )
        out["product-count"] = group_count(conn, filters, "product_code")
        out["product-line-count"] = group_count(conn, filters, "product_line")
        for grain in GRAINS:
            out[f"over_time/{grain}"] = over_time(conn, filters, grain)
        for metric in ("revenue", "order_count", "customer_count"):
            out[f"matrix/{metric}"] = month_year_matrix(conn, filters, metric)
        out["date_range"] = data_date_range(conn, filters)
        out["date_range/all"] = data_date_range(conn)
        out["growth"] = growth(conn, filters)
        out["comparisons"] = comparisons(conn, filters)
        out["filter_options"] = filter_options(conn)
        page, total = order_line_page(conn, filters, limit=7, offset=3, sort="sales", descending=True)
        out["orders"] = (page, total)
    return plain(out)


def assert_same_answers(engine: Engine, filters: Filters) -> None:
    with snapshot(engine) as conn:
        assert current_state(conn) is not None, "the rollups should be current after a load"
    rolled = answers(engine, filters)
    with raw_queries():
        reference = answers(engine, filters)
    for key in reference:
        assert rolled[key] == reference[key], key


# On Spark (a query takes ~1 s there; one comparison runs ~140) one shape per rollup path: plain sums, order
# masks (several product lines) and a combination of dates, countries and statuses.
SPARK_SHAPES = ("default", "two-lines", "combined")
SPARK_GAP = "one shape per rollup path runs on Spark (SPARK_SHAPES); every shape runs on the other engines"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=() if n in SPARK_SHAPES else pytest.mark.not_on_spark(SPARK_GAP))
        for n in FILTERS
    ],
)
def test_rollups_equal_order_lines_on_the_sample(sample_engine: Engine, name: str):
    assert_same_answers(sample_engine, FILTERS[name])


@pytest.mark.not_on_spark("the sample's comparisons cover these paths on Spark (~20 min here otherwise)")
def test_rollups_equal_order_lines_on_the_small_file(small_engine: Engine):
    for name in SHAPES:
        assert_same_answers(small_engine, FILTERS[name])


@pytest.fixture(scope="session")
def generated_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "generated.csv"
    return generate(rows=20_000, out=path, seed=7, source=SAMPLE_CSV)


@pytest.mark.not_on_spark("the sample's comparisons cover these paths on Spark (a 20K-line load and ~7 min)")
def test_rollups_equal_order_lines_on_generated_data(fresh_engine: Engine, generated_csv: Path):
    ingest_file(fresh_engine, generated_csv)
    for name in (
        "default",
        "all-statuses",
        "year-2004",
        "one-line",
        "two-lines",
        "line-and-deal",
        "customer",
    ):
        assert_same_answers(fresh_engine, FILTERS[name])


MASKED = ("two-lines", "two-deals", "lines-and-deals", "a-line-not-in-the-data")


@pytest.mark.not_on_spark("it deletes lines in a transaction it rolls back; Spark has no transactions")
def test_orders_of_several_lines_are_counted_from_the_order_masks(sample_engine: Engine):
    """Several product lines or deal sizes: distinct orders come from agg_order_masks, not the order lines
    (shown by answering with the order lines deleted inside a transaction that is rolled back)."""
    with raw_queries(), snapshot(sample_engine) as conn:
        expected = {n: (kpis(conn, FILTERS[n]), breakdown(conn, FILTERS[n], "product_line")) for n in MASKED}
    with sample_engine.connect() as conn:
        transaction = conn.begin()
        try:
            state = current_state(conn)
            assert state is not None and state.masks_built
            conn.execute(delete(order_lines))
            for name in MASKED:
                assert kpis(conn, FILTERS[name])["order_count"] == expected[name][0]["order_count"], name
                got = breakdown(conn, FILTERS[name], "product_line")
                assert got["order_count"].tolist() == expected[name][1]["order_count"].tolist(), name
        finally:
            transaction.rollback()
    assert expected["two-lines"][0]["order_count"] < sum(expected["two-lines"][1]["order_count"]), (
        "the sample has orders with lines of two of these product lines (what the masks are for)"
    )


@pytest.mark.not_on_spark(
    "two loads of the sample and four comparisons (~10 min here); masks run on Spark above"
)
@pytest.mark.parametrize("frame_build", [False, True], ids=["sql", "frame"])
def test_past_max_pairs_there_are_no_masks_and_the_order_lines_count(
    fresh_engine: Engine, monkeypatch: pytest.MonkeyPatch, frame_build: bool
):
    monkeypatch.setattr(aggregates, "MAX_PAIRS", 3)
    if frame_build:
        monkeypatch.setattr(aggregates, "FRAME_ROLLUP_ROWS", 0)
    ingest_file(fresh_engine, SAMPLE_CSV)
    with snapshot(fresh_engine) as conn:
        state = current_state(conn)
        assert state is not None and not state.masks_built
        assert conn.execute(select(func.count()).select_from(order_masks)).scalar_one() == 0
    for name in MASKED:
        assert_same_answers(fresh_engine, FILTERS[name])


def test_rollups_follow_every_load(small_engine: Engine):
    with snapshot(small_engine) as conn:
        assert conn.execute(select(func.sum(ROLLUPS[()].c.line_count))).scalar_one() == 8
    ingest_file(small_engine, SAMPLE_CSV)
    with snapshot(small_engine) as conn:
        for table in ROLLUPS.values():
            assert conn.execute(select(func.sum(table.c.line_count))).scalar_one() == 2823
        assert conn.execute(select(func.count()).select_from(rollup_state)).scalar_one() == 1


@pytest.mark.not_on_spark("it UPDATEs rollup tables; Spark writes a version's tables once, with the version")
def test_stale_rollups_are_never_used(small_engine: Engine):
    """Rollups written for another data version are ignored: the order lines answer."""
    with small_engine.begin() as conn:
        conn.execute(update(rollup_state).values(version="not-the-current-one"))
        conn.execute(update(ROLLUPS[()]).values(revenue_cents=0))
    with snapshot(small_engine) as conn:
        assert current_state(conn) is None
        assert kpis(conn, Filters())["revenue"] == 14113.24


@pytest.mark.not_on_spark("for time: a load and nine comparisons (~15 min on this machine)")
def test_orders_with_two_countries_are_counted_from_the_order_lines(fresh_engine: Engine, tmp_path: Path):
    """When an order's lines name two countries the rollups cannot count orders by summing; they say so and
    order counts come from the order lines (the other metrics still come from the rollups)."""
    lines = SMALL_CSV.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",USA,NA,", ",Canada,NA,")  # order 1001's second line: another country
    path = tmp_path / "two_countries.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_file(fresh_engine, path)
    with snapshot(fresh_engine) as conn:
        state = current_state(conn)
        assert state is not None and not state.orders_exact
        assert conn.execute(select(func.count(func.distinct(order_lines.c.order_number)))).scalar_one() == 6
        assert kpis(conn, Filters())["order_count"] == 5
    for name in SHAPES:
        assert_same_answers(fresh_engine, FILTERS[name])


def _rollup_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with snapshot(engine) as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=lambda r: tuple(map(str, r))
            )
            for table in (
                *ROLLUPS.values(),
                rollup_codes,
                *MONTHLY.values(),
                *ENTITY_SOURCES,
                rollup_products,
                order_masks,
                pair_bits,
            )
        }


def _variant(tmp_path: Path, source: str) -> Path:
    """The sample, or small.csv with an order in two countries, or with one product code on two lines of
    an order (in two deal sizes): then order counts do not add up in agg_orders / agg_codes."""
    if source == "sample":
        return SAMPLE_CSV
    lines = SMALL_CSV.read_text(encoding="utf-8").splitlines()
    if source == "two-countries":
        lines[2] = lines[2].replace(",USA,NA,", ",Canada,NA,")
    else:  # order 1004: its Large line gets the product code of its Medium line
        lines[6] = lines[6].replace(",S12_1108,", ",S18_1662,")
    path = tmp_path / f"{source}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.not_on_spark("Spark builds rollups with SQL only: there is no in-memory build to compare")
@pytest.mark.parametrize(
    ("source", "orders_exact", "codes_exact"),
    [("sample", True, True), ("two-countries", False, True), ("repeated-code", True, False)],
)
def test_rollups_from_the_frame_equal_rollups_from_sql(
    fresh_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    orders_exact: bool,
    codes_exact: bool,
):
    """A large replace rolls the lines up in memory; the rows are the ones SQL builds from order_lines, and
    either way the answers are the order lines' answers."""

    def assert_rollups_right() -> None:
        with snapshot(fresh_engine) as conn:
            state = current_state(conn)
            assert state is not None
            assert (state.orders_exact, state.codes_exact) == (orders_exact, codes_exact)
        for name in ("default", "two-lines", "line-and-deal"):
            assert_same_answers(fresh_engine, FILTERS[name])

    monkeypatch.setattr(aggregates, "FRAME_ROLLUP_ROWS", 0)
    ingest_file(fresh_engine, _variant(tmp_path, source))
    from_frame = _rollup_rows(fresh_engine)
    assert_rollups_right()
    with fresh_engine.begin() as conn:
        version = conn.execute(select(rollup_state.c.version)).scalar_one()
        aggregates.rebuild_rollups(conn, version)  # from order_lines, with SQL
    assert _rollup_rows(fresh_engine) == from_frame
    assert_rollups_right()


@pytest.mark.parametrize("bitmap", [True, False], ids=["bitmap", "hash"])
def test_distinct_pair_count_both_ways(monkeypatch: pytest.MonkeyPatch, bitmap: bool):
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 500, 20_000), rng.integers(0, 40, 20_000)
    if not bitmap:
        monkeypatch.setattr(aggregates, "_BITMAP_PAIRS", 0)
    assert aggregates._distinct_count(a, 500, b, 40) == len(set(zip(a.tolist(), b.tolist(), strict=True)))


@pytest.mark.parametrize("path", ["sql", "frame"])
def test_rollups_are_stored_in_date_order(
    fresh_engine: Engine, generated_csv: Path, monkeypatch: pytest.MonkeyPatch, path: str
):
    """Where the engine reads a date range faster from rows in date order (DuckDB's zone maps), every dated
    rollup is written in date order (daily ones by day, monthly ones by month), whichever way it is built, also
    after a reload."""
    with fresh_engine.connect() as conn:
        if not aggregates.date_ordered(conn):
            pytest.skip(f"{conn.dialect.name} stores the rollups in the order it builds them")
    if path == "frame":
        monkeypatch.setattr(aggregates, "FRAME_ROLLUP_ROWS", 0)
    ingest_file(fresh_engine, SAMPLE_CSV)
    ingest_file(fresh_engine, generated_csv)  # a reload: the sample's rows are deleted first
    with fresh_engine.connect() as conn:
        for table in [*ROLLUPS.values(), rollup_codes]:
            days = conn.execute(select(table.c.order_date)).scalars().all()  # as stored: no ORDER BY
            assert len(days) > 1000 and days == sorted(days), table.name
        for monthly in MONTHLY.values():
            months = [tuple(r) for r in conn.execute(select(monthly.c.year, monthly.c.month)).all()]
            assert len(months) > 100 and months == sorted(months), monthly.name
