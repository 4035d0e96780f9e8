"""The analytics pages in AppTest against a real API over HTTP (no mocks): forecast, data quality, RFM on the
Customers page, the KPI cards' period choice, the export buttons, and the upload flow on a fresh database."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from salesdash.charts.format import count, money, percent, period_name
from salesdash.config import Settings
from salesdash.dashboard.client import ApiClient, ApiError
from salesdash.dashboard.components.compare import chosen_comparison
from salesdash.dashboard.components.exports import fetcher, view_of
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.conftest import DATA, SMALL_CSV
from tests.dashboard.conftest import APP, LiveApi, readable, serve
from tests.orderlines import line, write_csv

TIMEOUT = 90


def run_app(query: dict[str, Any] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    return at


def text_of(at: AppTest) -> str:
    parts = [str(e.value) for e in (*at.markdown, *at.caption, *at.error, *at.info, *at.success, *at.warning)]
    return readable("\n".join(parts + [f"{m.label} {m.value}" for m in at.metric]))


def table_with(at: AppTest, *columns: str):
    """The first table on the page that has ``columns`` (tables carry no key in AppTest)."""
    for element in at.dataframe:
        if set(columns) <= set(element.value.columns):
            return element.value
    raise AssertionError(f"no table with columns {columns}")


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_forecast_page(dashboard_env: LiveApi) -> None:
    at = run_app(page="forecast")
    no_errors(at)
    api = dashboard_env.get("/api/forecast", horizon=3)
    cards = {m.label: m for m in at.metric}
    assert cards["Backtest error (MAPE)"].value == percent(api["meta"]["mape"])
    first = next(r for r in api["data"] if r["kind"] == "forecast")
    assert f"Forecast {period_name(first['period'])}" in cards  # "Forecast Jun 2005"
    assert any(str(e.proto.id).endswith("chart-forecast") for e in at.get("plotly_chart"))
    at.slider(key="forecast_horizon").set_value(6).run()
    no_errors(at)
    table = table_with(at, "Month", "80% range")
    assert len(table) == 6
    assert list(table["Month"])[:2] == ["Jun 2005", "Jul 2005"]  # months as people read them, not 2005-06


def test_forecast_page_warns_instead_of_a_confident_line(dashboard_env: LiveApi) -> None:
    """France + Motorcycles + 2004: one year of history and no revenue in the backtest months. The page says
    it is not reliable (the API's reason), names the card a rough guess, greys the line, and its backtest
    table says "no revenue" where there is no percentage error (never "None")."""
    query = {"country": "France", "productline": "Motorcycles", "start": "2004-01-01", "end": "2004-12-31"}
    at = run_app(query, page="forecast")
    no_errors(at)
    reliability = dashboard_env.get("/api/forecast", horizon=3, **query)["meta"]["reliability"]
    assert reliability["verdict"] == "insufficient_history"
    warnings = [str(w.value) for w in at.warning]
    assert any("Not a reliable forecast" in w and reliability["reason"] in w for w in warnings), warnings
    labels = [m.label for m in at.metric]
    assert any(label.startswith("Rough guess Jan 2005") for label in labels), labels
    chart = next(e for e in at.get("plotly_chart") if str(e.proto.id).endswith("chart-forecast"))
    assert "Rough guess (not reliable)" in chart.proto.spec
    errors = list(table_with(at, "Month", "Actual", "Error")["Error"])
    assert errors and "None" not in errors and all(e == "no revenue" or e.endswith("%") for e in errors)
    # the unfiltered default is reliable: no warning, a confident line
    default = run_app(page="forecast")
    no_errors(default)
    assert not default.warning
    assert any(m.label.startswith("Forecast ") for m in default.metric)


def test_forecast_page_explains_too_little_history(dashboard_env: LiveApi) -> None:
    at = run_app({"start": "2005-01-01"}, page="forecast")
    assert not at.exception
    assert "at least 12 complete months" in text_of(at)


def test_data_quality_page(dashboard_env: LiveApi) -> None:
    at = run_app(page="quality")
    no_errors(at)
    report = dashboard_env.get("/api/data-quality")["data"]["report"]
    cards = {m.label: m.value for m in at.metric}
    assert cards["Rows read"] == count(report["rows_read"]) == "2,823"
    assert cards["Rows rejected"] == "0"
    shown = text_of(at)
    assert "PRICEEACH is capped at 100.00" in shown
    assert "Partial year" in shown
    assert "cp437" in shown
    codes = table_with(at, "Country", "ISO-3")
    assert dict(zip(codes["Country"], codes["ISO-3"], strict=True))["UK"] == "GBR"
    history = table_with(at, "Data version", "Mode", "Rows read", "Encoding")  # people's headers
    assert len(history) >= 1
    assert cards["Order dates"] == "Jan 6, 2003"  # a date as people read it, not 2003-01-06


def test_customers_page_shows_rfm_segments(dashboard_env: LiveApi) -> None:
    at = run_app(page="customers")
    no_errors(at)
    segments = {s["segment"]: s for s in dashboard_env.get("/api/rfm")["meta"]["segments"]}
    control = at.segmented_control(key="customers_rfm_segment")
    assert control.value == "Champions"
    assert len(table_with(at, "recency_days")) == segments["Champions"]["customer_count"]
    control.set_value("Hibernating").run()
    no_errors(at)
    assert len(table_with(at, "recency_days")) == segments["Hibernating"]["customer_count"]


def test_kpi_cards_can_compare_with_the_previous_period(dashboard_env: LiveApi) -> None:
    at = run_app({"start": "2005-01-01", "end": "2005-05-31"})
    no_errors(at)
    revenue = next(m for m in at.metric if m.label.startswith("Revenue ·"))
    assert readable(revenue.label) == "Revenue · Jan-May 2005"
    assert readable(revenue.proto.delta_description) == "vs Jan-May 2004: $1,267,959.53"
    at.segmented_control(key="overview_compare").set_value("previous").run()
    no_errors(at)
    revenue = next(m for m in at.metric if m.label.startswith("Revenue ·"))
    data = dashboard_env.get("/api/comparisons", start="2005-01-01", end="2005-05-31")["data"]
    previous = data["previous_period"]["metrics"]["revenue"]
    assert readable(revenue.label) == "Revenue · Jan-May 2005"
    assert revenue.value == money(previous["current"])
    assert readable(revenue.proto.delta_description) == f"vs Aug-Dec 2004: {money(previous['previous'])}"
    assert revenue.delta == f"{previous['change_pct'] * 100:+.1f}%"


def test_previous_period_without_a_date_range_says_what_to_do() -> None:
    comparisons = {"previous_period": None, "notes": {"previous_period": "the data starts in Jan 2003"}}
    headline = {
        "label": "x",
        "current_period": {"label": "Jan-May 2005"},
        "comparison_period": {"label": "y"},
    }
    shown, note = chosen_comparison("previous", headline, comparisons)
    assert shown is not None and shown["comparison_period"] is None  # the values, without a change
    assert note is not None and "Pick a date range" in note and "Jan 2003" in note
    shown, note = chosen_comparison("year", headline, {})
    assert shown == headline and note is None


def test_export_buttons_download_what_the_api_exports(dashboard_env: LiveApi) -> None:
    at = run_app({"country": "France"}, page="products")
    no_errors(at)
    keys = {str(b.proto.id) for b in at.get("download_button")}
    assert any("export-product-lines-xlsx" in k for k in keys)
    assert any("export-product-lines-pdf" in k for k in keys)
    assert (view_of("/api/sales-by-category") or {}).get("name") == "sales-by-category"
    assert view_of("/api/filters") is None
    content = fetcher(
        ApiClient(dashboard_env.url), {"view": "sales-by-category", "format": "xlsx", "country": "France"}
    )()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    api = dashboard_env.get("/api/sales-by-category", country="France")["data"]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [r["revenue"] for r in api]
    refused = fetcher(ApiClient(dashboard_env.url), {"view": "kpis", "format": "png"})()
    assert refused.startswith(b"salesdash could not export this view: format=png")


@pytest.fixture
def fresh_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveApi]:
    """An API over tests/data/small.csv in a new database (the upload flow writes to it)."""
    url = f"sqlite:///{tmp_path / 'upload.db'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    token = create_token(engine, "admin", "upload test")
    server, thread = serve(Settings(database_url=url, source_path=SMALL_CSV), engine)
    live = LiveApi(f"http://127.0.0.1:{server.server_port}", engine, token)
    monkeypatch.setenv("SALESDASH_API_URL", live.url)
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "30")
    yield live
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()


def test_upload_flow_validate_preview_append(fresh_api: LiveApi, tmp_path: Path) -> None:
    rows = [line(9001, date(2005, 2, 1), 1000.0), line(9001, date(2005, 2, 1), 234.5, line_number=2)]
    content = write_csv(tmp_path / "more.csv", rows).read_bytes()
    before = fresh_api.get("/api/version")["data"]["data_version"]

    at = run_app(page="data")
    no_errors(at)
    assert at.button(key="upload_check").disabled  # nothing to validate yet
    at.text_input(key="session_token").set_value(fresh_api.admin_token)
    at.file_uploader(key="upload_file").set_value(("more.csv", content, "text/csv"))
    at.run()
    at.button(key="upload_check").click().run()
    no_errors(at)
    assert "more.csv** passed validation: 2 order lines" in text_of(at)
    labels = [m.label for m in at.metric]
    # the upload's report says "to load"; "Rows loaded" is only the current load's report
    assert labels.count("Rows to load") == 1 and labels.count("Rows loaded") == 1
    assert len(table_with(at, "order_number", "sales")) == 2
    assert fresh_api.get("/api/version")["data"]["data_version"] == before  # nothing loaded yet

    assert at.button(key="upload_replace").disabled  # a replace needs its confirmation first
    at.button(key="upload_append").click().run()
    no_errors(at)
    after = fresh_api.get("/api/version")["data"]["data_version"]
    assert after != before
    message = readable("\n".join(str(s.value) for s in at.success))
    assert f"New data version **{after}**" in message and "appended" in message
    assert fresh_api.get("/api/kpis")["data"]["line_count"] == 7 + 2

    # the same file again: the preview warns that an append is impossible, and the append is refused
    at.file_uploader(key="upload_file").set_value(("more.csv", content, "text/csv"))
    at.run()
    at.button(key="upload_check").click().run()
    assert (
        "Append is not possible: 2 of the file's order lines are already stored (the same ORDERNUMBER and "
        "ORDERLINENUMBER; a line is stored once)" in text_of(at)
    )
    assert at.button(key="upload_append").disabled  # an append the check knows will be refused
    # refused by the API all the same (a direct call): the exact count and why, no "another refresh" hint
    client = ApiClient(fresh_api.url)
    pending = client.post(
        "/api/uploads", token=fresh_api.admin_token, files={"file": ("more.csv", content, "text/csv")}
    ).data
    with pytest.raises(ApiError) as refused:
        client.post(
            str(pending["confirm"]).removeprefix("/"), token=fresh_api.admin_token, json={"mode": "append"}
        )
    assert refused.value.status == 409
    assert refused.value.message.startswith("2 order line(s) of the file are already stored")
    assert "Another" not in (refused.value.hint or "")
    assert fresh_api.get("/api/version")["data"]["data_version"] == after


def test_upload_needs_a_token_and_bad_files_are_explained(fresh_api: LiveApi, tmp_path: Path) -> None:
    bad = write_csv(
        tmp_path / "bad.csv", [line(9001, date(2005, 2, 1), 1000.0) | {"STATUS": "Lost"}]
    ).read_bytes()
    at = run_app(page="data")
    at.file_uploader(key="upload_file").set_value(("bad.csv", bad, "text/csv"))
    at.run()
    assert at.button(key="upload_check").disabled  # no token yet
    assert any("Your token" in str(i.value) for i in at.info)
    at.text_input(key="session_token").set_value(fresh_api.admin_token).run()
    at.button(key="upload_check").click().run()
    errors = "\n".join(str(e.value) for e in at.error)
    assert "The file was not accepted." in errors and "STATUS" in errors
    assert fresh_api.admin_token not in text_of(at) + errors


def test_replace_shows_before_and_after_and_needs_a_confirmation(fresh_api: LiveApi) -> None:
    content = (DATA / "replacement.csv").read_bytes()
    before = fresh_api.get("/api/version")["data"]["data_version"]
    at = run_app(page="data")
    at.text_input(key="session_token").set_value(fresh_api.admin_token)
    at.file_uploader(key="upload_file").set_value(("replacement.csv", content, "text/csv"))
    at.run()
    at.button(key="upload_check").click().run()
    no_errors(at)

    (summary,) = [t.value for t in at.table if "after the replace" in t.value.columns]
    rows = {label: tuple(values) for label, values in summary.iterrows()}
    # now: tests/data/small.csv (hand-computed in tests/metrics); after: the file (tests/api/test_replace_check.py)
    assert rows["Order lines (all statuses)"] == ("8", "227")  # small.csv: 8 lines, one Cancelled
    assert rows["Orders"][1] == "29" and rows["Revenue"][1] == "$880,320.66"
    assert rows["Order dates"][1] == "2005-01-05 to 2005-05-31"
    assert "Disappear after the replace" in text_of(at)
    assert at.button(key="upload_replace").disabled  # not before the confirmation
    assert fresh_api.get("/api/version")["data"]["data_version"] == before

    at.checkbox(key="upload_replace_confirmed").check().run()
    assert not at.button(key="upload_replace").disabled
    at.button(key="upload_replace").click().run()
    no_errors(at)
    assert fresh_api.get("/api/version")["data"]["data_version"] != before
    kpis = fresh_api.get("/api/kpis")["data"]
    assert (kpis["revenue"], kpis["order_count"]) == (880320.66, 29)
    assert "replaced the data" in text_of(at)


def shown_headers(element: Any) -> list[str]:
    """The headers a table shows: its column config's label, else the column's name."""
    import json

    config = json.loads(element.proto.columns or "{}")
    names = [str(c) for c in element.value.columns]
    return [str((config.get(n) or {}).get("label") or n) for n in names]


@pytest.mark.parametrize(
    "page", ["overview", "geography", "products", "customers", "orders", "forecast", "quality"]
)
def test_every_table_header_is_a_label_people_read(dashboard_env: LiveApi, page: str) -> None:
    at = run_app(page=None if page == "overview" else page)
    no_errors(at)
    headers = [h for element in at.dataframe for h in shown_headers(element)]
    assert headers or page == "overview"
    assert [h for h in headers if "_" in h or not (h[:1].isupper() or h[:1].isdigit() or h == "#")] == [], (
        page
    )
    if page == "customers":
        assert "Average order value" in headers
