"""Number formatting and the filter state (pure functions)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from salesdash.charts import format as fmt
from salesdash.dashboard.client import build_query
from salesdash.dashboard.state import FilterState


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9838141.37, "$9,838,141.37"),
        (32469.1100001, "$32,469.11"),
        (0, "$0.00"),
        (-12.5, "-$12.50"),
        (None, fmt.DASH),
        (math.nan, fmt.DASH),
    ],
)
def test_money(value: object, expected: str) -> None:
    assert fmt.money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9838141.37, "$9.84M"),
        (862283.46, "$862.3K"),
        (950, "$950"),
        (12_500_000_000, "$12.5B"),
        (-1500, "-$1.50K"),
    ],
)
def test_money_short(value: float, expected: str) -> None:
    assert fmt.money_short(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9838141.37, "$9,838,141.37"),  # fits a card: exact
        (32469.11, "$32,469.11"),
        (10_000_000.0, "$10.00M"),  # "$10,000,000.00" would be cut off
        (999999999.99, "$1.00B"),
        (123456789.5, "$123.46M"),
        (34859185003.0, "$34.86B"),
        (-2.5e12, "-$2.50T"),
        (None, "–"),
    ],
)
def test_card_money_is_exact_when_it_fits(value: float | None, expected: str) -> None:
    assert fmt.card_money(value) == expected


def test_counts_and_percentages() -> None:
    assert fmt.count(2823) == "2,823"
    assert fmt.count(None) == fmt.DASH
    assert fmt.percent(0.39238) == "39.2%"
    assert fmt.signed_percent(0.125) == "+12.5%"
    assert fmt.signed_percent(-0.03) == "-3.0%"
    assert fmt.signed_percent(0.00001) == "0.0%"
    assert fmt.signed_percent(None) == fmt.DASH


def test_filter_state_from_widget_values_uses_api_names() -> None:
    state = FilterState.from_values(
        {
            "start": date(2004, 1, 1),
            "end": "2004-12-31",
            "country": ["USA", "France", "USA"],
            "productline": [],
            "status": None,
            "dealsize": ["Large"],
            "unrelated": "ignored",
        }
    )
    assert state.to_query() == {
        "start": "2004-01-01",
        "end": "2004-12-31",
        "country": ["France", "USA"],
        "dealsize": ["Large"],
    }
    assert not state.is_default()
    assert "France, USA" in state.summary()
    assert "all except Cancelled" in state.summary()


def test_default_filter_state_sends_nothing() -> None:
    state = FilterState.from_values({})
    assert state.is_default()
    assert state.to_query() == {}
    assert state.summary().startswith("all dates")


def test_reversed_dates_are_not_sent() -> None:
    state = FilterState.from_values({"start": "2005-01-01", "end": "2004-01-01", "country": ["Spain"]})
    assert state.dates_reversed
    assert state.to_query() == {"country": ["Spain"]}
    assert "From is after To" in state.summary()


def test_bad_date_text_is_no_restriction() -> None:
    assert FilterState.from_values({"start": "yesterday"}).filters.start is None


def test_query_string_is_canonical_and_repeats_lists() -> None:
    query = build_query(
        {"start": "2004-01-01", "country": ["France", "Spain"], "status": [], "limit": 10, "x": None}
    )
    assert query == "start=2004-01-01&country=France&country=Spain&limit=10"
    assert build_query({"productline": ["Trucks and Buses"]}) == "productline=Trucks+and+Buses"
    assert build_query(None) == ""


def test_link_problems_name_every_value_not_understood() -> None:
    from salesdash.dashboard.state import link_problems

    options = {
        "countries": ["France", "Spain"],
        "product_lines": ["Ships"],
        "statuses": ["Shipped", "Cancelled"],
        "deal_sizes": ["Small", "Large"],
        "date_range": {"start": "2003-01-06", "end": "2005-05-31"},
    }
    assert link_problems({"country": ["France"], "start": ["2004-01-01"], "embed": ["true"]}, options) == []
    problems = link_problems(
        {
            "country": ["france"],
            "end": ["2010-01-01"],
            "dealsize": ["Huge"],
            "start": ["2004-1-1"],
            "customer": ["Euro Shopping Channel", "Nobody Inc"],
            "colour": ["red"],
        },
        # a filter with a finder: what its finder gave for the link's values (components.filters.with_linked)
        options | {"customers": ["Euro Shopping Channel"]},
    )
    assert problems == [
        "country=france is not among the countries in the data; did you mean France?",
        "end=2010-01-01 is outside the data (2003-01-06 to 2005-05-31)",
        "dealsize=Huge is not among the deal sizes in the data",
        "start=2004-1-1 is not a date (use YYYY-MM-DD, e.g. 2004-01-31)",
        "customer=Nobody Inc is not among the customers in the data",
        "colour is not a filter of the dashboard (its filters are start, end, territory, country, productline, "
        "productcode, status, dealsize, customer)",
    ]
