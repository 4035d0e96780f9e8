"""Orders: status distribution, deal-size mix, and the orders explorer: every order line in view, paged, sorted
on any column, searched by order number / customer / product code, with one order's detail. Opened from
"Orders behind this" on any section, it shows the lines behind that section (components/drill.py)."""

import math
from typing import Any

import streamlit as st

from salesdash.charts import figures as charts
from salesdash.charts.format import count, money
from salesdash.dashboard.client import ApiError
from salesdash.dashboard.components import context, drill
from salesdash.dashboard.components.crossfilter import category_view
from salesdash.dashboard.components.layout import order_count_note, page_header, section
from salesdash.dashboard.components.live import live_view, rerun_page
from salesdash.dashboard.components.tables import table
from salesdash.dashboard.components.theme import active as theme
from salesdash.dashboard.state import FilterState
from salesdash.markup import md
from salesdash.vocabulary import CANCELLED, DEAL_SIZE_ORDER, STATUS_ORDER, label

MEASURES = {m: label(m) for m in ("order_count", "revenue")}
LINE_COLUMNS = [
    "order_date",
    "order_number",
    "order_line_number",
    "customer_name",
    "country",
    "product_line",
    "product_code",
    "quantity_ordered",
    "price_each",
    "sales",
    "status",
    "deal_size",
]
# the table shows ten of them, so that every column fits at 1400 px: the line number is in the order's detail,
# and PRICEEACH is capped at 100 in the data (SALES is the line's true amount); the CSV holds every field
SHOWN_COLUMNS = [c for c in LINE_COLUMNS if c not in ("order_line_number", "price_each")]
PAGE_SIZES = (25, 50, 100)
PAGE_KEY = "orders_page"
SHOWN_KEY = "orders_query_shown"  # the query the page number belongs to (a new query starts at page 1)
DETAIL_KEY = drill.ORDER_KEY

ctx = context.current()
TITLE = "Orders"
came_from = drill.current(TITLE)
ABOUT = "How orders are progressing, how big the deals are, and every order line behind them."

applied = came_from.apply(ctx.filters.filters) if came_from is not None else None
if came_from is not None and applied is None:  # picked under other filters: none of it is in view now
    st.warning(
        md(
            f"What was picked in {came_from.source} is outside the filters in view now; showing every order in view."
        ),
        icon=":material/filter_alt_off:",
    )
    drill.clear()
    came_from = None
if came_from is not None and applied is not None:
    # the header says what is shown: the filters in view narrowed to the pick (the sidebar keeps its own)
    page_header(ctx, TITLE, f"{ABOUT}  \nShowing: {md(FilterState(applied).summary())}", filtered=False)
    picked = "; ".join(f"{name}: {md(value)}" for name, value in came_from.describe())
    with st.container(horizontal=True, vertical_alignment="center"):
        st.info(
            f"The orders behind **{md(came_from.source)}**"
            + (f" — {picked}" if picked else "")
            + ", with the filters in view.",
            icon=":material/receipt_long:",
            width="stretch",
        )
        st.button(
            "Show every order in view", on_click=drill.clear, icon=":material/close:", key="drill-clear"
        )
    # the drill's own restriction, intersected with the global filters (the other pages keep theirs)
    in_view: dict[str, Any] = dict(applied.to_query())
else:
    page_header(ctx, TITLE, ABOUT)
    in_view = dict(ctx.filters.to_query())


measure = (
    st.segmented_control(
        "Measure",
        list(MEASURES),
        default="order_count",
        format_func=MEASURES.__getitem__,
        key="orders_measure",
        required=True,
        persist_state="session",
    )
    or "order_count"
)

# The measure stands outside the views it drives (both charts): a change reruns the whole page.


@live_view("orders-status")
def order_status(measure: str) -> None:
    with st.container(border=True):
        statuses = category_view(
            ctx,
            "Order status",
            "/api/status-distribution",
            "status",
            lambda records: charts.category_bars(
                records, "status", measure, order=STATUS_ORDER, highlight=CANCELLED, theme=theme()
            ),
            key="chart-status",
            loading="Loading statuses…",
        )
        if statuses.meta.get("all_statuses"):
            st.caption(
                "Every status is shown here, Cancelled included (grey); the other pages leave Cancelled out."
            )
        if measure == "order_count":
            order_count_note(statuses.meta)


@live_view("orders-deals")
def deal_sizes(measure: str) -> None:
    with st.container(border=True):
        deals = category_view(
            ctx,
            "Deal-size mix",
            "/api/deal-sizes",
            "deal_size",
            lambda records: charts.category_bars(
                records, "deal_size", measure, order=DEAL_SIZE_ORDER, theme=theme()
            ),
            key="chart-deals",
            loading="Loading deal sizes…",
        )
        if measure == "order_count":
            order_count_note(deals.meta)


def _open_order(number: Any) -> None:
    st.session_state[DETAIL_KEY] = number


def _from_table() -> None:
    rows = st.session_state["table-orders"].selection.get("rows", [])
    shown = st.session_state.get("orders_rows_shown") or []
    if rows and rows[0] < len(shown):
        _open_order(shown[rows[0]])
        rerun_page()  # the order opens in the detail view below: the whole page runs again


def _from_number() -> None:
    text = str(st.session_state.get("orders_number") or "").strip()
    _open_order(text or None)


