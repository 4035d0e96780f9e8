from datetime import date

import pytest
from sqlalchemy import Engine

from salesdash.metrics import Filters, comparisons, growth
from salesdash.metrics.compare import Period, last_complete_month, previous_period, year_earlier, year_to_date
from salesdash.store import snapshot


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period(date(2005, 1, 1), date(2005, 5, 31)), Period(date(2004, 8, 1), date(2004, 12, 31))),
        (Period(date(2005, 3, 1), date(2005, 3, 31)), Period(date(2005, 2, 1), date(2005, 2, 28))),
        (Period(date(2004, 3, 10), date(2004, 3, 19)), Period(date(2004, 2, 29), date(2004, 3, 9))),
    ],
)
def test_previous_period_has_the_same_length(period: Period, previous: Period):
    assert previous_period(period) == previous


def test_year_earlier_is_like_for_like():
    assert year_earlier(Period(date(2005, 1, 1), date(2005, 5, 31))) == Period(
        date(2004, 1, 1), date(2004, 5, 31)
    )
    assert year_earlier(Period(date(2004, 2, 1), date(2004, 2, 29))) == Period(
        date(2003, 2, 1), date(2003, 2, 28)
    )


def test_last_complete_month_and_labels():
    assert last_complete_month(date(2005, 5, 31)).label() == "May 2005"
    assert last_complete_month(date(2005, 5, 17)).label() == "Apr 2005"
    assert year_to_date(date(2005, 5, 31)).label() == "Jan-May 2005"
    assert Period(date(2004, 1, 1), date(2004, 12, 31)).label() == "2004"


def test_growth_on_small_data(small_engine: Engine):
    # last date 2005-01-03 -> last complete month is Dec 2004 (202.50) vs Nov 2004 (nothing)
    with snapshot(small_engine) as conn:
        g = growth(conn, Filters())
    mom = g["month_over_month"]
    assert mom["label"] == "Dec 2004 vs Nov 2004"
    assert mom["metrics"]["revenue"] == {
        "current": 202.5,
        "previous": 0.0,
        "change": 202.5,
        "change_pct": None,
    }
    yoy = g["year_over_year"]
    # 2005-01-01..2005-01-03 (99.99) vs 2004-01-01..2004-01-03 (nothing)
    assert yoy["comparison_period"] == {
        "start": "2004-01-01",
        "end": "2004-01-03",
        "label": "2004-01-01..2004-01-03",
    }
    assert yoy["metrics"]["revenue"]["current"] == 99.99


def test_comparisons_of_a_filtered_year(small_engine: Engine):
    with snapshot(small_engine) as conn:
        c = comparisons(conn, Filters(start=date(2004, 1, 1), end=date(2004, 12, 31)))
    ye = c["year_earlier"]
    assert ye["label"] == "2004 vs 2003"
    assert ye["metrics"]["revenue"]["current"] == 11303.0
    assert ye["metrics"]["revenue"]["previous"] == 2710.25
    assert ye["metrics"]["revenue"]["change_pct"] == round((11303.0 - 2710.25) / 2710.25, 6)


def test_the_comparisons_view_computes_each_period_once(small_engine: Engine):
    """The headline and the growth both compare the year to date with the year before: one query each, not two
    (a round trip each on Spark); the answer is the parts' own."""
    from sqlalchemy import event

    from salesdash.metrics import headline
    from salesdash.metrics.compare import comparison_view

    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    f = Filters(start=date(2004, 1, 1), end=date(2004, 12, 31))
    with snapshot(small_engine) as conn:
        event.listen(conn, "before_cursor_execute", seen)
        expected = comparisons(conn, f) | {"headline": headline(conn, f), "growth": growth(conn, f)}
        apart = len(statements)
        statements.clear()
        answer = comparison_view(conn, f)
        together = len(statements)
        event.remove(conn, "before_cursor_execute", seen)
    assert answer == expected
    assert (
        answer["growth"]["year_over_year"] is not None and answer["headline"]["comparison_period"] is not None
    )
    assert (
        together <= apart - 3
    )  # the year to date and the year before (growth's), the period in view (twice)
