"""RFM segmentation: hand-computed on tests/data/small.csv on every engine, and the scoring rules."""

import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.metrics import Filters, breakdown, kpis
from salesdash.metrics.rfm import SEGMENTS, quintile_scores, rfm, segment, summarise
from salesdash.store import snapshot


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
    with snapshot(small_engine) as conn:
        scored, _ = rfm(conn, Filters(countries=("France", "Germany")))
        customers = breakdown(conn, Filters(countries=("France", "Germany")), "customer")
        total = kpis(conn, Filters(countries=("France", "Germany")))["revenue"]
    by_name = customers.set_index("customer_name")
    for row in scored.itertuples():
        assert row.frequency == by_name.loc[row.customer_name, "order_count"]
        assert row.monetary == by_name.loc[row.customer_name, "revenue"]
    summary = summarise(scored)
    assert summary["revenue"].sum() == pytest.approx(total, abs=0.001)
    assert summary["customer_count"].sum() == 2


def test_recency_counts_to_the_end_of_the_data_not_to_a_filtered_last_order(small_engine: Engine):
    with snapshot(small_engine) as conn:
        scored, as_of = rfm(conn, Filters(customer="Gamma GmbH"))
    assert str(as_of) == "2005-01-03"
    assert scored["recency_days"].tolist() == [333]


def test_no_customers_in_view(small_engine: Engine):
    with snapshot(small_engine) as conn:
        scored, _ = rfm(conn, Filters(countries=("Nowhere",)))
    assert scored.empty
    assert summarise(scored)["customer_count"].sum() == 0


def test_ties_share_a_score_and_scores_spread_one_to_five():
    spread = quintile_scores(pd.Series(range(10)))
    assert spread.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(pd.Series([7, 7, 7, 7])).tolist() == [3, 3, 3, 3]
    tied = quintile_scores(pd.Series([1, 1, 1, 5, 9, 9]))
    assert tied.iloc[0] == tied.iloc[1] == tied.iloc[2]
    assert tied.iloc[4] == tied.iloc[5] == 5
    assert quintile_scores(pd.Series([10, 0]), higher_is_better=False).tolist() == [2, 4]


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
