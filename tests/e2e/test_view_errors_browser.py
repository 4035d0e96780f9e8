"""An API failure while a view reruns on its own (a control inside the view, or a live update) shows the
dashboard's notice in the view's place, never Streamlit's exception box: in a real Chromium, the Overview is
drawn, the API process is stopped, and a click on the time grain (a control inside the Sales over time view,
which reruns that view alone) asks the API for an answer it has not cached."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from salesdash.vocabulary import GRAIN_LABELS
from tests.e2e.browser import api_and_dashboard, full_screenshot, goto_ready

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_a_view_rerun_alone_shows_the_notice_when_the_api_is_gone(tmp_path: Path, browser: Browser) -> None:
    with api_and_dashboard(tmp_path) as stack:
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        page = context.new_page()
        goto_ready(page, stack.dashboard, "Sales overview", charts=3, metrics=5)
        assert stack.api_process is not None
        stack.api_process.terminate()
        stack.api_process.wait(timeout=30)
        view = page.locator(".st-key-view-overview-over-time")
        view.get_by_role("radio", name=GRAIN_LABELS["quarter"]).or_(
            view.get_by_role("button", name=GRAIN_LABELS["quarter"])
        ).first.click()
        view.get_by_text("The API is not available").first.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        # the rest of the page keeps what it drew: the cards are still there
        assert page.locator('[data-testid="stMetricValue"]').count() >= 5
        ARTIFACTS.mkdir(exist_ok=True)
        full_screenshot(page, ARTIFACTS / "view-error-1400.png", 1400)
        context.close()
