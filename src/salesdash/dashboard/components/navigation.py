"""Going to another page from a button (the drill-through, opening a saved view)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st


def go_to(page: st.Page | Path) -> None:
    """Switch to ``page`` keeping the filters. ``st.switch_page`` clears the query string, which Streamlit
    refuses while widgets are bound to it (every sidebar filter is): an empty ``query_params`` replaces it
    without that check, and the bound widgets, whose values live in the session, write it back on the page."""
    st.switch_page(page, query_params={})
