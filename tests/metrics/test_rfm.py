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
        scored, as_of = rfm(conn, Filters(customers=("Gamma GmbH",)))
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


def test_segments_of_many_customers_follow_the_one_customer_rules():
    import itertools

    import numpy as np

    from salesdash.metrics.rfm import segments

    scores = np.array(list(itertools.product(range(1, 6), repeat=3)))
    names = segments(scores[:, 0], scores[:, 1], scores[:, 2])
    fm = (scores[:, 1] + scores[:, 2]) / 2
    for (r, f, m), name, both in zip(scores.tolist(), names.tolist(), fm.tolist(), strict=True):
        assert name == segment(r, f, m)
        if name == "Champions":
            assert r >= 4 and both >= 4
        if name == "Hibernating":
            assert r <= 2 and both < 3
    assert set(names.tolist()) == set(SEGMENTS)


def test_customer_pages_cover_every_customer_once_in_order(sample_engine: Engine):
    from salesdash.metrics.rfm import SORT_COLUMNS, customer_page

    with snapshot(sample_engine) as conn:
        scored, _ = rfm(conn, Filters())
    assert len(scored) == 92
    for sort in SORT_COLUMNS:
        for descending in (False, True):
            pages = [
                customer_page(scored, sort=sort, descending=descending, limit=25, offset=offset)
                for offset in range(0, 100, 25)
            ]
            assert all(total == 92 for _, total in pages)
            names = [n for page, _ in pages for n in page["customer_name"]]
            assert sorted(names) == sorted(scored["customer_name"])  # no customer twice, none left out
            if sort != "segment":
                whole = pd.concat([page for page, _ in pages], ignore_index=True)
                keys = list(zip(whole[sort], whole["customer_name"], strict=True))
                want = sorted(keys, key=lambda k: k[1])
                want = sorted(want, key=lambda k: k[0], reverse=descending)
                assert keys == want, sort
    default, _ = customer_page(scored, limit=200)
    assert default.equals(scored)  # "segment" is score_customers' order
    champions, total = customer_page(scored, segment="Champions", sort="monetary", descending=True, limit=5)
    assert total == (scored["segment"] == "Champions").sum()
    assert set(champions["segment"]) == {"Champions"}
    assert list(champions["monetary"]) == sorted(champions["monetary"], reverse=True)
    with pytest.raises(ValueError, match="cannot sort customers by 'phone'"):
        customer_page(scored, sort="phone")
