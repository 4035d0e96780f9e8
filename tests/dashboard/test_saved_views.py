"""The sidebar's Saved views against a real API: save the current page and filters (needs a token), open a view
(its filters and its page), its link, delete your own; names are shown as text, never as markup."""

from __future__ import annotations

from salesdash.dashboard.state import FilterState
from salesdash.filters import Filters
from tests.dashboard.conftest import LiveApi, readable
from tests.dashboard.test_app import run_app

NAME = "France *2004* <b>big</b>"


def _texts(at) -> str:
    return "\n".join(str(e.value) for e in (*at.markdown, *at.caption, *at.code))


def test_save_open_and_delete_a_view(dashboard_env: LiveApi) -> None:
    at = run_app({"country": "France", "start": "2004-01-01"})
    at.switch_page("views/geography.py").run()
    assert not at.exception
    at.text_input(key="saved_view_name").set_value(NAME).run()
    assert at.button(key="saved_view_save").disabled  # no token: nothing to own the view
    at.text_input(key="session_token").set_value(dashboard_env.admin_token).run()
    at.button(key="saved_view_save").click().run()
    assert not at.exception

    (saved,) = [v for v in dashboard_env.get("/api/saved-views")["data"] if v["name"] == NAME]
    assert (saved["page"], saved["state"]) == ("geography", "start=2004-01-01&country=France")
    text = _texts(at)
    assert f"Saved “{NAME}”." in readable(text)
    assert "<b>" not in text.replace("\\<b\\>", "")  # the name is escaped, never markup
    assert any(str(c.value).endswith("/geography?start=2004-01-01&country=France") for c in at.code)

    at.switch_page("views/overview.py").run()
    for f in ("country", "start"):
        at.session_state[f] = [] if f == "country" else None
    at.run()
    assert at.multiselect(key="country").value == []
    at.button(key=f"saved_view_open_{saved['id']}").click().run()
    assert not at.exception
    assert at.multiselect(key="country").value == ["France"]
    assert str(at.date_input(key="start").value) == "2004-01-01"
    assert any(h.value == "Geography" for h in at.title)
    assert f"Opened “{NAME}”." in readable(_texts(at))

    at.button(key=f"saved_view_delete_{saved['id']}").click().run()
    assert not at.exception
    assert all(v["id"] != saved["id"] for v in dashboard_env.get("/api/saved-views")["data"])
    assert dashboard_env.admin_token not in _texts(at)


def test_state_encode_and_widget_values_are_inverse() -> None:
    state = FilterState(Filters.parse({"country": ["Spain", "France"], "end": ["2004-12-31"]}))
    query = state.encode()
    assert query == "end=2004-12-31&country=France&country=Spain"
    values = FilterState.widget_values(query)
    assert values["country"] == ["France", "Spain"] and str(values["end"]) == "2004-12-31"
    assert values["start"] is None and values["productline"] == []
    assert FilterState.from_values(values) == state