def _turn(step: int) -> None:
    st.session_state[PAGE_KEY] = max(0, int(st.session_state.get(PAGE_KEY, 0)) + step)


@live_view("orders-lines")
def order_lines() -> None:
    with st.container(border=True):
        header = st.container()  # the section's title and tools, drawn once the query is known
        with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            search = st.text_input(
                "Search",
                key="orders_q",
                placeholder="Order number, customer or product code…",
                icon=":material/search:",
                max_chars=100,
                width=320,
            )
            sort = st.selectbox("Sort by", LINE_COLUMNS, format_func=label, key="orders_sort", width=180)
            order = st.segmented_control(
                "Order",
                ["asc", "desc"],
                default="desc",
                format_func={"asc": "Ascending", "desc": "Descending"}.__getitem__,
                key="orders_order",
                required=True,
            )
            size = st.selectbox("Lines per page", PAGE_SIZES, index=2, key="orders_size", width=130)
        base = {"sort": sort, "order": order or "desc", "q": (search or "").strip() or None, "limit": size}
        signature = repr(sorted({**in_view, **base}.items()))
        if st.session_state.get(SHOWN_KEY) != signature:  # another search, sort or filter: back to page 1
            st.session_state[SHOWN_KEY] = signature
            st.session_state[PAGE_KEY] = 0
        number = int(st.session_state.get(PAGE_KEY, 0))
        query = {**in_view, **base, "offset": number * size}
        with st.spinner("Loading order lines…"):
            lines = ctx.fetch("/api/orders", query, filtered=False)
        total = int(lines.meta.get("total") or 0)
        pages = max(1, math.ceil(total / size))
        if number >= pages:  # fewer lines than before (new data): the last page
            st.session_state[PAGE_KEY] = number = pages - 1
            query["offset"] = number * size
            lines = ctx.fetch("/api/orders", query, filtered=False)
        records = list(lines.data or [])
        with header:
            section(ctx, "Order lines", "/api/orders", query, filtered=False, drill=False)
        first = number * size + 1 if records else 0
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.markdown(
                f"Page **{count(number + 1)}** of **{count(pages)}** · lines {count(first)}–"
                f"{count(number * size + len(records))} of **{count(total)}**",
                width="content",
            )
            st.button(
                "Previous",
                icon=":material/chevron_left:",
                on_click=_turn,
                args=(-1,),
                disabled=number == 0,
                key="orders_prev",
            )
            st.button(
                "Next",
                icon=":material/chevron_right:",
                on_click=_turn,
                args=(1,),
                disabled=number + 1 >= pages,
                key="orders_next",
            )
        if base["q"]:
            st.caption(md(f"Lines whose order number, customer or product code contains “{base['q']}”."))
        if not records:
            st.info(
                "No order line matches. Clear the search or widen the filters.", icon=":material/search_off:"
            )
        st.session_state["orders_rows_shown"] = [r.get("order_number") for r in records]
        table(records, SHOWN_COLUMNS, key="table-orders", height=420, on_select=_from_table)
        st.caption(
            "Select a row to see its order (with its line numbers). Sort by any column above (the whole list); a "
            "click on a column header sorts this page only. CSV gives every field of these lines."
        )


@live_view("orders-detail")
def order_detail() -> None:
    with st.container(border=True):
        with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            st.subheader("Order detail", anchor=False, width="content")
            st.space("stretch")
            st.text_input(
                "Order number",
                key="orders_number",
                placeholder="e.g. 10107",
                on_change=_from_number,
                max_chars=18,
                width=180,
            )
        chosen = st.session_state.get(DETAIL_KEY)
        if not chosen:
            st.caption("Select a line above or enter an order number to see the whole order.")
        else:
            text = str(chosen).strip()
            if not text.isdigit():
                st.warning(md(f"“{text}” is not an order number: use digits only, e.g. 10107."))
            else:
                try:
                    detail = ctx.fetch(f"/api/orders/{int(text)}", filtered=False)
                except ApiError as err:
                    if err.status != 404:
                        raise
                    st.warning(md(err.message), icon=":material/search_off:")
                else:
                    order_data: dict[str, Any] = detail.data if isinstance(detail.data, dict) else {}
                    totals = order_data.get("totals") or {}
                    st.markdown(
                        f"**Order {md(order_data.get('order_number'))}** · {md(order_data.get('status'))} · "
                        f"ordered {md(order_data.get('order_date'))} by **{md(order_data.get('customer_name'))}** "
                        f"({md(order_data.get('country'))})"
                    )
                    cards = st.columns(3)
                    cards[0].metric("Order sales", money(totals.get("sales")))
                    cards[1].metric("Lines", count(totals.get("line_count")))
                    cards[2].metric("Units", count(totals.get("units")))
                    if order_data.get("in_revenue") is False:
                        st.caption(f"This order is {CANCELLED}: revenue leaves it out.")
                    section(
                        ctx,
                        f"Lines of order {text}",
                        f"/api/orders/{int(text)}",
                        filtered=False,
                        csv=False,
                        drill=False,
                    )
                    table(
                        order_data.get("lines") or [],
                        [
                            c
                            for c in LINE_COLUMNS
                            if c not in ("order_date", "order_number", "customer_name", "country")
                        ],
                        key="table-order-detail",
                        height="content",
                    )


left, right = st.columns(2)
with left:
    order_status(measure)
with right:
    deal_sizes(measure)
order_lines()
order_detail()
