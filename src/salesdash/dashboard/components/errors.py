"""One clear notice when the API cannot answer: what happened, what to do, and a Retry button."""

from __future__ import annotations

import streamlit as st

from salesdash.charts.format import plain
from salesdash.dashboard.client import ApiError, ApiUnavailable
from salesdash.dashboard.components.context import clear_cache
from salesdash.markup import md


def _retry() -> None:
    # Failed calls are never cached; clearing also drops answers from before the outage.
    clear_cache()


def show_api_error(err: ApiError, key: str = "api-error-retry") -> None:
    if err.code == "no_data":
        title = "No data yet"
    elif isinstance(err, ApiUnavailable):
        title = "The API is not available"
    else:
        title = "The API refused this view"
    lines = [f"**{title}.** {md(err.message)}"]
    if err.hint:
        lines.append(err.hint)
    for detail in err.details[:5]:
        where = detail.get("parameter") or detail.get("column") or detail.get("line")
        message = md(detail.get("message", ""))
        lines.append(f"- **{md(where)}**: {message}" if where else f"- {message}")
    st.error("\n\n".join(lines), icon=":material/cloud_off:")
    if err.url:
        st.caption(f"Request: {md(err.url)}")
    st.button("Retry", on_click=_retry, icon=":material/refresh:", type="primary", key=key)


def link_warning(problems: list[str], showing: str) -> None:
    """Which values of the link were not understood, and what the page shows instead (the values come from
    the URL, so they are shown as plain text, never as markup)."""
    lines = ["**This link has values the dashboard does not understand, so it leaves them out:**"]
    lines += [f"- {plain(problem)}" for problem in problems[:8]]
    if len(problems) > 8:
        lines.append(f"- and {len(problems) - 8} more")
    lines.append(f"\n**Showing instead:** {plain(showing)}.")  # a paragraph of its own, after the list
    st.warning("\n".join(lines), icon=":material/link_off:")
