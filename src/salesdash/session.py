"""The Python API, for notebooks and scripts: every view of the REST API as a pandas DataFrame.

>>> import salesdash
>>> sales = salesdash.open("sqlite:///data/salesdash.db")     # doctest: +SKIP
>>> sales.kpis(country="France")                               # doctest: +SKIP

Each method computes its view through the view registry (:mod:`salesdash.views`) in one read snapshot, exactly
as ``GET /api/<view>`` does: the same filters (under the API's parameter names, checked against the data the
same way: ``country="france"`` finds France, an unknown value raises :class:`~salesdash.errors.InvalidParameter`
naming it), the same parameters with the same defaults and ranges, the same column names and numbers. The
DataFrame's ``attrs["meta"]`` holds what the API's ``meta`` holds (data version, filters applied, the view's own
meta) and ``attrs["notes"]`` the view's notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from salesdash.errors import InvalidParameter, NoData
from salesdash.filters import BY_PARAM, Filters
from salesdash.metrics import filter_options
from salesdash.store import current_version, current_version_label_in, make_engine, snapshot
from salesdash.views import VIEWS, ViewData, run_view

FilterValue = str | date | Iterable[str] | None


def _filter_lists(values: dict[str, FilterValue]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, date):
            out[name] = [value.isoformat()]
        elif isinstance(value, str):
            out[name] = [value]
        else:
            out[name] = [str(v) for v in value]
    return out


class Session:
    """The views of one store. Make one with :func:`salesdash.open`; ``close()`` (or ``with``) releases it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def is_empty(self) -> bool:
        """True when the store holds no data yet (see :meth:`ingest`)."""
        return current_version(self.engine) is None

    def ingest(self, path: str | Path | None = None) -> dict[str, Any]:
        """Validate and load a CSV (default: the bundled sample) as ``salesdash ingest`` does; returns its
        quality report."""
        from salesdash.config import load_settings
        from salesdash.ingest import ingest_file

        settings = load_settings()
        source = Path(path) if path is not None else settings.source_path
        return ingest_file(self.engine, source, chunk_rows=settings.ingest_chunk_rows).report

    def quality_report(self) -> dict[str, Any]:
        """The quality report of the load behind the current data (as the Data quality page and
        ``GET /api/data-quality`` show it): rows read, loaded and rejected, empty cells, anomalies."""
        version = current_version(self.engine)
        if version is None:
            raise NoData("The store holds no data yet: run `salesdash ingest` first.")
        return {"data_version": version.version, **version.report}

    @property
    def views(self) -> list[str]:
        """The names of every view (the REST API's paths under /api/)."""
        return list(VIEWS)

    def compute(self, view: str, **arguments: Any) -> ViewData:
        """The whole computed view (its table, the API's data and meta, extra tables, notes, its chart)."""
        spec = VIEWS.get(view)
        if spec is None:
            raise InvalidParameter(
                f"Unknown view {view!r}; use one of {', '.join(VIEWS)}.",
                details=[{"parameter": "view", "value": view, "accepted": list(VIEWS)}],
            )
        own = {p.name: p for p in spec.params}
        unknown = sorted(set(arguments) - set(own) - set(BY_PARAM))
        if unknown:
            raise InvalidParameter(
                f"{', '.join(unknown)}: not a filter or a parameter of {view}. Filters: {', '.join(BY_PARAM)}"
                + (f"; parameters of {view}: {', '.join(own)}." if own else "."),
                details=[{"parameter": name, "message": "unknown"} for name in unknown],
            )
        params = {n: own[n].parse(v) for n, v in arguments.items() if n in own and v is not None}
        given = _filter_lists({n: v for n, v in arguments.items() if n in BY_PARAM})
        with snapshot(self.engine) as conn:
            version = current_version_label_in(conn)
            if version is None:
                raise NoData("The store holds no data yet: run `salesdash ingest` first.")
            options = filter_options(conn)
            filters = Filters.parse(given).checked(options)
            data = run_view(conn, spec, filters, params, options)
        data.meta = {"data_version": version, "filters": (data.filters or filters).to_params(), **data.meta}
        return data

    def view(self, view: str, **arguments: Any) -> pd.DataFrame:
        """View ``view`` as a DataFrame (``arguments``: filters and the view's parameters by their API names)."""
        data = self.compute(view, **arguments)
        frame = data.frame.copy()
        frame.attrs = {
            "view": view,
            "meta": data.meta,
            "notes": list(data.notes),
            "params": dict(data.params),
        }
        return frame

    # ---- one typed method per view (a test checks they match the registry's declarations) ----------------

    def kpis(self, detail: str = "summary", **filters: FilterValue) -> pd.DataFrame:
        """Headline KPIs, one row per metric: everything in view (``in_view_value``); with ``detail="full"`` also
        the headline period's ``value`` beside the year earlier's (``compared_with``, ``previous_value``,
        ``change_pct``) and the last complete month (docs/metrics.md)."""
        return self.view("kpis", detail=detail, **filters)

    def comparisons(self, **filters: FilterValue) -> pd.DataFrame:
        """Every KPI vs the previous period and vs a year earlier (one row per comparison and metric)."""
        return self.view("comparisons", **filters)

    def sales_over_time(self, period: str = "monthly", **filters: FilterValue) -> pd.DataFrame:
        """Metrics per period: ``period`` daily, weekly, monthly (default), quarterly or yearly."""
        return self.view("sales-over-time", period=period, **filters)

    def monthly_trends(self, **filters: FilterValue) -> pd.DataFrame:
        """Metrics per month with the change vs the previous month and vs a year earlier."""
        return self.view("monthly-trends", **filters)

    def quarterly_analysis(self, **filters: FilterValue) -> pd.DataFrame:
        """Metrics per quarter with the changes; partial quarters flagged."""
        return self.view("quarterly-analysis", **filters)

    def sales_by_category(self, **filters: FilterValue) -> pd.DataFrame:
        """Metrics per product line, highest revenue first."""
        return self.view("sales-by-category", **filters)

    def product_performance(
        self,
        level: str = "product_line",
        sort: str = "revenue",
        order: str = "desc",
        limit: int = 100,
        offset: int = 0,
        **filters: FilterValue,
    ) -> pd.DataFrame:
        """One page of product lines (``level="product_line"``) or product codes (``"product"``) ranked by
        ``sort`` (``attrs["meta"]["total"]`` counts them, ``next_offset`` pages on)."""
        return self.view(
            "product-performance", level=level, sort=sort, order=order, limit=limit, offset=offset, **filters
        )

    def sales_by_country(self, **filters: FilterValue) -> pd.DataFrame:
        """Metrics per country with its ISO-3 code and territory."""
        return self.view("sales-by-country", **filters)

    def top_customers(self, limit: int = 10, **filters: FilterValue) -> pd.DataFrame:
        """The ``limit`` customers with the highest revenue."""
        return self.view("top-customers", limit=limit, **filters)

    def heatmap(self, metric: str = "revenue", **filters: FilterValue) -> pd.DataFrame:
        """``metric`` per month (rows 1-12) and year (columns); empty months are missing, not 0."""
        return self.view("heatmap", metric=metric, **filters)

    def status_distribution(self, **filters: FilterValue) -> pd.DataFrame:
        """Metrics per order status (every status, Cancelled included, unless ``status`` is given)."""
        return self.view("status-distribution", **filters)

    def deal_sizes(self, **filters: FilterValue) -> pd.DataFrame:
        """Metrics per deal size, Small, Medium, Large."""
        return self.view("deal-sizes", **filters)

    def orders(
        self,
        limit: int = 100,
        offset: int = 0,
        sort: str = "order_date",
        order: str = "asc",
        q: str | None = None,
        **filters: FilterValue,
    ) -> pd.DataFrame:
        """One page of order lines (``attrs["meta"]["total"]`` counts them all, ``next_offset`` pages on); ``q``
        keeps the lines whose order number, customer name or product code contains it (any case)."""
        return self.view("orders", limit=limit, offset=offset, sort=sort, order=order, q=q, **filters)

    def forecast(self, horizon: int = 3, **filters: FilterValue) -> pd.DataFrame:
        """Monthly revenue history and a ``horizon``-month forecast with 80%/95% intervals; its reliability and
        backtest error are in ``attrs["meta"]``."""
        return self.view("forecast", horizon=horizon, **filters)

    def rfm(
        self,
        segment: str | None = None,
        limit: int = 100,
        offset: int = 0,
        sort: str = "segment",
        order: str = "asc",
        **filters: FilterValue,
    ) -> pd.DataFrame:
        """One page of RFM scores and segments per customer (``segment`` keeps one segment's customers;
        ``attrs["meta"]["total"]`` counts them, ``attrs["meta"]["segments"]`` sums up every segment)."""
        return self.view(
            "rfm", segment=segment, limit=limit, offset=offset, sort=sort, order=order, **filters
        )

    def acquisition(self, period: str = "monthly", **filters: FilterValue) -> pd.DataFrame:
        """New and returning customers per period and their revenue; the New customers comparison (latest year
        to date vs a year earlier) is ``attrs["meta"]["new_customers"]``."""
        return self.view("acquisition", period=period, **filters)

    def cohorts(self, grain: str = "month", **filters: FilterValue) -> pd.DataFrame:
        """Retention cohorts: one row per cohort (first-order ``grain``) and period since; sizes in
        ``attrs["meta"]["cohorts"]``."""
        return self.view("cohorts", grain=grain, **filters)

    def market_penetration(self, dimension: str = "country", **filters: FilterValue) -> pd.DataFrame:
        """Per country (or territory): customers, revenue per customer, product lines bought, growth."""
        return self.view("market-penetration", dimension=dimension, **filters)

    def top_movers(
        self, dimension: str = "customer", limit: int = 10, **filters: FilterValue
    ) -> pd.DataFrame:
        """The customers, countries or product lines with the largest revenue change between the headline
        period and the same dates a year earlier; both periods in ``attrs["meta"]``."""
        return self.view("top-movers", dimension=dimension, limit=limit, **filters)

    def list_price_gap(self, level: str = "product_line", **filters: FilterValue) -> pd.DataFrame:
        """Revenue (SALES) vs revenue at list price (MSRP x units) per product line or product code; not a
        margin (the data has no cost)."""
        return self.view("list-price-gap", level=level, **filters)


def open(database_url: str | None = None) -> Session:
    """A :class:`Session` over the store at ``database_url`` (default: ``SALESDASH_DATABASE_URL``, else the
    default SQLite file)."""
    options: dict[str, Any] = {}
    if database_url is None:
        from salesdash.config import load_settings

        settings = load_settings()
        database_url, options = settings.database_url, settings.store_options()
    return Session(make_engine(database_url, **options))
