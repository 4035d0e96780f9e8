"""Inputs at the edges of what parses: every date the calendar holds (0001-01-01 .. 9999-12-31) on every read
endpoint and /api/export gives a 200 or a clear 4xx in the error envelope, never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import assert_error

EDGE_DATES = [
    "start=9999-12-31",
    "start=9999-12-02",
    "end=9999-12-31",
    "start=9999-12-01&end=9999-12-31",
    "start=0001-01-01&end=9999-12-31",
    "start=0001-01-01&end=0001-01-31",
    "start=9998-12-31&end=9999-01-01",
]
EXPORTS = ["/api/export?view=kpis&format=csv", "/api/export?view=sales-over-time&format=csv"]


def read_endpoints(client: FlaskClient) -> list[str]:
    rules = client.application.url_map.iter_rules()
    paths = {
        r.rule
        for r in rules
        if "GET" in (r.methods or set())
        and r.rule.startswith("/api")
        and "<" not in r.rule
        and not r.rule.startswith(("/api/docs", "/api/openapi"))
    }
    return sorted(paths)


@pytest.mark.parametrize("query", EDGE_DATES)
def test_edge_dates_are_a_200_or_a_clear_4xx_everywhere(sample_client: FlaskClient, query: str):
    paths = read_endpoints(sample_client)
    assert len(paths) >= 15
    for path in paths + EXPORTS:
        url = path + ("&" if "?" in path else "?") + query
        response = sample_client.get(url)
        if response.status_code != 200:
            assert response.status_code in (400, 404, 422), (url, response.status_code)
            assert_error(response, response.status_code)
