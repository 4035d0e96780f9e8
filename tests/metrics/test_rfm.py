"""RFM segmentation: hand-computed on tests/data/small.csv, and equal to an independent pandas RFM of the
sample's order lines, on every engine (the store scores and names the customers); the segment rules."""

import itertools

import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.ingest import prepare
from salesdash.metrics import Filters, breakdown, kpis
from salesdash.metrics.rfm import SEGMENT_RULES, SEGMENTS, SORT_COLUMNS, rfm, rfm_answer, segment
from salesdash.store import snapshot
from salesdash.vocabulary import CANCELLED
from tests.conftest import SAMPLE_CSV
from tests.metrics.rfm_reference import quintiles, reference_rfm


def test_rfm_on_small_data(small_engine: Engine):
    """small.csv, as of its last date 2005-01-03 (Cancelled order 1003 excluded):
    Alpha Co   1 order,  1,100.25, last 2003-01-15 (719 days)
    Beta's Toys 2 orders, 1,812.50, last 2004-12-31 (3 days)
    Gamma GmbH 1 order, 11,100.50, last 2004-02-05 (333 days)
    Delta Ltda 1 order,     99.99, last 2005-01-03 (0 days)
    Quintiles of 4 customers: ceil(5 x (rank - 0.5) / 4) -> ranks 1..4 score 1, 2, 4, 5; the three 1-order
    customers tie at average rank 2 -> score 2."""
    with snapshot(small_engine) as conn:
        scored, as_of = rfm(conn, Filters())
    assert str(as_of) == "2005-01-03"
    got = scored.set_index("customer_name")
    assert got["recency_days"].to_dict() == {
        "Alpha Co": 719,
        "Beta's Toys": 3,
        "Gamma GmbH": 333,
        "Delta Ltda": 0,
    }
    assert got["rfm"].to_dict() == {
        "Alpha Co": "122",
        "Beta's Toys": "454",
        "Gamma GmbH": "225",
        "Delta Ltda": "521",
    }
    assert got["segment"].to_dict() == {
        "Alpha Co": "Hibernating",
        "Beta's Toys": "Champions",
        "Gamma GmbH": "At risk",
        "Delta Ltda": "New",
    }
    assert list(scored["customer_name"]) == ["Beta's Toys", "Delta Ltda", "Gamma GmbH", "Alpha Co"]


def test_frequency_and_monetary_are_the_metric_layer_values(small_engine: Engine):
    f = Filters(countries=("France", "Germany"))
    with snapshot(small_engine) as conn:
        answer = rfm_answer(conn, f)
        customers = breakdown(conn, f, "customer")
        total = kpis(conn, f)["revenue"]
    by_name = customers.set_index("customer_name")
    for row in answer.customers.itertuples():
        assert row.frequency == by_name.loc[row.customer_name, "order_count"]
        assert row.monetary == by_name.loc[row.customer_name, "revenue"]
    assert answer.segments["revenue"].sum() == pytest.approx(total, abs=0.001)
    assert answer.segments["customer_count"].sum() == answer.total == 2


def test_recency_counts_to_the_end_of_the_data_not_to_a_filtered_last_order(small_engine: Engine):
    with snapshot(small_engine) as conn:
        scored, as_of = rfm(conn, Filters(customers=("Gamma GmbH",)))
    assert str(as_of) == "2005-01-03"
    assert scored["recency_days"].tolist() == [333]


def test_no_customers_in_view(small_engine: Engine):
    with snapshot(small_engine) as conn:
        answer = rfm_answer(conn, Filters(countries=("Nowhere",)))
    assert answer.customers.empty and answer.total == 0
    assert answer.segments["customer_count"].sum() == 0
    assert list(answer.segments["segment"]) == list(SEGMENTS)


