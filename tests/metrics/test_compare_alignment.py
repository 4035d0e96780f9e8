"""Comparisons are aligned like-for-like on hand-made data, under any filter, on every engine.

The data (answers below are worked out by hand from it):
- Steady Co (USA): one order on the 10th of every month, Jan 2003 to May 2005; 1,000.00 a month in 2003,
  1,100.00 in 2004, 1,300.00 in 2005. The data set therefore ends on 2005-05-10 (May 2005 is partial).
- Fading Ltd (France): one order on the 20th of every month, Jan 2003 to Mar 2005, 500.00 each; it then stops.
"""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, comparisons, growth, kpis
from salesdash.store import snapshot
from tests.orderlines import aligned_csv


@pytest.fixture
def aligned_engine(fresh_engine: Engine, tmp_path: Path) -> Engine:
    ingest_file(fresh_engine, aligned_csv(tmp_path / "aligned.csv"))
    return fresh_engine


def test_year_over_year_to_a_partial_month_compares_the_same_dates(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        yoy = growth(conn, Filters())["year_over_year"]
    assert yoy["label"] == "2005-01-01..2005-05-10 vs 2004-01-01..2004-05-10"
    revenue = yoy["metrics"]["revenue"]
    # 2005: 5 x 1,300 + 3 x 500 (Jan-Mar); 2004 to 10 May: 5 x 1,100 + 4 x 500 (the 20 May order is later)
    assert (revenue["current"], revenue["previous"]) == (8000.0, 7500.0)
    assert revenue["change"] == 500.0
    assert revenue["change_pct"] == round(500 / 7500, 6)


def test_month_over_month_uses_the_last_complete_month(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        mom = growth(conn, Filters())["month_over_month"]
    # the data ends on 10 May 2005, so April is the last complete month
    assert mom["label"] == "Apr 2005 vs Mar 2005"
    assert (mom["metrics"]["revenue"]["current"], mom["metrics"]["revenue"]["previous"]) == (1300.0, 1800.0)
    assert mom["metrics"]["order_count"] == {"current": 1, "previous": 2, "change": -1, "change_pct": -0.5}


def test_a_filter_that_selects_earlier_lines_does_not_move_the_periods(aligned_engine: Engine):
    """France's last order is 20 Mar 2005; its growth is still measured on the data set's calendar."""
    with snapshot(aligned_engine) as conn:
        g = growth(conn, Filters(countries=("France",)))
    assert g["year_over_year"]["label"] == "2005-01-01..2005-05-10 vs 2004-01-01..2004-05-10"
    assert g["year_over_year"]["metrics"]["revenue"]["current"] == 1500.0
    assert g["year_over_year"]["metrics"]["revenue"]["previous"] == 2000.0
    assert g["year_over_year"]["metrics"]["revenue"]["change_pct"] == -0.25
    assert g["month_over_month"]["label"] == "Apr 2005 vs Mar 2005"
    assert g["month_over_month"]["metrics"]["revenue"]["change_pct"] == -1.0


def test_whole_year_compares_with_the_year_before(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, Filters(start=date(2004, 1, 1), end=date(2004, 12, 31)))
    assert c["current_period"]["label"] == "2004"
    for key in ("previous_period", "year_earlier"):
        assert c[key]["label"] == "2004 vs 2003"
        assert c[key]["metrics"]["revenue"]["current"] == 12 * 1100 + 12 * 500
        assert c[key]["metrics"]["revenue"]["previous"] == 12 * 1000 + 12 * 500
    assert c["notes"] == {}


def test_a_quarter_compares_with_the_previous_quarter_and_the_same_quarter_a_year_earlier(
    aligned_engine: Engine,
):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, Filters(start=date(2004, 1, 1), end=date(2004, 3, 31)))
    assert c["previous_period"]["label"] == "Jan-Mar 2004 vs Oct-Dec 2003"
    assert c["previous_period"]["metrics"]["revenue"]["previous"] == 3 * 1000 + 3 * 500
    assert c["year_earlier"]["label"] == "Jan-Mar 2004 vs Jan-Mar 2003"
    assert c["year_earlier"]["metrics"]["revenue"]["current"] == 3 * 1100 + 3 * 500


def test_an_open_end_is_clipped_to_the_data_and_the_year_earlier_matches_its_days(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, Filters(start=date(2005, 3, 1), end=date(2005, 12, 31)))
        direct = kpis(conn, Filters(start=date(2004, 3, 1), end=date(2004, 5, 10)))
    assert c["current_period"] == {
        "start": "2005-03-01",
        "end": "2005-05-10",
        "label": "2005-03-01..2005-05-10",
    }
    ye = c["year_earlier"]
    assert ye["comparison_period"]["end"] == "2004-05-10"
    assert ye["metrics"]["revenue"]["current"] == 3 * 1300 + 500
    assert ye["metrics"]["revenue"]["previous"] == 3 * 1100 + 2 * 500 == direct["revenue"]


def test_previous_period_of_days_has_the_same_number_of_days(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, Filters(start=date(2005, 1, 1)))
    # 1 Jan..10 May 2005 is 130 days; the 130 days before are 24 Aug..31 Dec 2004
    assert c["previous_period"]["comparison_period"]["start"] == "2004-08-24"
    assert c["previous_period"]["metrics"]["revenue"]["previous"] == 4 * 1100 + 4 * 500


def test_every_kpi_is_compared(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, Filters(start=date(2004, 1, 1), end=date(2004, 12, 31)))
        k = kpis(conn, Filters())
    assert set(c["year_earlier"]["metrics"]) == set(k)
    assert c["year_earlier"]["metrics"]["customer_count"]["change"] == 0


@pytest.mark.parametrize(
    ("filters", "previous_note", "year_note"),
    [
        (Filters(), "not fully covered", "overlap"),
        (Filters(start=date(2003, 2, 1), end=date(2003, 4, 30)), "not fully covered", "not fully covered"),
    ],
)
def test_no_comparison_with_periods_the_data_does_not_cover(
    aligned_engine: Engine, filters: Filters, previous_note: str, year_note: str
):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, filters)
    assert c["previous_period"] is None
    assert c["year_earlier"] is None
    assert previous_note in c["notes"]["previous_period"]
    assert year_note in c["notes"]["year_earlier"]


def test_a_date_range_without_data_says_so(aligned_engine: Engine):
    with snapshot(aligned_engine) as conn:
        c = comparisons(conn, Filters(start=date(2006, 1, 1)))
        g = growth(conn, Filters(start=date(2006, 1, 1)))
    assert c["current_period"] is None
    assert c["notes"]["year_earlier"] == "no data in the selected date range"
    assert g == {"month_over_month": None, "year_over_year": None}
