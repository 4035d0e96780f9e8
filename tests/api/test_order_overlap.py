"""Breakdowns whose order counts do not add up to the distinct orders in view say so in meta, on every
engine (an order with lines of several deal sizes counts under each)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import data_of


def _body(client: FlaskClient, path: str) -> tuple[list[dict], dict]:
    body = client.get(path).get_json()
    assert "data" in body, body
    return body["data"], body["meta"]


def test_deal_sizes_count_an_order_under_each_size(sample_client: FlaskClient):
    rows, meta = _body(sample_client, "/api/deal-sizes")
    counted = sum(r["order_count"] for r in rows)
    assert counted == 690  # Small 283 + Medium 288 + Large 119
    assert meta["order_counts_add_up"] is False
    assert (meta["order_count_sum"], meta["order_count_total"]) == (690, 303)
    assert "690" in meta["order_count_note"] and "303 distinct orders" in meta["order_count_note"]
    assert "deal sizes" in meta["order_count_note"]
    assert round(sum(r["revenue"] for r in rows), 2) == 9838141.37  # revenue adds up


@pytest.mark.parametrize(
    ("path", "adds_up"),
    [
        ("/api/sales-by-category", False),
        ("/api/product-performance?level=product", False),
        ("/api/sales-by-country", True),  # every order has one customer, in one country
        ("/api/top-customers?limit=100", True),
        ("/api/status-distribution", True),
    ],
)
def test_every_breakdown_says_whether_its_order_counts_add_up(
    sample_client: FlaskClient, path: str, adds_up: bool
):
    rows, meta = _body(sample_client, path)
    query = "?status=" + ",".join(r["status"] for r in rows) if "status" in path else ""
    distinct = data_of(sample_client.get(f"/api/kpis{query}"))["order_count"]
    assert meta["order_count_total"] == distinct
    assert meta["order_count_sum"] == sum(r["order_count"] for r in rows)
    assert meta["order_counts_add_up"] is adds_up
    assert (meta["order_count_note"] is None) is adds_up


def test_a_filter_to_one_deal_size_adds_up(sample_client: FlaskClient):
    _, meta = _body(sample_client, "/api/deal-sizes?dealsize=Large&country=France")
    assert meta["order_counts_add_up"] is True and meta["order_count_note"] is None