def test_the_reference_scores_share_ties_and_spread_one_to_five():
    """The tests' own pandas quintiles (what the store is compared with) follow the documented rule."""
    assert quintiles(pd.Series(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintiles(pd.Series([7, 7, 7, 7])).tolist() == [3, 3, 3, 3]
    tied = quintiles(pd.Series([1, 1, 1, 5, 9, 9]))
    assert tied.iloc[0] == tied.iloc[1] == tied.iloc[2]
    assert tied.iloc[4] == tied.iloc[5] == 5
    assert quintiles(pd.Series([10, 0]), higher_is_better=False).tolist() == [2, 4]


def test_the_store_scores_and_names_every_sample_customer_as_pandas_does(sample_engine: Engine):
    """Scores from the store's window functions, segments from its CASE, averages from its summary: equal to
    the pandas RFM of the same order lines (Cancelled excluded), customer by customer."""
    frame = prepare(SAMPLE_CSV).frame
    kept = frame[frame["status"].astype(str) != CANCELLED]
    with snapshot(sample_engine) as conn:
        answer = rfm_answer(conn, Filters())
    assert answer.as_of is not None
    want = reference_rfm(kept.assign(customer_name=kept["customer_name"].astype(str)), answer.as_of)
    got = answer.customers.set_index("customer_name")
    assert sorted(got.index) == sorted(want.index) and len(got) == 92
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score", "segment"):
        assert got[column].to_dict() == want[column].to_dict(), column
    assert {n: round(v * 100) for n, v in got["monetary"].items()} == want["monetary_cents"].to_dict()
    summary = answer.segments.set_index("segment")
    for name in SEGMENTS:
        mine = want[want["segment"] == name]
        assert summary.loc[name, "customer_count"] == len(mine)
        assert round(summary.loc[name, "revenue"] * 100) == mine["monetary_cents"].sum()
        if len(mine):
            assert summary.loc[name, "average_recency_days"] == round(mine["recency_days"].mean(), 1)
            assert summary.loc[name, "average_frequency"] == round(mine["frequency"].mean(), 2)
    assert round(summary["revenue"].sum() * 100) == 983814137  # the reference revenue, all of it in segments


@pytest.mark.parametrize(
    ("scores", "name"),
    [
        ((5, 5, 5), "Champions"),
        ((3, 4, 3), "Loyal"),
        ((5, 1, 2), "New"),
        ((1, 5, 4), "At risk"),
        ((2, 1, 1), "Hibernating"),
        ((3, 2, 2), "Need attention"),
        ((4, 3, 2), "Need attention"),
    ],
)
def test_segment_rules(scores: tuple[int, int, int], name: str):
    assert segment(*scores) == name
    assert name in SEGMENTS


def test_every_score_combination_gets_the_segment_its_description_states():
    names = {}
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        name = names[(r, f, m)] = segment(r, f, m)
        fm = (f + m) / 2
        if name == "Champions":
            assert r >= 4 and fm >= 4
        if name == "Loyal":
            assert r >= 3 and fm >= 3
        if name == "Hibernating":
            assert r <= 2 and fm < 3
    assert set(names.values()) == set(SEGMENTS) == {n for n, _, _ in SEGMENT_RULES}


@pytest.mark.not_on_spark(
    "72 pages of 25 (a Spark job each, ~1 min here); the scores test runs the same SQL on Spark"
)
def test_customer_pages_cover_every_customer_once_in_order(sample_engine: Engine):
    with snapshot(sample_engine) as conn:
        everyone = rfm_answer(conn, Filters())
        scored = everyone.customers
        assert len(scored) == everyone.total == 92
        for sort in SORT_COLUMNS:
            for descending in (False, True):
                pages = [
                    rfm_answer(conn, Filters(), sort=sort, descending=descending, limit=25, offset=offset)
                    for offset in range(0, 100, 25)
                ]
                assert all(page.total == 92 for page in pages)
                whole = pd.concat([page.customers for page in pages], ignore_index=True)
                assert sorted(whole["customer_name"]) == sorted(scored["customer_name"])  # each once
                if sort == "segment":
                    want = scored.iloc[::-1] if descending else scored
                    assert list(whole["customer_name"]) == list(want["customer_name"])
                else:
                    keys = list(zip(whole[sort], whole["customer_name"], strict=True))
                    want_keys = sorted(keys, key=lambda k: k[1])
                    want_keys = sorted(want_keys, key=lambda k: k[0], reverse=descending)
                    assert keys == want_keys, sort
        champions = rfm_answer(
            conn, Filters(), segment="Champions", sort="monetary", descending=True, limit=5
        )
    order = [list(SEGMENTS).index(s) for s in scored["segment"]]
    assert order == sorted(order)  # the default order is the segments' order
    assert champions.total == (scored["segment"] == "Champions").sum()
    assert set(champions.customers["segment"]) == {"Champions"}
    assert list(champions.customers["monetary"]) == sorted(champions.customers["monetary"], reverse=True)
    with snapshot(sample_engine) as conn, pytest.raises(ValueError, match="cannot sort customers by 'phone'"):
        rfm_answer(conn, Filters(), sort="phone")
