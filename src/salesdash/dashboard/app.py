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
from salesdash.dashboard.components.errors import link_warning, show_api_error
from salesdash.dashboard.components.filters import sidebar_filters
from salesdash.dashboard.components.layout import apply_style
from salesdash.dashboard.components.refresh import data_status, watch_for_data
from salesdash.dashboard.components.theme import theme_switch
from salesdash.dashboard.state import link_problems
from salesdash.errors import ConfigError
from salesdash.markup import md

HERE = Path(__file__).parent
# The browser tab's icon, served from the package (a :material/ icon here makes the browser fetch it from
# fonts.gstatic.com).
ICON = HERE / "static" / "icon.png"
APP_NAME = "salesdash"


def page_title(page: str) -> str:
    """The browser title of a page: ``Geography · salesdash``."""
    return f"{page} · {APP_NAME}"


def pages() -> dict[str, list[st.Page]]:
    """The navigation, by section. Page files live in views/ (one short script each). No page icons: Streamlit
    makes a page's icon its favicon, fetched from fonts.gstatic.com, and screen readers read the icon's
    ligature name ("public Geography")."""
    return {
        "Sales": [
            st.Page(HERE / "views" / "overview.py", title="Overview", default=True),
            st.Page(HERE / "views" / "geography.py", title="Geography"),
            st.Page(HERE / "views" / "products.py", title="Products"),
            st.Page(HERE / "views" / "customers.py", title="Customers"),
            st.Page(HERE / "views" / "seasonality.py", title="Seasonality"),
            st.Page(HERE / "views" / "orders.py", title="Orders"),
            st.Page(HERE / "views" / "forecast.py", title="Forecast"),
        ],
        "Data": [
            st.Page(HERE / "views" / "data.py", title="Data"),
            st.Page(HERE / "views" / "quality.py", title="Data quality"),
            st.Page(HERE / "views" / "reports.py", title="Reports"),
        ],
    }


def main() -> None:
    navigation = st.navigation(pages(), position="sidebar")
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
    problems = link_problems({k: st.query_params.get_all(k) for k in st.query_params}, options)
    filters = sidebar_filters(options)
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
