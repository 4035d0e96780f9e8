"""Month/quarter trends (salesdash.metrics.trends) on hand-made data, answers computed by hand, every engine.

Data (tests/orderlines.aligned_csv): Steady Co orders 1,000 / 1,100 / 1,300 a month in 2003 / 2004 / 2005
(Jan 2003-May 2005, on the 10th, so the data ends 2005-05-10); Fading Ltd (France) orders 500 a month
from Jan 2003 to Mar 2005.
"""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.errors import InvalidParameter
from salesdash.ingest import ingest_file
from salesdash.metrics import Filters
from salesdash.metrics.trends import trend
from salesdash.store import snapshot
from tests.orderlines import aligned_csv


@pytest.fixture
def aligned_engine(fresh_engine: Engine, tmp_path: Path) -> Engine:
    ingest_file(fresh_engine, aligned_csv(tmp_path / "aligned.csv"))
    return fresh_engine


def by_period(frame) -> dict:
    return {row["period"]: row for row in frame.to_dict("records")}


def test_monthly_changes(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        rows = by_period(trend(conn, Filters(), "month"))
    assert len(rows) == 29
    first = rows["2003-01"]
    assert first["revenue"] == 1500.0
    assert pd.isna(first["revenue_change"]) and pd.isna(first["revenue_yoy_change_pct"])  # no earlier month
    assert rows["2004-01"]["revenue_change"] == 100.0  # 1,600 vs Dec 2003's 1,500
    assert rows["2004-02"]["revenue_change_pct"] == 0.0
    assert rows["2005-01"]["revenue_yoy_change"] == 200.0  # 1,800 vs 1,600
    assert rows["2005-01"]["revenue_yoy_change_pct"] == 0.125
    assert rows["2005-04"]["revenue_change"] == -500.0  # Fading Ltd stopped after March
    assert rows["2005-04"]["revenue_change_pct"] == -0.277778
    assert rows["2005-04"]["complete"] is True
    assert rows["2005-05"]["complete"] is False  # the data ends on 10 May


def test_quarterly_changes_and_the_partial_quarter(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        rows = by_period(trend(conn, Filters(), "quarter"))
    assert list(rows) == [f"{y}-Q{q}" for y in (2003, 2004) for q in (1, 2, 3, 4)] + ["2005-Q1", "2005-Q2"]
    assert rows["2004-Q1"]["revenue"] == 4800.0
    assert rows["2004-Q1"]["revenue_yoy_change"] == 300.0  # vs 4,500
    assert rows["2004-Q1"]["revenue_yoy_change_pct"] == 0.066667
    assert rows["2005-Q2"]["revenue"] == 2600.0
    assert rows["2005-Q2"]["revenue_change_pct"] == -0.518519  # 2,600 vs 5,400: flagged as partial
    assert rows["2005-Q2"]["complete"] is False
    assert all(r["complete"] for p, r in rows.items() if p != "2005-Q2")


def test_completeness_follows_the_data_set_not_the_filter(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        rows = by_period(trend(conn, Filters(countries=("France",)), "month"))
    assert list(rows)[-1] == "2005-05"  # Fading Ltd stopped after March; the data set goes on to May
    assert rows["2005-03"]["complete"] is True
    assert rows["2005-03"]["revenue_yoy_change"] == 0.0
    april = rows["2005-04"]
    assert april["revenue"] == 0.0 and april["order_count"] == 0  # a month in view without orders is 0
    assert april["revenue_change"] == -500.0 and april["revenue_change_pct"] == -1.0
    assert rows["2005-05"]["revenue_change"] == 0.0
    assert pd.isna(rows["2005-05"]["revenue_change_pct"])  # vs a month of 0: no percentage


def test_every_month_in_view_with_its_bounds(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        frame = trend(conn, Filters(start=date(2004, 12, 15), end=date(2005, 2, 10)), "month")
    rows = by_period(frame)
    assert list(rows) == ["2004-12", "2005-01", "2005-02"]
    assert [rows[p]["complete"] for p in rows] == [False, True, False]  # the date filter cuts both ends
    assert rows["2004-12"]["period_end"] == date(2004, 12, 31)
    assert pd.isna(rows["2004-12"]["revenue_change"])  # November is not in view


def test_only_month_and_quarter(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn, pytest.raises(InvalidParameter):
        trend(conn, Filters(), "week")
