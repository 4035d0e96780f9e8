"""The analytics endpoints in-process (Flask test client) on fresh databases: forecast, comparisons, RFM,
data quality, exports (numbers equal the API's for the same filters) and the two-step upload."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine

from salesdash.charts.format import money
from salesdash.forecast import forecast
from salesdash.metrics import Filters
from salesdash.store import snapshot
from tests.api.conftest import app_for, assert_error, bearer, data_of
from tests.conftest import SAMPLE_CSV
from tests.orderlines import line, write_csv
from tests.reference import CUSTOMERS


@pytest.fixture(scope="module")
def sample_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The bundled data in SQLite once for the export tests (exports call the metric layer, which the contract
    suite checks on every engine; the file formats do not depend on the engine)."""
    from salesdash.ingest import ingest_file
    from salesdash.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'sample.db'}")
    ingest_file(engine, SAMPLE_CSV)
    return engine


@pytest.fixture
def client(sample_sqlite: Engine) -> FlaskClient:
    return app_for(sample_sqlite).test_client()


# ---- forecast ---------------------------------------------------------------------------------------------------


def test_forecast_rows_and_meta(sample_client: FlaskClient, sample_engine: Engine):
    response = sample_client.get("/api/forecast?horizon=6&country=France")
    rows = data_of(response)
    meta = response.get_json()["meta"]
    with snapshot(sample_engine) as conn:
        expected = forecast(conn, Filters(countries=("France",)), 6)
    assert [r["kind"] for r in rows].count("forecast") == 6
    assert [r["kind"] for r in rows].count("actual") == expected.history_months
    assert meta["model"] == expected.model == "holt_winters"
    assert meta["mape"] == expected.backtest["mape"]
    assert meta["intervals"] == [80, 95]
    assert meta["filters"]["country"] == ["France"]
    for r in rows[-6:]:
        assert r["lower_95"] <= r["lower_80"] <= r["revenue"] <= r["upper_80"] <= r["upper_95"]
    assert rows[-6]["period"] == "2005-06"


@pytest.mark.parametrize(
    ("query", "verdict", "said"),
    [
        ("", "reliable", "within the 25% allowed"),
        ("country=France", "unreliable", "more than the 25%"),
        (
            "country=France&productline=Motorcycles&start=2004-01-01&end=2004-12-31",
            "insufficient_history",
            "Only 12 complete months of history",
        ),
    ],
)
def test_forecast_reliability_verdict(client: FlaskClient, query: str, verdict: str, said: str):
    """The bundled data: the default view is reliable, France alone missed its backtest by 96% of revenue,
    France + Motorcycles + 2004 has one year of history (and no revenue in its backtest months)."""
    meta = client.get(f"/api/forecast?horizon=3&{query}").get_json()["meta"]
    reliability = meta["reliability"]
    assert reliability["verdict"] == verdict
    assert said in reliability["reason"]
    assert "None" not in reliability["reason"] and "null" not in reliability["reason"]
    assert reliability["threshold"] == 0.25
    assert (reliability["verdict"] == "unreliable") == (meta["history_months"] >= 24 and meta["wape"] > 0.25)


def test_forecast_csv_and_bad_horizon(client: FlaskClient):
    text = client.get("/api/forecast?format=csv&horizon=2").get_data(as_text=True)
    header = text.splitlines()[0]
    assert header == "period,period_start,kind,revenue,lower_80,upper_80,lower_95,upper_95"
    assert text.strip().splitlines()[-1].startswith("2005-07,2005-07-01,forecast,")
    for bad in ("0", "13", "soon"):
        assert_error(client.get(f"/api/forecast?horizon={bad}"), 400, parameter="horizon")


def test_forecast_with_too_little_history_is_a_422(client: FlaskClient):
    error = assert_error(client.get("/api/forecast?start=2004-11-01"), 422, code="insufficient_data")
    assert "at least 12 complete months" in error["message"]


# ---- comparisons and RFM ---------------------------------------------------------------------------------------


def test_comparisons_match_kpis_for_the_same_periods(sample_client: FlaskClient):
    data = data_of(
        sample_client.get("/api/comparisons?start=2004-01-01&end=2004-12-31&productline=Classic Cars")
    )
    year = data["year_earlier"]
    assert year["label"] == "2004 vs 2003"
    current = data_of(sample_client.get("/api/kpis?start=2004-01-01&end=2004-12-31&productline=Classic Cars"))
    previous = data_of(
        sample_client.get("/api/kpis?start=2003-01-01&end=2003-12-31&productline=Classic Cars")
    )
    assert year["metrics"]["revenue"]["current"] == current["revenue"]
    assert year["metrics"]["revenue"]["previous"] == previous["revenue"]
    assert year["metrics"]["order_count"]["previous"] == previous["order_count"]
    assert data["growth"]["year_over_year"]["label"] == "2004 vs 2003"
    assert data["growth"]["month_over_month"]["label"] == "Dec 2004 vs Nov 2004"


