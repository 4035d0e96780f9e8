"""salesdash dashboard entry point (``streamlit run src/salesdash/dashboard/app.py``; ``salesdash dashboard``).

Every run: read settings, ask the API for the data version and the filter options, draw the global sidebar
filters, then run the selected page. Everything shown comes from the REST API at ``SALESDASH_API_URL``.
To add a page: write ``views/<name>.py`` and add it to :func:`pages` below.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context
from salesdash.dashboard.components.crossfilter import sync_url
from salesdash.dashboard.components.errors import link_warning, show_api_error
from salesdash.dashboard.components.filters import sidebar_filters, with_linked
from salesdash.dashboard.components.layout import apply_style
from salesdash.dashboard.components.refresh import data_status, watch_for_data
from salesdash.dashboard.components.saved_views import apply_opened, saved_views_sidebar
from salesdash.dashboard.components.token import session_token, token_input
from salesdash.dashboard.state import link_problems
from salesdash.errors import ConfigError
from salesdash.markup import md
from salesdash.vocabulary import PAGES

HERE = Path(__file__).parent


# The navigation, by section: (page name in vocabulary.PAGES = its file in views/ and its URL path, icon).
SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "Sales": (
        ("overview", ":material/dashboard:"),
        ("geography", ":material/public:"),
        ("products", ":material/category:"),
        ("customers", ":material/groups:"),
        ("seasonality", ":material/calendar_month:"),
        ("orders", ":material/receipt_long:"),
        ("forecast", ":material/insights:"),
    ),
    "Data": (
        ("data", ":material/database:"),
        ("quality", ":material/fact_check:"),
        ("reports", ":material/schedule_send:"),
    ),
}
DEFAULT_PAGE = "overview"


def pages() -> dict[str, list[st.Page]]:
    """The navigation, by section. Page files live in views/ (one short script each)."""
    return {
        section: [
            st.Page(
                HERE / "views" / f"{name}.py",
                title=PAGES[name],
                icon=icon,
                url_path=None if name == DEFAULT_PAGE else name,
                default=name == DEFAULT_PAGE,
            )
            for name, icon in entries
        ]
        for section, entries in SECTIONS.items()
    }


def page_name(page: st.Page) -> str:
    """A page's name in vocabulary.PAGES (the default page's URL path is empty)."""
    return page.url_path or DEFAULT_PAGE


def main() -> None:
    st.set_page_config(
        page_title="salesdash",
        page_icon=":material/monitoring:",
        layout="wide",
        initial_sidebar_state="auto",
    )
    apply_style()
    sections = pages()
    navigation = st.navigation(sections, position="sidebar")
    by_name = {page_name(p): p for entries in sections.values() for p in entries}
    try:
        settings = context.settings()
    except ConfigError as err:
        st.error(f"**salesdash cannot start.** {md(err.message)}", icon=":material/settings:")
        st.stop()
    token_input()
    body = st.empty()
    try:
        version = context.check_version()
        options = context.filter_options(version)
    except ApiError as err:
        with body.container():
            show_api_error(err)
        if err.code == "no_data":  # no data yet: a live feed may bring some; rerun when it does
            with st.sidebar:
                watch_for_data(st.session_state.get(context.VERSION_KEY, {}), settings.auto_refresh_seconds)
        st.stop()
    options = options if isinstance(options, dict) else {}
    problems = link_problems(
        {k: st.query_params.get_all(k) for k in st.query_params}, with_linked(options, version)
    )
    apply_opened()
    sync_url()
    filters = sidebar_filters(options, version)
    saved_views_sidebar(
        context.client(), filters, by_name, page_name(navigation), bool(session_token() or settings.api_token)
    )
    st.sidebar.divider()
    data_status(version, settings.auto_refresh_seconds)
    context.start(filters, version, options)
    try:
        with body.container():
            if problems:
                link_warning(problems, filters.summary())
            navigation.run()
    except ApiError as err:
        # One notice instead of a half-drawn page with a stack of errors.
        with body.container():
            show_api_error(err)


if __name__ == "__main__":  # Streamlit runs this file as __main__
    main()
