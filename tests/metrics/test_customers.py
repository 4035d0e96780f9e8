"""Customer analytics (acquisition, cohorts, penetration): hand-computed answers on tests/data/small.csv, the
bundled data against an independent pandas computation, rollups against the order lines; every engine.

small.csv (Cancelled excluded by default): Alpha Co (USA) orders 2003-01-15 (1,100.25) and a Cancelled Ships
order 2004-01-20; Beta's Toys (France) 2003-02-10 (1,610.00) and 2004-12-31 (Ships, 202.50); Gamma GmbH
(Germany) 2004-02-05 (11,100.50); Delta Ltda (Spain) 2005-01-03 (99.99).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from salesdash.errors import InvalidParameter
from salesdash.metrics import Filters
from salesdash.metrics.customers import acquisition, cohorts, new_customers, new_customers_in, penetration
from salesdash.metrics.rollups import raw_queries
from salesdash.store import snapshot
from tests.conftest import SAMPLE_CSV
from tests.reference import CUSTOMERS, REVENUE

ALL_STATUSES = ("Shipped", "Cancelled", "On Hold", "Resolved")


def _acq(engine: Engine, filters: Filters, grain: str) -> list[tuple[str, int, int, float, float]]:
    with snapshot(engine) as conn:
        frame = acquisition(conn, filters, grain)
    return [
        (
            r.period,
            r.new_customers,
            r.returning_customers,
            r.new_customer_revenue,
            r.returning_customer_revenue,
        )
        for r in frame.itertuples()
    ]


def test_acquisition_by_year_and_month(small_engine: Engine):
    assert _acq(small_engine, Filters(), "year") == [
        ("2003", 2, 0, 2710.25, 0.0),
        ("2004", 1, 1, 11100.5, 202.5),  # Alpha's 2004 order is Cancelled: not a customer of 2004
        ("2005", 1, 0, 99.99, 0.0),
    ]
    assert _acq(small_engine, Filters(), "month") == [
        ("2003-01", 1, 0, 1100.25, 0.0),
        ("2003-02", 1, 0, 1610.0, 0.0),
        ("2004-02", 1, 0, 11100.5, 0.0),
        ("2004-12", 0, 1, 0.0, 202.5),
        ("2005-01", 1, 0, 99.99, 0.0),
    ]


def test_new_honours_the_filters_but_not_the_dates(small_engine: Engine):
    # new to Ships: Beta's first Ships order is 2004-12-31 (its 2003 order was Classic Cars)
    assert _acq(small_engine, Filters(product_lines=("Ships",)), "year") == [("2004", 1, 0, 202.5, 0.0)]
    # Cancelled named: Alpha's Ships order counts, and Alpha is new to Ships in 2004 too
    both = Filters(product_lines=("Ships",), statuses=ALL_STATUSES)
    assert _acq(small_engine, both, "month") == [
        ("2004-01", 1, 0, 3500.0, 0.0),
        ("2004-12", 1, 0, 202.5, 0.0),
    ]
    # a date range does not make an old customer new: Beta (first order 2003) returns in 2004
    in_2004 = Filters(start=date(2004, 1, 1), end=date(2004, 12, 31))
    assert _acq(small_engine, in_2004, "year") == [("2004", 1, 1, 11100.5, 202.5)]
    with snapshot(small_engine) as conn:
        assert new_customers(conn, in_2004) == 1
        assert new_customers(conn, Filters()) == 4
        assert new_customers(conn, Filters(start=date(2005, 1, 1))) == 1
        # several ranges in one statement: the same counts, whatever the filters' own dates
        ranges = [(date(2004, 1, 1), date(2004, 12, 31)), (None, None), (date(2005, 1, 1), None)]
        assert new_customers_in(conn, in_2004, ranges) == [1, 4, 1]


def test_cohorts_by_quarter(small_engine: Engine):
    with snapshot(small_engine) as conn:
        result = cohorts(conn, Filters(), "quarter")
    sizes = dict(zip(result["cohorts"]["cohort"], result["cohorts"]["customers"], strict=True))
    assert sizes == {"2003-Q1": 2, "2004-Q1": 1, "2005-Q1": 1}
    assert result["cohorts"]["small"].all()  # every cohort has fewer than 5 customers: labelled, not hidden
    cells = result["cells"].set_index(["cohort", "periods_since_first"])
    assert cells.loc[("2003-Q1", 0), "active_customers"] == 2
    assert cells.loc[("2003-Q1", 0), "revenue"] == 2710.25
    # Beta orders again in 2004-Q4, seven quarters after its first: one of the cohort's two customers
    assert cells.loc[("2003-Q1", 7), "active_customers"] == 1
    assert cells.loc[("2003-Q1", 7), "retention"] == 0.5
    assert cells.loc[("2003-Q1", 7), "revenue"] == 202.5
    assert len(cells) == 4
    # the data ends 2005-01-03: 2005-Q1 is partial, every earlier quarter whole
    assert cells.loc[("2005-Q1", 0), "partial"]
    assert not cells.loc[("2003-Q1", 7), "partial"]


def test_cohorts_by_month_and_in_a_date_range(small_engine: Engine):
    with snapshot(small_engine) as conn:
        monthly = cohorts(conn, Filters(), "month")
        in_2004 = cohorts(conn, Filters(start=date(2004, 1, 1)), "month")
    cells = monthly["cells"].set_index(["cohort", "periods_since_first"])
    assert cells.loc[("2003-02", 22), "active_customers"] == 1  # 2003-02 -> 2004-12
    assert set(in_2004["cohorts"]["cohort"]) == {
        "2004-02",
        "2005-01",
    }  # cohorts whose first order is in range


def test_penetration_by_country_and_territory(small_engine: Engine):
    with snapshot(small_engine) as conn:
        countries = penetration(conn, Filters(), "country")
        territories = penetration(conn, Filters(), "territory")
    assert countries["product_lines_in_view"] == 4  # Classic Cars, Planes, Ships, Trains
    rows = countries["rows"].set_index("country")
    assert rows.loc["Germany", "revenue"] == 11100.5
    assert rows.loc["Germany", "revenue_per_customer"] == 11100.5
    assert rows.loc["USA", "product_lines_bought"] == 2
    assert rows.loc["USA", "product_line_share"] == 0.5
    assert rows.loc["Spain", "product_lines_bought"] == 1
    assert rows.loc["France", "customer_count"] == 1
    # growth over the headline periods: 2005-01-01..2005-01-03 vs 2004-01-01..2004-01-03
    assert countries["periods"]["current"]["start"] == "2005-01-01"
    assert countries["periods"]["previous"]["end"] == "2004-01-03"
    assert rows.loc["Spain", "current_revenue"] == 99.99
    assert rows.loc["Spain", "previous_revenue"] == 0.0
    assert pd.isna(rows.loc["Spain", "revenue_change_pct"])  # no growth rate from zero
    by_territory = territories["rows"].set_index("territory")
    assert by_territory.loc["EMEA", "customer_count"] == 3
    assert by_territory.loc["NA", "customer_count"] == 1
    assert round(by_territory["revenue_share"].sum(), 6) == 1.0


def test_unknown_grain_and_dimension_are_clear_errors(small_engine: Engine):
    with snapshot(small_engine) as conn:
        with pytest.raises(InvalidParameter, match="grain='week' is not a grain here"):
            cohorts(conn, Filters(), "week")
        with pytest.raises(InvalidParameter, match="not a market"):
            penetration(conn, Filters(), "product_line")


# -- the bundled data against pandas alone --------------------------------------------------------------------


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    frame = pd.read_csv(SAMPLE_CSV, encoding="cp437", keep_default_na=False)
    frame["date"] = pd.to_datetime(frame["ORDERDATE"], format="%m/%d/%Y %H:%M")
    return frame[frame["STATUS"] != "Cancelled"]


def _pandas_acquisition(lines: pd.DataFrame) -> pd.DataFrame:
    first = lines.groupby("CUSTOMERNAME")["date"].min().rename("first")
    lines = lines.join(first, on="CUSTOMERNAME")
    lines["period"] = lines["date"].dt.strftime("%Y-%m")
    lines["new"] = lines["first"].dt.strftime("%Y-%m") == lines["period"]
    per = lines.groupby(["period", "CUSTOMERNAME"]).agg(new=("new", "first"), sales=("SALES", "sum"))
    return per.groupby("period").apply(
        lambda g: pd.Series(
            {
                "new_customers": int(g["new"].sum()),
                "returning_customers": int((~g["new"]).sum()),
                "new_customer_revenue": round(g.loc[g["new"], "sales"].sum(), 2),
            }
        )
    )


def test_bundled_acquisition_equals_pandas(sample_engine: Engine, lines: pd.DataFrame):
    expected = _pandas_acquisition(lines)
    with snapshot(sample_engine) as conn:
        got = acquisition(conn, Filters(), "month").set_index("period")
        with raw_queries():
            raw = acquisition(conn, Filters(), "month").set_index("period")
    assert got.equals(raw)  # the rollups answer as the order lines do
    assert list(got.index) == list(expected.index)
    assert got["new_customers"].tolist() == expected["new_customers"].tolist()
    assert got["returning_customers"].tolist() == expected["returning_customers"].tolist()
    assert got["new_customer_revenue"].round(2).tolist() == expected["new_customer_revenue"].tolist()
    assert got["new_customers"].sum() == CUSTOMERS  # every customer is new exactly once


def test_bundled_cohorts_and_penetration_equal_pandas(sample_engine: Engine, lines: pd.DataFrame):
    first = lines.groupby("CUSTOMERNAME")["date"].min()
    month = lines["date"].dt.year * 12 + lines["date"].dt.month - 1
    cohort = lines["CUSTOMERNAME"].map(first.dt.year * 12 + first.dt.month - 1)
    active = (
        pd.DataFrame({"cohort": cohort, "offset": month - cohort, "customer": lines["CUSTOMERNAME"]})
        .groupby(["cohort", "offset"])["customer"]
        .nunique()
    )
    with snapshot(sample_engine) as conn:
        result = cohorts(conn, Filters(), "month")
        market = penetration(conn, Filters(), "country")
        filtered = penetration(conn, Filters(product_lines=("Motorcycles",)), "territory")
    cells = result["cells"]
    assert cells["active_customers"].tolist() == active.tolist()
    assert cells["periods_since_first"].tolist() == [int(o) for o in active.index.get_level_values("offset")]
    assert result["cohorts"]["customers"].sum() == CUSTOMERS
    rows = market["rows"].set_index("country")
    lines_per_country = lines.groupby("COUNTRY")["PRODUCTLINE"].nunique()
    assert rows["product_lines_bought"].to_dict() == lines_per_country.to_dict()
    assert rows["customer_count"].to_dict() == lines.groupby("COUNTRY")["CUSTOMERNAME"].nunique().to_dict()
    assert round(rows["revenue"].sum(), 2) == REVENUE
    assert market["periods"]["current"]["label"] == "Jan-May 2005"
    assert market["periods"]["previous"]["label"] == "Jan-May 2004"
    ytd = lines[(lines["date"] >= "2005-01-01")].groupby("COUNTRY")["SALES"].sum().round(2)
    assert rows.loc[ytd.index, "current_revenue"].round(2).tolist() == ytd.tolist()
    moto = lines[lines["PRODUCTLINE"] == "Motorcycles"]
    t_rows = filtered["rows"].set_index("territory")
    assert t_rows["customer_count"].to_dict() == moto.groupby("TERRITORY")["CUSTOMERNAME"].nunique().to_dict()
    assert filtered["product_lines_in_view"] == 1
