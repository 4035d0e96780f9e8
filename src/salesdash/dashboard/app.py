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
from salesdash.dashboard.components.filters import sidebar_filters, with_linked
from salesdash.dashboard.components.layout import apply_style
from salesdash.dashboard.components.refresh import data_status, watch_for_data
from salesdash.dashboard.state import link_problems
from salesdash.errors import ConfigError
from salesdash.markup import md

HERE = Path(__file__).parent


def pages() -> dict[str, list[st.Page]]:
    """The navigation, by section. Page files live in views/ (one short script each)."""
    return {
        "Sales": [
            st.Page(
                HERE / "views" / "overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
            st.Page(HERE / "views" / "geography.py", title="Geography", icon=":material/public:"),
            st.Page(HERE / "views" / "products.py", title="Products", icon=":material/category:"),
            st.Page(HERE / "views" / "customers.py", title="Customers", icon=":material/groups:"),
            st.Page(HERE / "views" / "seasonality.py", title="Seasonality", icon=":material/calendar_month:"),
            st.Page(HERE / "views" / "orders.py", title="Orders", icon=":material/receipt_long:"),
            st.Page(HERE / "views" / "forecast.py", title="Forecast", icon=":material/insights:"),
        ],
        "Data": [
            st.Page(HERE / "views" / "data.py", title="Data", icon=":material/database:"),
            st.Page(HERE / "views" / "quality.py", title="Data quality", icon=":material/fact_check:"),
            st.Page(HERE / "views" / "reports.py", title="Reports", icon=":material/schedule_send:"),
        ],
    }


def main() -> None:
    st.set_page_config(
        page_title="salesdash",
        page_icon=":material/monitoring:",
        layout="wide",
        initial_sidebar_state="auto",
    )
    apply_style()
    navigation = st.navigation(pages(), position="sidebar")
    try:
        settings = context.settings()
    except ConfigError as err:
        st.error(f"**salesdash cannot start.** {md(err.message)}", icon=":material/settings:")
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
    problems = link_problems(
        {k: st.query_params.get_all(k) for k in st.query_params}, with_linked(options, version)
    )
    filters = sidebar_filters(options, version)
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
