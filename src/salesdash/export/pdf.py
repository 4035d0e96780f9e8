"""The one-click PDF report (fpdf2): KPIs with like-for-like growth, the main charts, the top tables, a
forecast, the filters applied and the data version on every page, and the metric definitions.

Every number comes from the same views as the API and the Excel export (:mod:`salesdash.views`); the
charts are the dashboard's pure Plotly figures rendered by kaleido.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import Connection

from salesdash import __version__
from salesdash.charts.format import (
    count,
    money,
    money_range,
    percent,
    period_name,
    period_text,
    signed_percent,
    value_text,
)
from salesdash.errors import SalesdashError
from salesdash.export.files import (
    ExportContext,
    describe_filters,
    view_definitions,
)
from salesdash.export.images import for_export, render_png
from salesdash.export_safety import neutralise
from salesdash.filters import Filters
from salesdash.views import ViewData, compute_view, records_of
from salesdash.vocabulary import METRICS, label, territory_name, unit

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")
INK = (49, 51, 63)
MUTED = (95, 107, 122)
HEADING_FILL = (232, 238, 246)
RATIOS = {"sales-by-country": 0.7}  # chart height / width in the PDF (20 country bars need the height)
BOTTOM = 18  # mm kept free for the footer (the auto page break margin)
LINE_HEIGHT = 5.2
REPORT_VIEWS = ("kpis", "sales-over-time", "sales-by-category", "sales-by-country", "top-customers")


@dataclass
class Report:
    """The views a report shows (computed in one snapshot) and the optional view it was asked from."""

    context: ExportContext
    views: dict[str, ViewData]
    forecast: ViewData | None = None
    forecast_problem: str | None = None
    focus: ViewData | None = None
    figures: dict[str, go.Figure] = field(default_factory=dict)


def build_report(
    conn: Connection,
    filters: Filters,
    context: ExportContext,
    *,
    focus: str | None = None,
    focus_params: dict[str, Any] | None = None,
) -> Report:
    """Compute everything the report shows inside one read snapshot ``conn``."""
    views = {
        "kpis": compute_view(conn, filters, "kpis"),
        "sales-over-time": compute_view(conn, filters, "sales-over-time", {"period": "monthly"}),
        "sales-by-category": compute_view(conn, filters, "sales-by-category"),
        "sales-by-country": compute_view(conn, filters, "sales-by-country"),
        "top-customers": compute_view(conn, filters, "top-customers", {"limit": 10}),
    }
    report = Report(context, views)
    try:
        horizon = int((focus_params or {}).get("horizon", 3)) if focus == "forecast" else 3
        report.forecast = compute_view(conn, filters, "forecast", {"horizon": horizon})
    except SalesdashError as exc:  # too little history: the report says so instead of failing
        report.forecast_problem = exc.message
    if focus and focus not in REPORT_VIEWS and focus != "forecast":
        report.focus = compute_view(conn, filters, focus, focus_params)
    return report


def _font_file(name: str) -> Path | None:
    for folder in FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


class _PDF(FPDF):
    footer_text = ""
    unicode = False

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.font_family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 6, f"page {self.page_no()} of {{nb}}", align="R")


class _Writer:
    def __init__(self, context: ExportContext) -> None:
        pdf = _PDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(auto=True, margin=BOTTOM)
        regular, bold = _font_file("DejaVuSans.ttf"), _font_file("DejaVuSans-Bold.ttf")
        if regular and bold:
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            pdf.set_font("DejaVu", "", 10)
            pdf.unicode = True
        else:  # the PDF core fonts cover Latin-1 only; other characters become "?"
            pdf.set_font("Helvetica", "", 10)
        pdf.footer_text = (
            f"salesdash · data version {context.data_version} · generated {context.generated_at}"
        )
        pdf.set_title("salesdash sales report")
        pdf.set_creator(f"salesdash {__version__}")
        self.pdf = pdf
        self.width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(self, value: Any) -> str:
        text = str(value)
        if not self.pdf.unicode:
            text = text.encode("latin-1", "replace").decode("latin-1")
        return text

    def heading(self, text: str, size: int = 14, keep: float = 40) -> None:
        """A heading, on a new page unless ``keep`` mm (what follows it) fit below it."""
        pdf = self.pdf
        if pdf.get_y() + 12 + keep > pdf.h - 18:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(pdf.font_family, "B", size)
        pdf.set_text_color(*INK)
        pdf.cell(0, 8, self.text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.font_family, "", 10)

    def para(self, text: str, size: float = 9, color: tuple[int, int, int] = MUTED) -> None:
        pdf = self.pdf
        pdf.set_font(pdf.font_family, "", size)
        pdf.set_text_color(*color)
        pdf.multi_cell(0, 4.5, self.text(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*INK)
        pdf.set_font(pdf.font_family, "", 10)

    def room(self) -> float:
        """mm left on this page above the footer."""
        return self.pdf.h - BOTTOM - self.pdf.get_y()

    def table_height(
        self, headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float], size: float
    ) -> float:
        """The height a table will take (each row as tall as its most wrapped cell)."""
        pdf = self.pdf
        scale = self.width / sum(widths)
        total = 0.0
        for bold, row in ((True, headers), *((False, r) for r in rows)):
            pdf.set_font(pdf.font_family, "B" if bold else "", size)
            lines = 1
            for value, width in zip(row, widths, strict=True):
                room = max(width * scale - 2.4, 1.0)
                words = self.text(value).split() or [""]
                line, count = "", 1
                for word in words:  # the greedy wrap fpdf does
                    trial = f"{line} {word}".strip()
                    if pdf.get_string_width(trial) > room and line:
                        count, line = count + 1, word
                    else:
                        line = trial
                lines = max(lines, count)
            total += lines * LINE_HEIGHT + 1.6
        pdf.set_font(pdf.font_family, "", 10)
        return total + 2

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        align: Sequence[str],
        size: float = 9,
    ) -> None:
        """A table kept whole on one page when it fits on one (else its headings repeat on every page)."""
        pdf = self.pdf
        needed = self.table_height(headers, rows, widths, size)
        if needed > self.room() and needed <= pdf.h - BOTTOM - pdf.t_margin:
            pdf.add_page()
        pdf.set_font(pdf.font_family, "", size)
        pdf.set_text_color(*INK)
        style = FontFace(emphasis="BOLD", fill_color=HEADING_FILL)
        with pdf.table(
            col_widths=tuple(widths),
            text_align=tuple(align),
            headings_style=style,
            line_height=LINE_HEIGHT,
            repeat_headings=1,
            borders_layout="HORIZONTAL_LINES",
            width=self.width,
            padding=(0.8, 1.2),
        ) as table:
            head = table.row()
            for h in headers:
                head.cell(self.text(h))
            for row in rows:
                cells = table.row()
                for value, side in zip(row, align, strict=True):
                    # right-aligned columns hold numbers salesdash formatted ("-$65,037.06", "-82.2%"): shown
                    # as they are; text from the data is neutralised like in every export
                    safe = (
                        value if side == "RIGHT" else neutralise(value) if isinstance(value, str) else value
                    )
                    cells.cell(self.text(safe))
        pdf.ln(2)

    def chart_height(self, height_ratio: float = 0.5) -> float:
        return self.width * height_ratio

    def image(self, png: bytes, height_ratio: float = 0.5) -> None:
        pdf = self.pdf
        height = self.chart_height(height_ratio)
        if pdf.get_y() + height > pdf.h - 18:
            pdf.add_page()
        pdf.image(io.BytesIO(png), x=pdf.l_margin, w=self.width, h=height)
        pdf.ln(2)


PDF_CARDS = ("revenue", "order_count", "average_order_value", "customer_count", "units", "country_count")


def _fit(w: _Writer, width: float, text: str, size: float, style: str = "") -> None:
    """One line of ``text`` in ``width`` mm: the font shrinks (to 70%) rather than the text being cut."""
    pdf = w.pdf
    shown = w.text(text)
    pdf.set_font(pdf.font_family, style, size)
    while pdf.get_string_width(shown) > width and pdf.font_size_pt > size * 0.7:
        pdf.set_font(pdf.font_family, style, pdf.font_size_pt - 0.5)
    pdf.cell(width, 4.5, shown)


def _kpi_cards(w: _Writer, kpis: ViewData) -> None:
    """The headline period's values beside the same dates a year earlier (both named), as on the dashboard's
    cards (docs/metrics.md), then everything in view without a change."""
    rows = {r["metric"]: r for r in kpis.records()}
    head = (kpis.data or {}).get("headline")
    pdf = w.pdf
    if not head:
        w.para("No order lines in view for these filters.", size=9)
        return
    w.para(
        f"{head['current_period']['label']} (the latest year to date in view)"
        + (f" vs {head['comparison_period']['label']}" if head["comparison_period"] else ""),
        size=9,
        color=INK,
    )
    gap = 4.0
    card_w = (w.width - 2 * gap) / 3
    card_h = 25.0
    inner = card_w - 6
    top = pdf.get_y()
    for i, metric in enumerate(PDF_CARDS):
        row = rows[metric]
        name = METRICS[metric].label
        fmt = money if METRICS[metric].unit == "currency" else count
        x = pdf.l_margin + (i % 3) * (card_w + gap)
        y = top + (i // 3) * (card_h + gap)
        pdf.set_fill_color(246, 248, 251)
        pdf.set_draw_color(220, 225, 232)
        pdf.rect(x, y, card_w, card_h, style="DF")
        pdf.set_xy(x + 3, y + 2)
        pdf.set_text_color(*MUTED)
        _fit(w, inner, f"{name} · {row['period']}", 8.5)
        pdf.set_xy(x + 3, y + 7)
        pdf.set_text_color(*INK)
        _fit(w, inner, fmt(row["value"]), 14, "B")
        change = row["change_pct"]
        pdf.set_xy(x + 3, y + 14)
        if row["compared_with"] is None:
            pdf.set_text_color(*MUTED)
            _fit(w, inner, "no change: no year earlier in the data", 8)
        else:
            if change is None:
                pdf.set_text_color(*MUTED)
                _fit(w, inner, "no change (nothing a year earlier)", 8)
            else:
                pdf.set_text_color(0, 114, 178) if change >= 0 else pdf.set_text_color(213, 94, 0)
                arrow = ("▲ " if change >= 0 else "▼ ") if pdf.unicode else ""
                _fit(w, inner, f"{arrow}{signed_percent(change)}", 8.5, "B")
            pdf.set_xy(x + 3, y + 19)
            pdf.set_text_color(*MUTED)
            _fit(w, inner, f"vs {row['compared_with']}: {fmt(row['previous_value'])}", 8)
    pdf.set_text_color(*INK)
    pdf.set_font(pdf.font_family, "", 10)
    pdf.set_y(top + 2 * card_h + gap + 3)
    if not head["comparison_period"] and head.get("note"):
        w.para(str(head["note"]), size=8)
    w.para(
        f"All of {rows['revenue']['in_view_period']} in view (no change shown): revenue "
        f"{money(rows['revenue']['in_view_value'])} · {count(rows['order_count']['in_view_value'])} orders · "
        f"average order value {money(rows['average_order_value']['in_view_value'])} · "
        f"{count(rows['customer_count']['in_view_value'])} customers · "
        f"{count(rows['country_count']['in_view_value'])} countries",
        size=8.5,
        color=INK,
    )
    month = ((kpis.data or {}).get("growth") or {}).get("month_over_month")
    if month:
        m = month["metrics"]["revenue"]
        w.para(
            f"Last complete month: {month['current_period']['label']} revenue {money(m['current'])}, "
            f"{signed_percent(m['change_pct'])} vs {month['comparison_period']['label']}: {money(m['previous'])}.",
            size=8.5,
            color=INK,
        )


def _breakdown_rows(view: ViewData, name_col: str, limit: int = 10) -> list[list[Any]]:
    return [
        [
            r.get("rank", i + 1),
            r[name_col],
            money(r["revenue"]),
            count(r["order_count"]),
            percent(r["revenue_share"]),
        ]
        for i, r in enumerate(view.records()[:limit])
    ]


def report_figures(report: Report) -> dict[str, go.Figure]:
    """The charts the report prints, by view (each drawn at width 860 px and ``RATIOS`` of it high)."""
    countries = len(report.views["sales-by-country"].frame)
    subtitle = report.context.filters.applied_text()
    figs: dict[str, go.Figure] = {}
    for key, title in (
        ("sales-over-time", "Monthly revenue and orders"),
        ("sales-by-category", "Revenue by product line"),
        (
            "sales-by-country",
            f"Revenue by country (top 20 of {countries})" if countries > 20 else "Revenue by country",
        ),
    ):
        fig = report.views[key].figure()
        if fig is not None:
            figs[key] = for_export(fig, title, subtitle)
    if report.forecast is not None:
        fig = report.forecast.figure()
        if fig is not None:
            figs["forecast"] = for_export(
                fig,
                f"Revenue forecast, next {report.forecast.params['horizon']} months (80% and 95% intervals)",
                subtitle,
            )
    if report.focus is not None:
        fig = report.focus.figure()
        if fig is not None:
            figs["focus"] = for_export(fig, report.focus.title, subtitle)
    return figs


def to_pdf(report: Report) -> bytes:
    """Render ``report`` to PDF bytes (charts rendered in one browser session)."""
    figs = report_figures(report)
    # 860 CSS px across 180 mm: chart text prints at a readable size; scale 3 keeps it sharp
    pngs: dict[str, bytes] = {}
    for ratio in sorted({RATIOS.get(k, 0.5) for k in figs}):  # drawn at the shape they are printed in
        group = [k for k in figs if RATIOS.get(k, 0.5) == ratio]
        images = render_png([figs[k] for k in group], width=860, height=round(860 * ratio), scale=3)
        pngs |= dict(zip(group, images, strict=True))
    ctx = report.context
    w = _Writer(ctx)
    pdf = w.pdf
    pdf.add_page()
    pdf.set_font(pdf.font_family, "B", 20)
    pdf.cell(0, 10, "Sales report", new_x="LMARGIN", new_y="NEXT")
    w.para(f"Data version {ctx.data_version} · generated {ctx.generated_at} · salesdash {__version__}")

    w.heading("Filters applied", 12)
    filters = describe_filters(ctx.filters)
    w.table(["Filter", "Value"], [[k, v] for k, v in filters], (35, 145), ("LEFT", "LEFT"))
    for note in report.views["sales-over-time"].notes:  # a partial period on the monthly chart
        w.para(note, size=8)

    w.heading("Key figures", 12)
    _kpi_cards(w, report.views["kpis"])
    if "sales-over-time" in pngs:
        w.image(pngs["sales-over-time"])

    ranked = ["#", "Name", label("revenue"), label("order_count"), "Share"]
    widths, align = (8, 72, 40, 30, 30), ("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
    for key, title, name_col, header, ratio in (
        ("sales-by-category", "Product lines", "product_line", label("product_line"), 0.5),
        ("sales-by-country", "Countries", "country", label("country"), RATIOS["sales-by-country"]),
    ):
        view = report.views[key]
        headers = [*ranked[:1], header, *ranked[2:]]
        rows = _breakdown_rows(view, name_col)
        w.heading(
            title, keep=w.chart_height(ratio) if key in pngs else w.table_height(headers, rows, widths, 9)
        )
        if key in pngs:
            w.image(pngs[key], height_ratio=ratio)
        w.table(headers, rows, widths, align)
        for note in view.notes:  # e.g. order counts that add up to more than the orders in view
            w.para(note, size=8)

    customers = _breakdown_rows(report.views["top-customers"], "customer_name")
    headers = ["#", "Customer", *ranked[2:]]
    w.heading("Top 10 customers", keep=w.table_height(headers, customers, widths, 9))
    w.table(headers, customers, widths, align)

    w.heading("Forecast", keep=w.chart_height() if report.forecast else 20)
    if report.forecast is None:
        w.para(f"No forecast: {report.forecast_problem}", size=9)
    else:
        if "forecast" in pngs:
            w.image(pngs["forecast"])
        rows = [
            [
                period_text("month", f"{r['period']}-01"),
                money(r["revenue"]),
                money_range(r["lower_80"], r["upper_80"]),
                money_range(r["lower_95"], r["upper_95"]),
            ]
            for r in report.forecast.records()
            if r["kind"] == "forecast"
        ]
        w.table(
            ["Month", "Forecast", "80% interval", "95% interval"],
            rows,
            (25, 40, 57.5, 57.5),
            ("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        )
        for note in report.forecast.notes:
            w.para(note, size=8)

    if report.focus is not None:
        focus = report.focus
        w.heading(focus.title, keep=w.chart_height() if "focus" in pngs else 40)
        if "focus" in pngs:
            w.image(pngs["focus"])
        for title, table in focus.extra.items():
            w.heading(title, 11, keep=30)
            _frame_table(w, table, [str(c) for c in table.columns if c != "description"][:8])
        if len(focus.frame.columns):
            columns = focus.summary_columns or [str(c) for c in focus.frame.columns][:7]
            _frame_table(w, focus.frame.head(25), columns)
            if len(focus.frame) > 25:
                w.para(f"First 25 of {len(focus.frame):,} rows; the Excel export has them all.", size=8)
        for note in focus.notes:
            w.para(note, size=8)

    defs = view_definitions(report.views["kpis"]) | view_definitions(report.views["sales-by-category"])
    if report.focus is not None:
        defs |= view_definitions(report.focus)
    rows = [[label(k), v] for k, v in defs.items()]  # the names people read
    w.heading("Metric definitions", 12, keep=w.table_height(["Metric", "Definition"], rows, (42, 138), 8))
    w.table(["Metric", "Definition"], rows, (42, 138), ("LEFT", "LEFT"), size=8)
    return bytes(pdf.output())


def _cell(value: Any, column: str) -> str:
    if column == "territory" and isinstance(value, str):
        return territory_name(value) or value
    if column in ("period", "cohort") and isinstance(value, str):
        return period_name(value)  # "Jun 2005", "Q3 2004": months as people read them
    return value_text(value, unit(column))


def _frame_table(w: _Writer, frame: Any, columns: list[str]) -> None:
    records = records_of(frame)
    numeric = {c for c in columns if records and isinstance(records[0].get(c), int | float)}
    w.table(
        [label(c) for c in columns],  # the names people read, not field names
        [[_cell(r.get(c), c) for c in columns] for r in records],
        [w.width / len(columns)] * len(columns),
        ["RIGHT" if c in numeric else "LEFT" for c in columns],
        size=7,
    )