def test_comparisons_without_a_comparable_period_say_why(client: FlaskClient):
    data = data_of(client.get("/api/comparisons"))
    assert data["previous_period"] is None and data["year_earlier"] is None
    assert set(data["notes"]) == {"previous_period", "year_earlier"}
    assert data["growth"]["year_over_year"]["label"] == "Jan-May 2005 vs Jan-May 2004"


def test_rfm_covers_every_customer_in_view(sample_client: FlaskClient):
    response = sample_client.get("/api/rfm")
    rows = data_of(response)
    meta = response.get_json()["meta"]
    kpis = data_of(sample_client.get("/api/kpis"))
    assert len(rows) == kpis["customer_count"] == CUSTOMERS
    assert sum(s["customer_count"] for s in meta["segments"]) == CUSTOMERS
    assert round(sum(s["revenue"] for s in meta["segments"]), 2) == kpis["revenue"]
    assert meta["as_of"] == "2005-05-31"
    assert "definitions" not in meta
    defined = sample_client.get("/api/rfm?definitions=true").get_json()["meta"]["definitions"]
    assert {"recency_days", "r_score", "segment", "revenue"} <= set(defined)
    assert meta["total"] == 92 and meta["returned"] == 92 and meta["next_offset"] is None
    champions = data_of(sample_client.get("/api/rfm?segment=Champions"))
    assert champions and {r["segment"] for r in champions} == {"Champions"}
    assert_error(sample_client.get("/api/rfm?segment=Royalty"), 400, parameter="segment")


# ---- data quality -----------------------------------------------------------------------------------------------


def test_data_quality_shows_the_current_report_and_history(client: FlaskClient):
    data = data_of(client.get("/api/data-quality"))
    report = data["report"]
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (2823, 2823, 0)
    assert report["encoding"] == "cp437"
    assert any(a["code"] == "price_each_capped" for a in report["anomalies"])
    assert report["country_codes"]["UK"] == "GBR"
    assert data["source"] == "sales_data_sample.csv"  # a file name, never a server path
    assert data["history"][0]["data_version"] == data["data_version"]
    assert data["history"][0]["rows_read"] == 2823


# ---- exports (the CSV of every view equals its endpoint's: tests/api/test_registry.py) -----------------------------------------------------------------------


