"""Sales over time on every engine: every period of the grain in view (0 where none), the grain's bounds, and
partial first/last periods marked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import data_of

FRANCE_MOTORCYCLES_2004 = "country=France&productline=Motorcycles&start=2004-01-01&end=2004-12-31"


def _get(client: FlaskClient, query: str) -> tuple[list[dict], dict]:
    body = client.get(f"/api/sales-over-time?{query}").get_json()
    assert "data" in body, body
    return body["data"], body["meta"]


def test_months_without_orders_are_zero_not_missing(sample_client: FlaskClient):
    rows, meta = _get(sample_client, f"period=monthly&{FRANCE_MOTORCYCLES_2004}")
    assert [r["period"] for r in rows] == [f"2004-{m:02d}" for m in range(1, 13)]
    empty = [r for r in rows if r["order_count"] == 0]
    assert empty, "France + Motorcycles + 2004 has months without orders"
    for r in empty:
        assert (r["revenue"], r["line_count"], r["units"], r["customer_count"]) == (0, 0, 0, 0)
        assert r["average_order_value"] is None
    assert all(r["complete"] for r in rows) and meta["partial_periods"] == []
    assert meta["partial_note"] is None
    kpis = data_of(sample_client.get(f"/api/kpis?{FRANCE_MOTORCYCLES_2004}"))
    assert round(sum(r["revenue"] for r in rows), 2) == kpis["revenue"]
    assert (rows[1]["period_start"], rows[1]["period_end"]) == ("2004-02-01", "2004-02-29")


def test_years_and_quarters_mark_the_partial_last_period(sample_client: FlaskClient):
    years, meta = _get(sample_client, "period=yearly")
    assert [(r["period"], r["period_end"], r["complete"]) for r in years] == [
        ("2003", "2003-12-31", True),
        ("2004", "2004-12-31", True),
        ("2005", "2005-12-31", False),
    ]
    assert meta["partial_periods"] == ["2005"] and "2005" in meta["partial_note"]
    quarters, meta = _get(sample_client, "period=quarterly")
    assert len(quarters) == 10 and quarters[-1]["period"] == "2005-Q2"
    assert meta["partial_periods"] == ["2005-Q2"]


@pytest.mark.parametrize(
    ("period", "first", "last", "partial"),
    [
        ("weekly", "2004-W10", "2004-W14", ["2004-W10", "2004-W14"]),  # Wed 3 to Wed 31 March
        ("monthly", "2004-03", "2004-03", ["2004-03"]),
        ("daily", "2004-03-03", "2004-03-31", []),
    ],
)
def test_a_date_filter_cuts_the_first_and_last_period(
    sample_client: FlaskClient, period: str, first: str, last: str, partial: list[str]
):
    rows, meta = _get(sample_client, f"period={period}&start=2004-03-03&end=2004-03-31")
    assert (rows[0]["period"], rows[-1]["period"]) == (first, last)
    assert meta["partial_periods"] == partial
    starts = [date.fromisoformat(r["period_start"]) for r in rows]
    ends = [date.fromisoformat(r["period_end"]) for r in rows]
    # contiguous: each period starts the day after the previous one ends
    assert all(s == e + timedelta(days=1) for s, e in zip(starts[1:], ends[:-1], strict=True))
    if period == "daily":
        assert len(rows) == 29


def test_no_dates_in_view_is_an_empty_series(sample_client: FlaskClient):
    rows, meta = _get(sample_client, "period=monthly&start=2010-01-01")
    assert rows == [] and meta["partial_periods"] == []
