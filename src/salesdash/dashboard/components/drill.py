"""Drill-through: "Show the orders behind this" on every section (drawn by :func:`layout.section`).

The button opens the Orders page with the global filters plus, when the user has picked something in the
section (a chart's bar or slice, a table's row), that element as the Orders page's own restriction. The pick is
kept in the session (:data:`DRILL_KEY`), not in the global filters, so the other pages are left as they were; the
Orders page names it and offers to drop it. Everything is expressed in the filter registry's words
(:data:`salesdash.filters.FILTERS`): a pick is ``{filter parameter: values}`` and is intersected with the
global :class:`~salesdash.filters.Filters`, so the orders shown are always inside the view they came from.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from salesdash.dashboard.components.navigation import go_to
from salesdash.filters import BY_PARAM, FILTERS, DateBound, Filters
from salesdash.markup import md

DRILL_KEY = "_salesdash_drill"
FRESH_KEY = "_salesdash_drill_fresh"  # set by the button, read once by the Orders page
ORDER_KEY = "orders_detail"  # the order whose detail the Orders page shows
PAGE_KEY = "_salesdash_page"  # the title of the page drawn last (layout.page_header sets it)
ORDERS_PAGE = Path(__file__).resolve().parents[1] / "views" / "orders.py"
# a table/chart column -> the filter that restricts it (product_line -> productline, customer_name -> customer)
PARAM_OF_COLUMN: dict[str, str] = {
    f.column: f.param for f in FILTERS if f.column and not isinstance(f, DateBound)
}

START, END = (f for f in FILTERS if isinstance(f, DateBound))  # the first and last order date

Pick = dict[str, list[str]]  # filter parameter -> values


@dataclass(frozen=True)
class Drill:
    """Where the user came from (the section's title) and what they picked there (empty: the whole view)."""

    source: str
    pick: Pick = field(default_factory=dict)

    def apply(self, filters: Filters) -> Filters | None:
        """``filters`` narrowed to the pick: dates intersect, a list filter keeps the picked values that the
        filters allow (all of them when the filter does not restrict; statuses: a picked status is shown even
        if it is Cancelled, since the section showed it). None when the pick lies outside the filters (it was
        made under other filters): nothing is behind it."""
        changes: dict[str, Any] = {}
        for param, values in self.pick.items():
            declared = BY_PARAM.get(param)
            if declared is None or not values:
                continue
            current = getattr(filters, declared.attr)
            if isinstance(declared, DateBound):
                day = declared.lenient(values[0])
                if day is None:
                    continue
                chosen = [d for d in (current, day) if d is not None]
                changes[declared.attr] = min(chosen) if declared.last else max(chosen)
            else:
                picked = tuple(declared.lenient(values))
                changes[declared.attr] = tuple(v for v in picked if v in current) if current else picked
                if not changes[declared.attr]:
                    return None
        start, end = changes.get("start", filters.start), changes.get("end", filters.end)
        if start and end and start > end:
            return None
        return dataclasses.replace(filters, **changes)

    def describe(self) -> list[tuple[str, str]]:
        """(label, words) of the pick, e.g. ("Product lines", "Classic Cars"), ("Order dates", "2003-01-01 to
        2003-01-31")."""
        first, last = (f.lenient((self.pick.get(f.param) or [""])[0]) for f in (START, END))
        dates = Filters(start=first, end=last) if not (first and last and first > last) else Filters()
        out = [("Order dates", dates.date_range_text())] if dates.start or dates.end else []
        for param, values in self.pick.items():
            declared = BY_PARAM.get(param)
            if declared is not None and values and not isinstance(declared, DateBound):
                out.append((declared.label, ", ".join(values)))
        return out


def open_orders(source: str, pick: Pick | None = None, *, order: int | None = None) -> None:
    """Go to the Orders page showing the orders behind ``source`` (and ``pick``; with ``order``, that order's
    detail open)."""
    st.session_state[DRILL_KEY] = Drill(source, dict(pick or {}))
    st.session_state[FRESH_KEY] = True
    if order is not None:
        st.session_state[ORDER_KEY] = str(order)
    go_to(ORDERS_PAGE)


def drill_button(source: str, pick: Pick | None = None, *, key: str) -> None:
    """The "Show the orders behind this" button of a section. ``pick``: None when nothing in the section can be
    picked, {} when nothing is picked yet."""
    words = "; ".join(f"{label}: {md(value)}" for label, value in Drill(source, pick or {}).describe())
    if words:
        hint = f"Show the orders behind this: the order lines of {words}, with the filters in view."
    else:
        hint = "Show the orders behind this: its order lines, with the filters in view." + (
            " Pick a bar, point or row first to see only its orders." if pick is not None else ""
        )
    if st.button(
        "Orders behind this", icon=":material/receipt_long:", type="tertiary", key=f"drill-{key}", help=hint
    ):
        open_orders(source, pick)


def current(page: str) -> Drill | None:
    """The drill the Orders page (titled ``page``) was opened with: kept while the page reruns, dropped when it
    is opened again from the navigation (None)."""
    fresh = st.session_state.pop(FRESH_KEY, False)
    if not fresh and st.session_state.get(PAGE_KEY) != page:
        clear()
    drill = st.session_state.get(DRILL_KEY)
    return drill if isinstance(drill, Drill) else None


def clear() -> None:
    st.session_state.pop(DRILL_KEY, None)
