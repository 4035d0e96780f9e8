"""The PDF report as a reader gets it: every page rendered to PNG (pdftoppm) and read back, the text extracted
page by page, and the charts it prints checked for labels cut off (each chart drawn as SVG by the same
renderer and measured in a real Chromium). Starts a real headless Chromium."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from pypdf import PdfReader
from sqlalchemy import Engine

from salesdash.export import ExportContext
from salesdash.export.images import Renderer
from salesdash.export.pdf import RATIOS, build_report, report_figures, to_pdf
from salesdash.ingest import ingest_file
from salesdash.metrics import METRICS, Filters
from salesdash.store import current_version, make_engine, snapshot
from tests.conftest import SAMPLE_CSV

CHROMIUM = "/usr/bin/chromium"
PRODUCT_LINES = (
    "Classic Cars",
    "Vintage Cars",
    "Motorcycles",
    "Trucks and Buses",
    "Planes",
    "Ships",
    "Trains",
)
# the bounding box of every axis tick label and legend entry, and the drawing's size
LABEL_BOXES_JS = """
() => {
  const svg = document.querySelector('svg');
  const width = svg.width.baseVal.value, height = svg.height.baseVal.value;
  const boxes = Array.from(svg.querySelectorAll('.xtick text, .ytick text, .y2tick text, .legendtext'))
    .map(t => { const b = t.getBBox(); const m = t.getCTM();
                return {text: t.textContent, left: b.x + m.e, right: b.x + b.width + m.e,
                        top: b.y + m.f, bottom: b.y + b.height + m.f}; });
  return {width, height, boxes};
}
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('pdf') / 'sample.db'}")
    ingest_file(engine, SAMPLE_CSV)
    return engine


def _report(engine: Engine, filters: Filters):
    version = current_version(engine)
    assert version is not None
    context = ExportContext(version.version, datetime(2026, 1, 2, 3, 4, 5).isoformat(), filters)
    with snapshot(engine) as conn:
        return build_report(conn, filters, context)


@pytest.fixture(scope="module")
def report_pdf(sample: Engine) -> bytes:
    return to_pdf(_report(sample, Filters()))


def test_every_page_renders_and_none_is_near_empty(report_pdf: bytes, tmp_path: Path):
    assert shutil.which("pdftoppm"), "pdftoppm is missing: apt-get install poppler-utils (make test does)"
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(report_pdf)).pages) >= 4
    for page in pages:
        image = Image.open(page).convert("L")
        width, height = image.size
        body = image.crop((0, 0, width, int(height * 0.93)))  # above the footer
        inked = [y for y in range(body.size[1]) if min(body.crop((0, y, width, y + 1)).getdata()) < 200]
        assert inked, f"{page.name} is blank"
        used = (inked[-1] - inked[0]) / height
        assert used > 0.25, f"{page.name} is near-empty: content covers {used:.0%} of the page"


def test_the_text_names_both_periods_and_every_label_in_full(report_pdf: bytes):
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(report_pdf)).pages]
    text = " ".join("\n".join(pages).split())  # lines wrap where the page is narrow
    # the KPI rule: a value and its change beside the period each belongs to
    assert "Revenue · Jan-May 2005" in text and "$1,791,486.71" in text
    assert "+41.3%" in text and "vs Jan-May 2004: $1,267,959.53" in text
    assert "All of Jan 2003-May 2005 in view (no change shown): revenue $9,838,141.37" in text
    assert "Countries · Jan-May 2005" in text and "vs Jan-May 2004: 14" in text
    for name in (*PRODUCT_LINES, "USA", "Spain", "Denmark"):
        assert name in text, name
    # readable names, the filters as the dashboard names them
    for metric in ("revenue", "order_count", "average_order_value", "customer_count"):
        assert METRICS[metric].label in text
    definitions = text.split("Metric definitions")[1]
    assert definitions.startswith(" Metric Definition Revenue Sum of SALES")
    assert "Average order value revenue / order_count" in definitions  # the name as people read it
    applied = text.split("Key figures")[0]  # every filter the dashboard offers, restricting or not
    assert "Statuses" in applied and "Territories all territories" in applied
    assert "Product codes all products" in applied and "Customers all customers" in applied
    assert "An order with lines in several product lines counts under each" in text
    # a table is never split from its heading or across pages
    top = next(i for i, p in enumerate(pages) if "Top 10 customers" in p)
    assert "Souveniers And Things Co." in pages[top] and "Euro Shopping Channel" in pages[top]


def test_no_chart_of_the_report_cuts_a_label(sample: Engine):
    report = _report(sample, Filters())
    figures = report_figures(report)
    assert {"sales-over-time", "sales-by-category", "sales-by-country"} <= set(figures)
    renderer = Renderer()
    try:
        svgs = {
            key: renderer.render(
                [fig], {"format": "svg", "width": 860, "height": round(860 * RATIOS.get(key, 0.5))}
            )[0]
            for key, fig in figures.items()
        }
    finally:
        renderer.close()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            for key, svg in svgs.items():
                page.set_content(svg.decode("utf-8"))
                found = page.evaluate(LABEL_BOXES_JS)
                texts = [b["text"].strip() for b in found["boxes"]]
                if key == "sales-by-category":
                    assert set(PRODUCT_LINES) <= set(texts), texts
                if key == "sales-by-country":
                    assert {"USA", "Philippines", "Switzerland"} <= set(texts), texts
                for box in found["boxes"]:
                    assert box["left"] >= 0 and box["right"] <= found["width"], (key, box)
                    assert box["top"] >= 0 and box["bottom"] <= found["height"], (key, box)
        finally:
            browser.close()
