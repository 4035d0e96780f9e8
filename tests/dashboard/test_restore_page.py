"""The Data page's Restore button against a real API: nothing changes until the confirmation, then the chosen
version's data is current again (as a new data version)."""

from __future__ import annotations

from salesdash.ingest import ingest_file
from tests.conftest import SAMPLE_CSV
from tests.dashboard.conftest import LiveApi
from tests.dashboard.test_app import all_text, run_app


def test_restore_asks_first_then_restores(dashboard_env: LiveApi) -> None:
    # a second load of the same bundled data, so the session's other tests see the same figures
    ingest_file(dashboard_env.engine, SAMPLE_CSV)
    current, earlier = dashboard_env.get("/api/data-versions", limit=2)["data"]
    assert earlier["restorable"]
    revenue = dashboard_env.get("/api/kpis")["data"]
    at = run_app()
    at.switch_page("views/data.py").run()
    next(b for b in at.button if b.key == f"restore-{earlier['data_version']}").click().run()
    assert not at.exception
    assert any(f"Restore data version {earlier['data_version']}?" in w.value for w in at.warning)
    assert dashboard_env.get("/api/version")["data"]["data_version"] == current["data_version"]

    assert at.button(key="restore-yes").disabled  # no token yet
    at.text_input(key="session_token").set_value(dashboard_env.admin_token).run()
    at.button(key="restore-yes").click().run()

    assert not at.exception
    newest = dashboard_env.get("/api/data-versions", limit=1)["data"][0]
    assert newest["source"] == f"restore:{earlier['data_version']}"
    assert dashboard_env.get("/api/version")["data"]["data_version"] == newest["data_version"]
    assert f"Restored data version {earlier['data_version']}" in all_text(at)
    assert dashboard_env.admin_token not in all_text(at)
    assert dashboard_env.get("/api/kpis")["data"] == revenue