def _xlsx_rows(content: bytes, sheet: int = 0) -> list[dict]:
    """A sheet's rows keyed by field name: the headers are people's labels, mapped back through the About
    sheet's "Column names" (field name, header)."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    about = list(book["About"].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(about) if row[0] == "Column names")
    field_of = {row[1]: row[0] for row in about[start + 2 :] if row[0] and row[1]}
    rows = list(book.worksheets[sheet].iter_rows(values_only=True))
    header = [field_of.get(h, h) for h in rows[0]]
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_kpi_and_forecast_exports_equal_the_api(client: FlaskClient):
    kpis = data_of(client.get("/api/kpis?dealsize=Large&detail=full"))
    rows = {r["metric"]: r for r in _xlsx_rows(client.get("/api/export?view=kpis&dealsize=Large").data)}
    head = kpis["headline"]
    for name in ("revenue", "order_count", "average_order_value", "customer_count", "units", "country_count"):
        # the headline period's value beside the year earlier's, both named; everything in view apart
        assert rows[name]["period"] == head["current_period"]["label"] == "Jan-May 2005"
        assert rows[name]["value"] == head["metrics"][name]["current"]
        assert rows[name]["compared_with"] == head["comparison_period"]["label"] == "Jan-May 2004"
        assert rows[name]["previous_value"] == head["metrics"][name]["previous"]
        assert rows[name]["change_pct"] == head["metrics"][name]["change_pct"]
        assert rows[name]["in_view_period"] == "Jan 2003-May 2005"
        assert rows[name]["in_view_value"] == kpis[name]
    month = kpis["growth"]["month_over_month"]
    assert rows["revenue"]["month"] == month["current_period"]["label"]
    assert rows["revenue"]["month_change_pct"] == month["metrics"]["revenue"]["change_pct"]
    api = data_of(client.get("/api/forecast?horizon=4&dealsize=Large"))
    exported = _xlsx_rows(client.get("/api/export?view=forecast&horizon=4&dealsize=Large").data)
    assert [(r["period"], r["revenue"], r["upper_95"]) for r in exported] == [
        (r["period"], r["revenue"], r["upper_95"]) for r in api
    ]


def test_export_parameters_are_validated(client: FlaskClient):
    assert_error(client.get("/api/export?view=nope"), 400, parameter="view")
    assert_error(client.get("/api/export"), 400, parameter="view")
    assert_error(client.get("/api/export?view=kpis&format=docx"), 400, parameter="format")
    assert_error(client.get("/api/export?view=kpis&format=png"), 400, parameter="format")
    assert_error(client.get("/api/export?view=kpis&horizon=3"), 400, parameter="horizon")
    assert_error(client.get("/api/export?view=top-customers&limit=500"), 400, parameter="limit")
    assert_error(client.get("/api/export?view=kpis&country=Atlantis"), 400, parameter="country")
    assert_error(client.get("/api/export?view=kpis&colour=red"), 400, parameter="colour")
    assert_error(client.get("/api/export?view=forecast&start=2005-01-01"), 422, code="insufficient_data")


def test_pdf_and_png_exports(client: FlaskClient):
    kpis = data_of(client.get("/api/kpis?country=USA"))
    version = client.get("/api/version").get_json()["data"]["data_version"]
    pdf = client.get("/api/export?view=heatmap&format=pdf&country=USA")
    # A 503 here says why in its envelope: no Chrome/Chromium (export_unavailable; `make test` installs it) or,
    # in a server, every render slot busy (export_busy); in-process, one export at a time never waits.
    assert pdf.status_code == 200, pdf.get_data(as_text=True)
    assert pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert money(kpis["revenue"]) in text
    assert version in text
    assert "USA" in text and "Revenue by month and year" in text
    png = client.get("/api/export?view=sales-by-country&format=png&country=USA,France")
    assert png.status_code == 200, png.get_data(as_text=True)
    assert png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).size == (2400, 1200)


# ---- uploads ----------------------------------------------------------------------------------------------------


def _csv(tmp_path: Path, name: str, rows: list[dict]) -> tuple[io.BytesIO, str]:
    return io.BytesIO(write_csv(tmp_path / name, rows).read_bytes()), name


def _upload(client: FlaskClient, token: str | None, file: tuple[io.BytesIO, str], query: str = ""):
    headers = bearer(token) if token else {}
    return client.post(
        f"/api/uploads{query}", data={"file": file}, headers=headers, content_type="multipart/form-data"
    )


def created(response) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


NEW_ROWS = [
    line(9001, date(2005, 2, 1), 1000.0),
    line(9001, date(2005, 2, 1), 234.5, line_number=2),
]


def test_upload_needs_an_admin_token(small_app: APIFlask, tokens: dict[str, str], tmp_path: Path):
    client = small_app.test_client()
    assert_error(_upload(client, None, _csv(tmp_path, "a.csv", NEW_ROWS)), 401)
    assert_error(_upload(client, tokens["viewer"], _csv(tmp_path, "a.csv", NEW_ROWS)), 403)
    assert_error(client.post("/api/uploads/whatever123456789/confirm", json={"mode": "replace"}), 401)


def test_upload_then_append_then_refuse_duplicates(
    small_app: APIFlask, tokens: dict[str, str], tmp_path: Path
):
    client = small_app.test_client()
    admin = bearer(tokens["admin"])
    before = data_of(client.get("/api/kpis"))
    version_before = client.get("/api/version").get_json()["data"]["data_version"]

    upload = created(_upload(client, tokens["admin"], _csv(tmp_path, "more.csv", NEW_ROWS)))
    assert upload["rows"] == 2
    assert upload["report"]["rows_read"] == 2
    assert upload["preview"][0]["sales"] == 1000.0
    assert upload["append_check"] == {
        "duplicate_lines": 0,
        "contradicting_lines": 0,
        "examples": [],
        "can_append": True,
    }
    # nothing changes before the confirmation
    assert client.get("/api/version").get_json()["data"]["data_version"] == version_before

    loaded = data_of(client.post(upload["confirm"], json={"mode": "append"}, headers=admin))
    assert loaded["previous_data_version"] == version_before
    assert loaded["row_count"] == 8 + 2
    assert client.get("/api/version").get_json()["data"]["data_version"] == loaded["data_version"]
    after = data_of(client.get("/api/kpis"))
    assert after["revenue"] == round(before["revenue"] + 1234.5, 2)
    history = data_of(client.get("/api/data-quality"))["history"]
    assert history[0]["load_mode"] == "append" and history[0]["source"] == "upload:more.csv"

    # confirmed uploads are gone
    assert_error(client.post(upload["confirm"], json={"mode": "append"}, headers=admin), 404)

    # the same lines again: the preview warns, and the append is refused with the lines listed
    again = created(_upload(client, tokens["admin"], _csv(tmp_path, "more.csv", NEW_ROWS)))
    assert again["append_check"]["duplicate_lines"] == 2 and not again["append_check"]["can_append"]
    error = assert_error(client.post(again["confirm"], json={"mode": "append"}, headers=admin), 409)
    assert error["code"] == "duplicate_order_lines"
    assert {(d["order_number"], d["order_line_number"]) for d in error["details"]} == {(9001, 1), (9001, 2)}
    assert data_of(client.get("/api/kpis"))["revenue"] == after["revenue"]


def test_upload_then_replace(small_app: APIFlask, tokens: dict[str, str], tmp_path: Path):
    client = small_app.test_client()
    upload = created(_upload(client, tokens["admin"], _csv(tmp_path, "new.csv", NEW_ROWS)))
    loaded = data_of(
        client.post(upload["confirm"], json={"mode": "replace"}, headers=bearer(tokens["admin"]))
    )
    assert loaded["row_count"] == 2 and loaded["mode"] == "replace"
    assert data_of(client.get("/api/kpis"))["revenue"] == 1234.5


def test_bad_uploads_and_confirmations(small_app: APIFlask, tokens: dict[str, str], tmp_path: Path):
    client = small_app.test_client()
    admin = bearer(tokens["admin"])
    bad = [line(9001, date(2005, 2, 1), 1000.0) | {"STATUS": "Lost", "QUANTITYORDERED": "many"}]
    error = assert_error(_upload(client, tokens["admin"], _csv(tmp_path, "bad.csv", bad)), 422)
    assert {d["column"] for d in error["details"]} >= {"STATUS", "QUANTITYORDERED"}
    upload = created(_upload(client, tokens["admin"], _csv(tmp_path, "ok.csv", NEW_ROWS)))
    assert_error(client.post(upload["confirm"], json={"mode": "merge"}, headers=admin), 400)
    assert_error(client.post(upload["confirm"], json={}, headers=admin), 400)
    assert_error(
        client.post("/api/uploads/not-a-real-upload-id/confirm", json={"mode": "replace"}, headers=admin), 404
    )
    assert_error(client.post("/api/uploads", headers=admin), 400)


def test_schemathesis_upload_endpoints_with_and_without_admin(sample_sqlite: Engine):
    """Generated requests (valid and invalid) against the upload endpoints: documented answers, never a 500."""
    import schemathesis

    from salesdash.tokens import create_token
    from tests.api.test_openapi import _fuzz

    app = app_for(sample_sqlite)
    admin = create_token(sample_sqlite, "admin", "fuzz uploads")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = {"POST /api/uploads", "POST /api/uploads/{upload_id}/confirm"}
    for headers in (None, bearer(admin)):
        cases, failures = _fuzz(schema, operations, headers=headers)
        assert not failures, "\n\n".join(failures[:5])
        assert cases >= 4 * 10


def test_rfm_customers_come_in_pages_with_every_segment_summed_up(sample_client: FlaskClient):
    everyone = data_of(sample_client.get("/api/rfm?sort=monetary&order=desc"))
    pages, offset = [], 0
    while offset is not None:
        response = sample_client.get(f"/api/rfm?sort=monetary&order=desc&limit=20&offset={offset}")
        meta = response.get_json()["meta"]
        assert meta["total"] == 92 and meta["limit"] == 20
        assert (
            sum(s["customer_count"] for s in meta["segments"]) == 92
        )  # the summary: every page, all segments
        pages.extend(data_of(response))
        offset = meta["next_offset"]
    assert pages == everyone
    assert [r["monetary"] for r in everyone] == sorted((r["monetary"] for r in everyone), reverse=True)
    loyal = sample_client.get("/api/rfm?segment=Loyal&sort=recency_days&limit=3").get_json()
    assert loyal["meta"]["total"] == next(
        s["customer_count"] for s in loyal["meta"]["segments"] if s["segment"] == "Loyal"
    )
    assert [r["recency_days"] for r in loyal["data"]] == sorted(r["recency_days"] for r in loyal["data"])
    as_csv = sample_client.get("/api/rfm?format=csv&limit=5")
    assert len(as_csv.get_data(as_text=True).strip().splitlines()) == 1 + 5
    for bad in ("limit=1001", "limit=0", "offset=-1", "sort=phone", "order=up"):
        assert_error(sample_client.get(f"/api/rfm?{bad}"), 400, parameter=bad.split("=")[0])
