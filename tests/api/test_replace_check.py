"""POST /api/uploads says what a replace would change, on every engine: the figures now (the bundled data's
reference figures) and after (tests/data/replacement.csv: the 2005 lines of USA and France), and what disappears.
Nothing is loaded by the check."""

from __future__ import annotations

from collections.abc import Callable

from apiflask import APIFlask

from salesdash.ingest import ingest_file
from tests.api.conftest import bearer, data_of
from tests.conftest import DATA, SAMPLE_CSV
from tests.reference import AVERAGE_ORDER_VALUE, CUSTOMERS, ORDERS, REVENUE

REPLACEMENT = DATA / "replacement.csv"
# tests/data/replacement.csv, counted with pandas from the file (Cancelled excluded where the metric says so)
REPLACEMENT_FIGURES = {
    "line_count": 227,
    "revenue": 880320.66,
    "order_count": 29,
    "customer_count": 20,
    "average_order_value": 30355.88,
    "first_date": "2005-01-05",
    "last_date": "2005-05-31",
}


def _check(client, token: str) -> dict:
    with REPLACEMENT.open("rb") as fh:
        response = client.post("/api/uploads", headers=bearer(token), data={"file": (fh, REPLACEMENT.name)})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def test_replace_check_compares_stored_and_uploaded(make_app: Callable[..., APIFlask], fresh_engine, tokens):
    app = make_app()
    ingest_file(fresh_engine, SAMPLE_CSV)
    client = app.test_client()
    version = data_of(client.get("/api/version"))["data_version"]

    check = _check(client, tokens["admin"])["replace_check"]

    assert check["current"] == {
        "line_count": 2823,
        "revenue": REVENUE,
        "order_count": ORDERS,
        "customer_count": CUSTOMERS,
        "average_order_value": AVERAGE_ORDER_VALUE,
        "first_date": "2003-01-06",
        "last_date": "2005-05-31",
    }
    assert check["upload"] == REPLACEMENT_FIGURES
    gone = check["disappearing"]
    # all statuses: 307 orders, 92 customers and 29 months are stored; the file has 29 orders, 20 customers,
    # 5 months (January to May 2005)
    assert (gone["orders"]["count"], gone["customers"]["count"], gone["months"]["count"]) == (278, 72, 24)
    assert gone["months"]["examples"][:3] == ["2003-01", "2003-02", "2003-03"]
    assert len(gone["orders"]["examples"]) == 10
    assert data_of(client.get("/api/version"))["data_version"] == version  # nothing loaded
    assert data_of(client.get("/api/kpis"))["revenue"] == REVENUE


def test_replace_check_on_an_empty_store(make_app: Callable[..., APIFlask], tokens):
    check = _check(make_app().test_client(), tokens["admin"])["replace_check"]
    assert check == {"current": None, "upload": REPLACEMENT_FIGURES, "disappearing": None}
