"""Exact answers at realistic cardinality, on every engine: a generated file with many customers, product codes
and years (``salesdash generate --customers/--products/--years``), loaded once per engine; the rankings, the
customer and product breakdowns, RFM and a customer filter equal what the order lines say (pandas on the
validated lines, Cancelled excluded as the default status filter does)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.filters import Filters
from salesdash.generate import Shape, generate
from salesdash.ingest import ingest_file, prepare
from salesdash.metrics import breakdown, kpis
from salesdash.metrics.customers import acquisition, cohorts, new_customers
from salesdash.metrics.definitions import finish, finish_columns
from salesdash.metrics.movers import top_movers
from salesdash.metrics.queries import DIMENSIONS, group_count, headline_plan, total_revenue
from salesdash.metrics.rfm import rfm, rfm_answer
from salesdash.metrics.rollups import entity_plan, raw_queries
from salesdash.store import make_engine, snapshot
from salesdash.vocabulary import CANCELLED
from tests.conftest import ENGINE_PARAMS, SAMPLE_CSV, ScratchDatabases
from tests.metrics.rfm_reference import reference_rfm
from tests.store.test_rollups import plain

SHAPE = Shape(customers=2_000, products=800, years=6)
ROWS = 40_000


@pytest.fixture(scope="module")
def shaped_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hicard") / "realistic.parquet"
    return generate(rows=ROWS, out=out, seed=11, source=SAMPLE_CSV, shape=SHAPE)


@pytest.fixture(scope="module")
def lines(shaped_file: Path) -> pd.DataFrame:
    frame = prepare(shaped_file).frame
    kept = frame[frame["status"].astype(str) != CANCELLED]
    return kept.assign(
        customer_name=kept["customer_name"].astype(str), product_code=kept["product_code"].astype(str)
    )


@pytest.fixture(scope="module", params=ENGINE_PARAMS)
def engine(request: pytest.FixtureRequest, scratch: ScratchDatabases, shaped_file: Path) -> Iterator[Engine]:
    engine = make_engine(scratch.url(str(request.param)))
    ingest_file(engine, shaped_file)
    yield engine
    engine.dispose()


def _expected(lines: pd.DataFrame, key: str) -> pd.DataFrame:
    grouped = lines.groupby(key, observed=True)
    return pd.DataFrame(
        {
            "revenue_cents": grouped["sales_cents"].sum(),
            "order_count": grouped["order_number"].nunique(),
            "line_count": grouped.size(),
        }
    )


def test_the_file_has_the_cardinality_asked_for(lines: pd.DataFrame):
    assert lines["customer_name"].nunique() > 0.99 * (SHAPE.customers or 0)
    assert lines["product_code"].nunique() > 0.99 * (SHAPE.products or 0)


def test_kpis_and_customer_ranking_equal_the_lines(engine: Engine, lines: pd.DataFrame):
    expected = _expected(lines, "customer_name")
    with snapshot(engine) as conn:
        totals = kpis(conn, Filters())
        ranked = breakdown(conn, Filters(), "customer")
    assert totals["customer_count"] == lines["customer_name"].nunique()
    assert totals["order_count"] == lines["order_number"].nunique()
    assert round(totals["revenue"] * 100) == int(lines["sales_cents"].sum())
    got = ranked.set_index("customer_name")
    assert len(got) == len(expected)
    assert ((got["revenue"] * 100).round().astype("int64") == expected["revenue_cents"].loc[got.index]).all()
    assert (got["order_count"] == expected["order_count"].loc[got.index]).all()
    assert list(ranked["revenue"]) == sorted(ranked["revenue"], reverse=True)


def test_product_ranking_equals_the_lines(engine: Engine, lines: pd.DataFrame):
    expected = _expected(lines, "product_code")
    with snapshot(engine) as conn:
        ranked = breakdown(conn, Filters(), "product_code").set_index("product_code")
    assert len(ranked) == len(expected)
    assert (
        (ranked["revenue"] * 100).round().astype("int64") == expected["revenue_cents"].loc[ranked.index]
    ).all()
    assert (ranked["order_count"] == expected["order_count"].loc[ranked.index]).all()
    assert (ranked["line_count"] == expected["line_count"].loc[ranked.index]).all()


def test_product_ranking_pages_equal_the_lines(engine: Engine, lines: pd.DataFrame):
    """Pages of the ranking (agg_products, then the page's customers from agg_codes) are the full ranking's rows,
    customer counts included, and their count is the codes in view."""
    kept = lines[lines["status"].astype(str) != CANCELLED]
    customers = kept.groupby("product_code")["customer_name"].nunique()
    with snapshot(engine) as conn:
        full = breakdown(conn, Filters(), "product_code")
        pages = [
            breakdown(conn, Filters(), "product_code", limit=300, offset=o) for o in range(0, len(full), 300)
        ]
        count = group_count(conn, Filters(), "product_code")
    paged = pd.concat(pages, ignore_index=True)
    assert count == len(full) == kept["product_code"].nunique()
    exact = [c for c in full.columns if c != "revenue_share"]  # the share: a float, over the same total
    assert plain(paged[exact]) == plain(full[exact])
    assert (paged["revenue_share"] - full["revenue_share"]).abs().max() < 1e-6
    assert (
        paged.set_index("product_code")["customer_count"] == customers.loc[paged["product_code"]].values
    ).all()


def test_rfm_scores_every_customer_as_pandas_does_and_pages_exactly(engine: Engine, lines: pd.DataFrame):
    """2,000 customers: the store's scores and segments equal a pandas RFM of the lines, customer by customer,
    and pages of 1,000 sorted by revenue cover each customer once."""
    with snapshot(engine) as conn:
        answer = rfm_answer(conn, Filters())
        assert answer.as_of is not None
        pages = [
            rfm_answer(conn, Filters(), sort="monetary", descending=True, limit=1000, offset=offset)
            for offset in range(0, answer.total, 1000)
        ]
    want = reference_rfm(lines, answer.as_of)
    got = answer.customers.set_index("customer_name")
    assert len(got) == answer.total == lines["customer_name"].nunique()
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score", "segment"):
        assert got[column].to_dict() == want[column].to_dict(), column
    assert round(got["monetary"].sum() * 100) == int(lines["sales_cents"].sum())
    assert answer.segments["customer_count"].sum() == answer.total
    seen = [name for page in pages for name in page.customers["customer_name"]]
    assert all(page.total == answer.total for page in pages)
    assert sorted(seen) == sorted(got.index)
    revenue = [v for page in pages for v in page.customers["monetary"]]
    assert revenue == sorted(revenue, reverse=True)


def test_top_movers_rank_every_customer_as_pandas_does(engine: Engine, lines: pd.DataFrame):
    """2,000 customers: the store ranks the change between the headline periods (one statement, top N in SQL);
    the ranking, the amounts and the number of customers ranked equal pandas over the lines of both periods."""
    with snapshot(engine) as conn:
        got = top_movers(conn, Filters(), "customer", limit=25)
    spans = [got["current_period"], got["comparison_period"]]
    assert None not in spans, got["note"]
    days = pd.to_datetime(lines["order_date"])
    cents = [
        lines[(days >= s["start"]) & (days <= s["end"])].groupby("customer_name")["sales_cents"].sum()
        for s in spans
    ]
    both = pd.concat(cents, axis=1, keys=["now", "before"]).fillna(0).astype("int64")
    both["size"] = (both["now"] - both["before"]).abs()
    want = both.reset_index().sort_values(["size", "customer_name"], ascending=[False, True]).head(25)
    assert got["candidates"] == len(both)
    rows = got["rows"]
    assert list(rows["customer_name"]) == list(want["customer_name"])
    assert [round(v * 100) for v in rows["current_revenue"]] == list(want["now"])
    assert [round(v * 100) for v in rows["previous_revenue"]] == list(want["before"])


def test_a_copied_customer_filters_to_its_own_lines(engine: Engine, lines: pd.DataFrame):
    name = lines["customer_name"][lines["customer_name"].str.contains(" #")].iloc[0]
    mine = lines[lines["customer_name"] == name]
    with snapshot(engine) as conn:
        got = kpis(conn, Filters(customers=(name,)))
    assert got["customer_count"] == 1
    assert round(got["revenue"] * 100) == int(mine["sales_cents"].sum())
    assert got["order_count"] == mine["order_number"].nunique()


def test_product_codes_and_territories_filter_to_their_own_lines(engine: Engine, lines: pd.DataFrame):
    codes = tuple(sorted(lines["product_code"].unique())[::200])  # four of the 800 codes
    territory = str(lines["territory"].astype(str).mode().iloc[0])
    mine = lines[lines["product_code"].isin(codes) & (lines["territory"].astype(str) == territory)]
    assert len(codes) == 4 and not mine.empty
    with snapshot(engine) as conn:
        got = kpis(conn, Filters(product_codes=codes, territories=(territory,)))
    assert round(got["revenue"] * 100) == int(mine["sales_cents"].sum())
    assert got["order_count"] == mine["order_number"].nunique()
    assert got["line_count"] == len(mine)
    assert got["customer_count"] == mine["customer_name"].nunique()


# The customer tables (agg_customers*) answer customer breakdowns without a date range: on this file (2,000
# customers, 800 codes, 6 years) their answers equal the order lines' (raw_queries) for the shapes that reach
# them, and the date-ranged ones that do not; after random appends too (tests/store/test_incremental.py checks
# the tables row for row against a full rebuild).
ENTITY_SHAPES = {
    "default": Filters(),
    "all-statuses": Filters(
        statuses=("Shipped", "Cancelled", "Resolved", "On Hold", "In Process", "Disputed")
    ),
    "one-line": Filters(product_lines=("Classic Cars",)),
    "two-lines": Filters(product_lines=("Classic Cars", "Motorcycles")),
    "line-and-deal": Filters(product_lines=("Planes",), deal_sizes=("Large",)),
    "two-deals": Filters(deal_sizes=("Small", "Large")),
    "countries": Filters(countries=("USA", "France")),
    "a-year": Filters(start=date(2004, 1, 1), end=date(2004, 12, 31)),
}


def _customer_answers(engine: Engine, filters: Filters) -> list[object]:
    with snapshot(engine) as conn:
        scored, as_of = rfm(conn, filters)
        return [
            plain(breakdown(conn, filters, "customer")),
            plain(breakdown(conn, filters, "customer", limit=10)),
            plain(breakdown(conn, filters, "customer", sort="order_count", descending=False)),
            plain(scored),
            as_of,
        ]


@pytest.mark.parametrize("name", list(ENTITY_SHAPES))
def test_customer_tables_equal_the_order_lines(engine: Engine, name: str):
    filters = ENTITY_SHAPES[name]
    with snapshot(engine) as conn:
        plan = entity_plan(conn, filters, ("customer_name",))
    if filters.start is None:
        assert plan is not None and plan.table.name.startswith("agg_customers"), (
            "the planner should pick them"
        )
    else:
        assert plan is None, "a date range is answered by the dated rollups"
    rolled = _customer_answers(engine, filters)
    with raw_queries():
        reference = _customer_answers(engine, filters)
    assert rolled == reference
    assert len(rolled[0]["rows"]) > 0


@pytest.mark.parametrize("dimension", ["country", "territory", "status", "product_line", "deal_size"])
@pytest.mark.parametrize("name", list(ENTITY_SHAPES))
def test_other_breakdowns_from_the_customer_tables_equal_the_order_lines(
    engine: Engine, name: str, dimension: str
):
    """The customer tables are the rollups without the date: without a date range they answer the breakdowns
    by any key they hold, exactly (order_count included, also where it cannot be added up)."""
    filters = ENTITY_SHAPES[name]
    with snapshot(engine) as conn:
        plan = entity_plan(conn, filters, DIMENSIONS[dimension])
        rolled = plain(breakdown(conn, filters, dimension))
    assert (plan is not None) == (filters.start is None)
    if plan is not None:
        assert plan.table.name.startswith("agg_customers")
    with snapshot(engine) as conn, raw_queries():
        reference = plain(breakdown(conn, filters, dimension))
    assert rolled == reference
    assert len(rolled["rows"]) > 0


@pytest.mark.parametrize("name", list(ENTITY_SHAPES))
def test_kpis_from_the_customer_tables_equal_the_order_lines(engine: Engine, name: str):
    """Figures over everything in view come from a customer table without a date range (distinct orders,
    customers, countries and product lines included), equal to the order lines' answer."""
    filters = ENTITY_SHAPES[name]
    with snapshot(engine) as conn:
        plan = headline_plan(conn, filters)
        rolled = (kpis(conn, filters), total_revenue(conn, filters))
    assert plan is not None
    assert plan.table.name.startswith("agg_customers") == (filters.start is None)
    with snapshot(engine) as conn, raw_queries():
        assert rolled == (kpis(conn, filters), total_revenue(conn, filters))


def test_finish_columns_is_finish_row_by_row(engine: Engine):
    with snapshot(engine) as conn, raw_queries():
        ranked = breakdown(conn, Filters(), "customer", limit=50)
    raw = ranked[["customer_name", "revenue", "order_count", "units"]].assign(
        revenue=(ranked["revenue"] * 100).round().astype("int64")
    )
    rows = [finish(r) for r in raw.to_dict("records")]
    framed = finish_columns(list(raw.columns), list(raw.itertuples(index=False, name=None)))
    for column in (
        "customer_name",
        "revenue",
        "order_count",
        "units",
        "average_order_value",
        "average_unit_price",
    ):
        assert framed[column] == [r[column] for r in rows], column


# Acquisition and cohorts take each customer's first order from the customer tables where they answer: on this
# file their answers equal the order lines', by every grain, also in a date range that cuts months in two.
CUSTOMER_ANALYTICS_SHAPES = {
    **ENTITY_SHAPES,
    "part-months": Filters(start=date(2003, 3, 15), end=date(2004, 9, 20)),
    "part-months-line": Filters(start=date(2004, 2, 10), end=date(2005, 1, 5), product_lines=("Ships",)),
}


def _customer_analytics(engine: Engine, filters: Filters) -> list[object]:
    with snapshot(engine) as conn:
        return [
            plain(acquisition(conn, filters, "month")),
            plain(acquisition(conn, filters, "week")),
            new_customers(conn, filters),
            plain(cohorts(conn, filters, "month")),
            plain(cohorts(conn, filters, "quarter")),
        ]


@pytest.mark.parametrize("name", list(CUSTOMER_ANALYTICS_SHAPES))
def test_acquisition_and_cohorts_equal_the_order_lines(engine: Engine, name: str):
    filters = CUSTOMER_ANALYTICS_SHAPES[name]
    rolled = _customer_analytics(engine, filters)
    with raw_queries():
        reference = _customer_analytics(engine, filters)
    assert rolled == reference
    assert len(rolled[0]["rows"]) > 0 and len(rolled[3]["cells"]["rows"]) > 0
