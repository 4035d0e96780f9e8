"""The Light/Dark switch and the charts' text alternatives in the running app (AppTest against the real API):
the switch changes the page's CSS and every chart's Plotly template, the choice is kept in the URL, and every
chart on every page has its summary line and a working "View as table"."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from salesdash.charts.describe import META_KEY
from salesdash.charts.theme import DARK, LIGHT, OKABE_ITO
from salesdash.dashboard.components.theme import css
from salesdash.dashboard.state import link_problems
from tests.dashboard.conftest import LiveApi, readable
from tests.dashboard.test_app import run_app

PAGES = ["overview", "geography", "products", "customers", "seasonality", "orders", "forecast", "quality"]


def specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def styles(at: AppTest) -> str:
    return "\n".join(str(element.proto.body) for element in at.get("html"))


def open_page(page: str, query: dict[str, Any] | None = None) -> AppTest:
    at = run_app(query)
    if page != "overview":
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_switch_changes_the_page_and_the_chart_template(dashboard_env: LiveApi) -> None:
    at = run_app()
    switch = at.segmented_control(key="theme")
    assert switch.value == "light" and switch.options == ["Light", "Dark"]
    assert DARK.background not in styles(at)
    assert {s["layout"]["template"]["layout"]["font"]["color"] for s in specs(at)} == {LIGHT.text}

    switch.set_value("dark").run()
    assert not at.exception
    assert css(DARK) in styles(at)  # the page background, sidebar and widgets in the dark palette
    templates = [s["layout"]["template"]["layout"] for s in specs(at)]
    assert templates and all(t["font"]["color"] == DARK.text for t in templates)
    assert all(t["xaxis"]["gridcolor"] == DARK.grid for t in templates)

    at.switch_page("views/geography.py").run()  # kept across pages
    assert at.segmented_control(key="theme").value == "dark"
    assert all(s["layout"]["template"]["layout"]["geo"]["landcolor"] == DARK.land for s in specs(at))


def test_a_link_with_theme_dark_opens_dark(dashboard_env: LiveApi) -> None:
    at = run_app({"theme": "Dark"})  # the URL holds the switch's label, as the browser writes it
    assert at.segmented_control(key="theme").value == "dark"
    assert not at.warning, [w.value for w in at.warning]  # a theme is not an unknown filter
    assert {s["layout"]["template"]["layout"]["font"]["color"] for s in specs(at)} == {DARK.text}


def test_an_unknown_theme_in_a_link_is_said_not_ignored() -> None:
    assert link_problems({"theme": ["Dark"]}, {}) == []
    assert link_problems({"theme": ["light"]}, {}) == []
    assert link_problems({"theme": ["neon"]}, {}) == ["theme=neon is not a theme (use light or dark)"]


def test_css_holds_palette_colours_only() -> None:
    """The style sheet is made from the palette: no value from the data or the URL can reach it."""
    assert css(LIGHT).count("#") == css(LIGHT).count(LIGHT.primary)  # light: only the focus ring
    assert "focus-visible" in css(LIGHT) and "focus-visible" in css(DARK)
    colours = {
        DARK.background,
        DARK.surface,
        DARK.text,
        DARK.muted_text,
        DARK.grid,
        DARK.border,
        DARK.primary,
        OKABE_ITO["green"],  # the KPI cards' up and down arrows
        OKABE_ITO["vermillion"],
    }
    assert set(re.findall(r"#[0-9A-Fa-f]{6}", css(DARK))) <= colours


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_has_a_summary_line_and_a_working_table_toggle(dashboard_env: LiveApi, page: str) -> None:
    at = open_page(page)
    drawn = specs(at)
    assert drawn, f"{page} drew no chart"
    summaries = [s["layout"]["meta"][META_KEY]["summary"] for s in drawn]
    assert all(summaries), page
    captions = [readable(str(c.value)) for c in at.caption]
    for summary in summaries:
        assert summary in captions, (page, summary)
    toggles = [t for t in at.toggle if t.label == "View as table"]
    assert len(toggles) == len(drawn), page
    tables_before = len(at.dataframe)
    for toggle in toggles:
        toggle.set_value(True)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) == tables_before + len(drawn), page
    shown = [list(frame.value.to_dict("records")) for frame in at.dataframe]
    for spec in specs(at):
        table = spec["layout"]["meta"][META_KEY]["table"]
        assert table in shown, (page, table[:2])  # the numbers the chart draws, as a table
