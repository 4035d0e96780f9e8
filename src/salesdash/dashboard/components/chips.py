"""The "Filtered by" row under a page's title: one chip per restricting filter ("Countries: France ✕");
a click on a chip removes that filter on every page (the sidebar and the URL follow)."""

from __future__ import annotations

import streamlit as st

from salesdash.dashboard.components.filters import set_filter
from salesdash.dashboard.selection import Change, chips, without
from salesdash.filters import Filters
from salesdash.markup import md


def apply_change(change: Change) -> None:
    """Set each filter of ``change`` (call from a widget callback, before the sidebar is drawn) and rerun the
    whole page: a click inside a live view (a fragment, components/live.py) would rerun that view alone."""
    for name, value in change.items():
        set_filter(name, value)
    st.rerun()


def _remove(params: tuple[str, ...]) -> None:
    apply_change(without(params))


def chip_row(filters: Filters) -> None:
    """The chips of the filters in view; nothing when no filter restricts the view."""
    found = chips(filters)
    if not found:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="filtered-by"):
        st.markdown("**Filtered by**", width="content")
        for chip in found:
            st.button(
                md(chip.text),
                key=f"chip-{'-'.join(chip.clears)}",
                on_click=_remove,
                args=(chip.clears,),
                icon=":material/close:",
                icon_position="right",
                help="Remove this filter (on every page)",
            )
