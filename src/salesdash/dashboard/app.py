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
from salesdash.dashboard.components.theme import theme_switch
from salesdash.dashboard.components.token import session_token, token_input
from salesdash.dashboard.state import link_problems
from salesdash.errors import ConfigError
from salesdash.markup import md
from salesdash.vocabulary import PAGES

HERE = Path(__file__).parent
# The browser tab's icon, served from the package (a :material/ icon here makes the browser fetch it from
# fonts.gstatic.com).
ICON = HERE / "static" / "icon.png"
APP_NAME = "salesdash"


def page_title(page: str) -> str:
    """The browser title of a page: ``Geography · salesdash``."""
    return f"{page} · {APP_NAME}"


# The navigation, by section: page names in vocabulary.PAGES (= its file in views/ and its URL path).
SECTIONS: dict[str, tuple[str, ...]] = {
    "Sales": ("overview", "geography", "products", "customers", "seasonality", "orders", "forecast"),
    "Data": ("data", "quality", "reports"),
}
DEFAULT_PAGE = "overview"


def pages() -> dict[str, list[st.Page]]:
    """The navigation, by section. Page files live in views/ (one short script each). No page icons: Streamlit
    makes a page's icon its favicon, fetched from fonts.gstatic.com, and screen readers read the icon's
    ligature name ("public Geography")."""
    return {
        section: [
            st.Page(
                HERE / "views" / f"{name}.py",
                title=PAGES[name],
                url_path=None if name == DEFAULT_PAGE else name,
                default=name == DEFAULT_PAGE,
            )
            for name in entries
        ]
        for section, entries in SECTIONS.items()
    }


def page_name(page: st.Page) -> str:
    """A page's name in vocabulary.PAGES (the default page's URL path is empty)."""
    return page.url_path or DEFAULT_PAGE


def main() -> None:
    sections = pages()
    navigation = st.navigation(sections, position="sidebar")
    by_name = {page_name(p): p for entries in sections.values() for p in entries}
    st.set_page_config(
        page_title=page_title(navigation.title),
        page_icon=str(ICON),
        layout="wide",
        initial_sidebar_state="auto",
    )
    apply_style()
    theme_switch()
    try:
        settings = context.settings()
    except ConfigError as err:
        st.error(f"**salesdash cannot start.** {md(err.message)}")
        st.stop()
    token_input()
    body = st.empty()
    context.new_run()  # every view is drawn again: what the last run drew is forgotten
    try:
        version = context.check_version()
        options = context.filter_options(version)
    except ApiError as err:
        live = context.stream_info(context.client()) if err.code == "no_data" else {}
        with body.container():
            if live.get("active"):  # an empty store a live feed is filling: nothing is wrong
                st.info(
                    "**No order lines yet.** The live order feed is connected: this page fills in as orders "
                    "arrive, without a reload.",
                    icon=":material/sensors:",
                )
            else:
                show_api_error(err)
        if err.code == "no_data":  # no data yet: a live feed may bring some; rerun when it does
            # checked as often as a live page (nothing is drawn meanwhile): a feed whose status was not known
            # yet when the page opened (a consumer starting, a slow /api/stream) fills it in seconds, not after
            # the five-minute file check
            every = settings.auto_refresh_seconds
            every = min(every, settings.live_poll_seconds) if every > 0 else every
            with st.sidebar:
                watch_for_data(st.session_state.get(context.VERSION_KEY, {}), every)
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
