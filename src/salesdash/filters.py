"""The filter registry and the one filter value, :class:`Filters`.

Each filter is declared ONCE in :data:`FILTERS` (in the style of datasette's ``filters.py``): its URL/API name,
the :class:`Filters` attribute, its type, how its text is parsed, how it is checked against the values in the
data, its SQL predicate (bound parameters only), its words for people ("Countries: France, Spain") and the key of
its values in ``GET /api/filters``. Everything else is generated from the registry: the API's query schema,
``meta.filters`` and the cache key, the value check, the PDF/Excel "filters applied" text, the dashboard's URL
state, its summary line and its sidebar widgets. A filter with too many values to list (product codes,
customers) names its ``finder``, the API path that searches them as people type (``GET /api/customers?q=``);
one with ``names`` (territories) shows people names for its stored codes and accepts either.

Adding a filter: one declaration in :data:`FILTERS` plus its typed field on :class:`Filters` (a test checks the
two agree).

No HTTP, no UI and no store access here (the dashboard imports this module to build its URL state).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Table, and_

from salesdash.errors import InvalidParameter
from salesdash.lookup import NameIndex
from salesdash.vocabulary import (
    CANCELLED,
    DEAL_SIZE_ORDER,
    DEFAULT_STATUS_TEXT,
    STATUS_ORDER,
    TERRITORY_NAMES,
)


def _split(values: Iterable[str], commas: bool = True) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        parts = str(value).split(",") if commas else [str(value)]
        out.extend(part.strip() for part in parts if part.strip())
    return tuple(out)


def _once(param: str, values: list[str]) -> str | None:
    texts = [v.strip() for v in values if v.strip()]
    if len(texts) > 1:
        raise InvalidParameter(
            f"{param} may be given once.", details=[{"parameter": param, "message": "given more than once"}]
        )
    return texts[0] if texts else None


@dataclass(frozen=True)
class Filter:
    """One filter. Subclasses say how its value is parsed, matched and described."""

    param: str  # the name in URLs, the API and meta.filters
    attr: str  # the Filters attribute
    label: str  # what people read ("Countries")
    description: str  # the API parameter's description (OpenAPI)
    column: str | None = None  # the order_lines column it restricts
    options_key: str | None = None  # its values in GET /api/filters (None: not checked against the data)
    everything: str = "all"  # the words for "no restriction"
    order: tuple[str, ...] = ()  # display order of its values (else alphabetical)
    help: str = ""  # the sidebar's help text
    sidebar: bool = True  # drawn in the dashboard's sidebar
    # the API path that finds its values as people type, when GET /api/filters cannot list them
    finder: str = ""
    count_key: str = ""  # with a finder: GET /api/filters gives how many values there are under this key
    # (stored value, the name people read) pairs, e.g. ("NA", "North America"); either is accepted
    names: tuple[tuple[str, str], ...] = ()
    many = False  # several values (repeat or comma-separate)

    @property
    def finds(self) -> str:
        """The finder in a sentence ("GET /api/customers?q=... finds customers."), empty without one."""
        return f"GET {self.finder}?q=... finds {self.label.lower()}." if self.finder else ""

    def name_of(self, value: str) -> str:
        """The name people read for a stored value ("NA" -> "North America"; else the value itself)."""
        return dict(self.names).get(value, value)

    def stored(self, text: str) -> str:
        """The stored value of a name people read ("North America" -> "NA"; else the text itself)."""
        return {name: value for value, name in self.names}.get(text, text)

    def parse(self, values: list[str]) -> Any:
        """The value from query-string texts (form only), or raise InvalidParameter naming the parameter."""
        raise NotImplementedError

    def lenient(self, value: Any) -> Any:
        """The value from a dashboard widget or URL (unreadable -> no restriction), never raising."""
        raise NotImplementedError

    def empty(self, value: Any) -> bool:
        return value is None or value == ()

    def check(self, value: Any, options: Mapping[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
        """The value as stored in the data (case-insensitive match) and the problems found."""
        if self.options_key is None or self.empty(value):
            return value, []
        known = options.get(self.options_key, [])
        # a NameIndex (a finder's values: built once per data version) or a short list (indexed here)
        index = known if isinstance(known, NameIndex) else NameIndex(str(v) for v in known)
        # the names people read are accepted too ("North America" -> the stored "NA") when in the data
        aliases = {name.casefold(): stored for stored, name in self.names if index.match(stored) == stored}
        if aliases:
            index = NameIndex([*index.names, *(dict(self.names)[v] for v in aliases.values())])
        matched, problems = [], []
        for one in value if self.many else (value,):
            match = index.match(str(one))
            match = aliases.get(match.casefold(), match) if match is not None else None
            if match is None:
                entry: dict[str, Any] = {"parameter": self.param, "value": one, "message": "not in the data"}
                suggestions = index.suggest(str(one))
                if suggestions:
                    entry["did_you_mean"] = suggestions
                problems.append(entry)
            else:
                matched.append(match)
        return (tuple(matched) if self.many else (matched[0] if matched else value)), problems

    def predicate(self, table: Table, value: Any) -> ColumnElement[bool] | None:
        raise NotImplementedError

    def to_param(self, value: Any) -> Any:
        """The normalised value under the parameter name (meta.filters and the cache key)."""
        return value

    def to_query(self, value: Any) -> str | list[str] | None:
        """The value as a query-string value (lists as repeated parameters), None when not restricting."""
        raise NotImplementedError

    def describe(self, value: Any) -> str:
        """The value in words ("France, Spain"; ``everything`` when not restricting)."""
        raise NotImplementedError


@dataclass(frozen=True)
class DateBound(Filter):
    """A first or last order date (inclusive)."""

    last: bool = False  # False: >= (start), True: <= (end)

    def parse(self, values: list[str]) -> date | None:
        text = _once(self.param, values)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InvalidParameter(
                f"{self.param}={text!r} is not a date; use YYYY-MM-DD.",
                details=[{"parameter": self.param, "message": "not an ISO date (YYYY-MM-DD)", "value": text}],
            ) from None

    def lenient(self, value: Any) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None

    def predicate(self, table: Table, value: Any) -> ColumnElement[bool] | None:
        if value is None:
            return None
        column = table.c[self.column or "order_date"]
        return column <= value if self.last else column >= value

    def to_param(self, value: Any) -> str | None:
        return value.isoformat() if value else None

    def to_query(self, value: Any) -> str | None:
        return value.isoformat() if value else None

    def describe(self, value: Any) -> str:
        return value.isoformat() if value else self.everything


@dataclass(frozen=True)
class AnyOf(Filter):
    """Any of several values: repeat the parameter, or comma-separate unless ``commas`` is False (values that
    contain commas, such as the customer "Australian Collectors, Co.", are given one per parameter)."""

    commas: bool = True
    many = True

    def parse(self, values: list[str]) -> tuple[str, ...]:
        return tuple(sorted(set(_split(values, self.commas))))

    def lenient(self, value: Any) -> tuple[str, ...]:
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            value = [value]
        return tuple(sorted({str(v) for v in value if str(v)}))

    def predicate(self, table: Table, value: Any) -> ColumnElement[bool] | None:
        return table.c[self.column or self.attr].in_(value) if value else None

    def to_param(self, value: Any) -> list[str]:
        return list(value)

    def to_query(self, value: Any) -> list[str] | None:
        return list(value) if value else None

    def describe(self, value: Any, most: int | None = None) -> str:
        items = [self.name_of(v) for v in value]
        if not items:
            return self.everything
        if most is not None and len(items) > most:
            return f"{', '.join(items[:most])} +{len(items) - most} more"
        return ", ".join(items)


@dataclass(frozen=True)
class AnyName(AnyOf):
    """Any of several names that may hold commas ("Australian Collectors, Co."): repeat the parameter, one name
    each (a comma is part of the name, never a separator)."""

    def parse(self, values: list[str]) -> tuple[str, ...]:
        return tuple(sorted({v.strip() for v in values if v.strip()}))


@dataclass(frozen=True)
class Statuses(AnyOf):
    """Order statuses: no restriction means every status except Cancelled (the Cancelled rule)."""

    def predicate(self, table: Table, value: Any) -> ColumnElement[bool]:
        column = table.c[self.column or "status"]
        return column.in_(value) if value else column != CANCELLED

    def to_param(self, value: Any) -> list[str]:
        return list(value) if value else [self.everything]


FILTERS: tuple[Filter, ...] = (
    DateBound(
        "start",
        "start",
        "From",
        "First order date included (YYYY-MM-DD), e.g. 2004-01-01.",
        column="order_date",
        everything="first order",
        help="First order date to include (empty = from the first order).",
    ),
    DateBound(
        "end",
        "end",
        "To",
        "Last order date included (YYYY-MM-DD), e.g. 2004-12-31.",
        column="order_date",
        everything="last order",
        help="Last order date to include (empty = up to the last order).",
        last=True,
    ),
    AnyOf(
        "territory",
        "territories",
        "Territories",
        "TERRITORY codes: "
        + ", ".join(f"{code} ({name})" if name != code else code for code, name in TERRITORY_NAMES.items())
        + "; the names (e.g. North America) are accepted too.",
        column="territory",
        options_key="territories",
        everything="all territories",
        names=tuple(TERRITORY_NAMES.items()),
    ),
    AnyOf(
        "country",
        "countries",
        "Countries",
        "COUNTRY values, e.g. France (GET /api/filters lists them).",
        column="country",
        options_key="countries",
        everything="all countries",
    ),
    AnyOf(
        "productline",
        "product_lines",
        "Product lines",
        "PRODUCTLINE values, e.g. Classic Cars.",
        column="product_line",
        options_key="product_lines",
        everything="all product lines",
    ),
    AnyOf(
        "productcode",
        "product_codes",
        "Product codes",
        "PRODUCTCODE values, e.g. S10_1678 (GET /api/product-codes?q=... finds them).",
        column="product_code",
        options_key="product_codes",  # a NameIndex in the API's options (not listed by GET /api/filters)
        everything="all products",
        finder="/api/product-codes",
        count_key="product_code_count",
    ),
    Statuses(
        "status",
        "statuses",
        "Statuses",
        f"STATUS values. Not given = every status except {CANCELLED} (name {CANCELLED} to include it).",
        column="status",
        options_key="statuses",
        everything=DEFAULT_STATUS_TEXT,
        order=STATUS_ORDER,
        help=f"Empty = every status except {CANCELLED} (revenue leaves cancelled orders out). "
        f"Pick statuses to see exactly those, {CANCELLED} included.",
    ),
    AnyOf(
        "dealsize",
        "deal_sizes",
        "Deal sizes",
        "DEALSIZE values (Small, Medium, Large).",
        column="deal_size",
        options_key="deal_sizes",
        everything="all deal sizes",
        order=DEAL_SIZE_ORDER,
    ),
    AnyOf(
        "customer",
        "customers",
        "Customers",
        "CUSTOMERNAME values, e.g. Euro Shopping Channel; repeat the parameter for several (names may contain "
        "commas, so commas do not separate customers). GET /api/customers?q=... finds them.",
        column="customer_name",
        options_key="customers",  # a NameIndex in the API's options (not listed by GET /api/filters)
        everything="all customers",
        finder="/api/customers",
        count_key="customer_count",
        commas=False,
    ),
)
BY_PARAM: dict[str, Filter] = {f.param: f for f in FILTERS}
PARAMETERS: tuple[str, ...] = tuple(BY_PARAM)


@dataclass(frozen=True)
class Filters:
    """Which order lines a view looks at; one field per declared filter. Empty means "no restriction", except
    ``statuses``: empty statuses means every status except Cancelled (revenue excludes cancelled orders by
    default); name statuses explicitly (Cancelled included) to change that."""

    start: date | None = None
    end: date | None = None
    territories: tuple[str, ...] = field(default=())
    countries: tuple[str, ...] = field(default=())
    product_lines: tuple[str, ...] = field(default=())
    product_codes: tuple[str, ...] = field(default=())
    statuses: tuple[str, ...] = field(default=())
    deal_sizes: tuple[str, ...] = field(default=())
    customers: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for f in FILTERS:
            if f.many:
                value = getattr(self, f.attr)
                value = (value,) if isinstance(value, str) else (value or ())  # one value may be given as is
                object.__setattr__(self, f.attr, tuple(sorted(set(value))))
        if self.start and self.end and self.start > self.end:
            raise InvalidParameter(
                f"start ({self.start.isoformat()}) is after end ({self.end.isoformat()}).",
                details=[{"parameter": "start", "message": "must not be after end"}],
            )

    # ---- at the door ----

    @classmethod
    def parse(cls, params: Mapping[str, list[str]]) -> Filters:
        """From query parameters (each a list of texts): the form of every value is checked."""
        return cls(**{f.attr: f.parse(list(params.get(f.param, []))) for f in FILTERS})

    def checked(self, options: Mapping[str, Any]) -> Filters:
        """The same filters with every value matched against the data (case-insensitively, returned as
        stored); unknown values -> one 400 naming every parameter and value, with close matches."""
        changes: dict[str, Any] = {}
        details: list[dict[str, Any]] = []
        for f in FILTERS:
            value, problems = f.check(getattr(self, f.attr), options)
            changes[f.attr] = value
            details.extend(problems)
        if details:
            parts = [f"{d['parameter']}={d['value']!r}" for d in details]
            finders = [BY_PARAM[p].finds for p in dict.fromkeys(d["parameter"] for d in details)]
            raise InvalidParameter(
                f"Unknown filter value(s): {', '.join(parts)}. GET /api/filters lists the values in the data."
                + "".join(f" {text}" for text in finders if text),
                details=details,
            )
        return replace(self, **changes)

    # ---- uses ----

    def where(self, table: Table) -> ColumnElement[bool]:
        """The WHERE clause for ``table`` (values are bound parameters, never SQL text)."""
        clauses = [f.predicate(table, getattr(self, f.attr)) for f in FILTERS]
        return and_(*(c for c in clauses if c is not None))

    def with_dates(self, start: date | None, end: date | None) -> Filters:
        return replace(self, start=start, end=end)

    def to_params(self) -> dict[str, Any]:
        """Normalised filters under their API parameter names (``meta.filters`` and the cache key)."""
        return {f.param: f.to_param(getattr(self, f.attr)) for f in FILTERS}

    def to_query(self) -> dict[str, str | list[str]]:
        """The restricting filters as query parameters (lists as repeated parameters), for links and calls."""
        out: dict[str, str | list[str]] = {}
        for f in FILTERS:
            value = f.to_query(getattr(self, f.attr))
            if value:
                out[f.param] = value
        return out

    def describe(self) -> list[tuple[str, str]]:
        """(label, words) per filter, the dates as one range: the "filters applied" of the PDF and Excel."""
        out = [("Order dates", self.date_range_text())]
        out.extend(
            (f.label, f.describe(getattr(self, f.attr)))
            for f in FILTERS
            # a filter the dashboard does not offer is named only when a call set it
            if not isinstance(f, DateBound) and (f.sidebar or not f.empty(getattr(self, f.attr)))
        )
        return out

    def date_range_text(self) -> str:
        if self.start and self.end:
            return f"{self.start.isoformat()} to {self.end.isoformat()}"
        if self.start:
            return f"from {self.start.isoformat()}"
        if self.end:
            return f"up to {self.end.isoformat()}"
        return "all dates"

    def applied_text(self) -> str:
        """Only the filters that restrict the view, in words ("Order dates: up to 2004-12-31; Countries:
        France"): the subtitle of exported charts. Empty when nothing restricts."""
        shown = {f.label for f in self.restricting()} | ({"Order dates"} if self.start or self.end else set())
        return "; ".join(f"{k}: {v}" for k, v in self.describe() if k in shown)

    def restricting(self) -> list[Filter]:
        """The filters that restrict the view (the status default counts as no restriction)."""
        return [f for f in FILTERS if not f.empty(getattr(self, f.attr))]


def parse_filters(params: Mapping[str, list[str]]) -> Filters:
    """Build Filters from query parameters (each a list of values; lists may also be comma-separated).

    Checks form only; :meth:`Filters.checked` checks the values against the data."""
    return Filters.parse(params)


__all__ = [
    "BY_PARAM",
    "CANCELLED",
    "FILTERS",
    "PARAMETERS",
    "AnyName",
    "AnyOf",
    "DateBound",
    "Filter",
    "Filters",
    "Statuses",
    "parse_filters",
]
