"""What makes the Overview's render cheaper, against the real API: a page's API calls started at once
(``Context.prefetch``) are each made exactly once and give the answers a plain fetch gives; charts built once per
input (``components/figures.figure``) are the chart function's own figure, and a page changing its copy does not
change the next; settings are built once per environment and again when it changes."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import wait
from typing import Any

import plotly.io as pio
import pytest

from salesdash.charts import figures as charts
from salesdash.charts.changes import movers_chart
from salesdash.charts.theme import DARK, LIGHT
from salesdash.config import load_settings
from salesdash.dashboard.client import ApiClient, ApiResult
from salesdash.dashboard.components import context
from salesdash.dashboard.components.figures import figure
from salesdash.dashboard.components.kpis import CARDS_QUERY, KPIS_PATH
from salesdash.dashboard.state import FilterState
from tests.dashboard.conftest import LiveApi


class CountingClient(ApiClient):
    """The real client, counting the URLs it asks the API for."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, timeout=30)
        self.asked: list[str] = []

    def get_url(self, url: str, *, token: str | None = None, known: ApiResult | None = None) -> ApiResult:
        self.asked.append(url)
        return super().get_url(url, token=token, known=known)


def overview_calls(ctx: context.Context) -> list[context.Call]:
    return [
        (KPIS_PATH, CARDS_QUERY, True),  # the cards' call (detail=full: the headline and growth)
        ("/api/definitions", None, False),
        ("/api/sales-over-time", {"period": "monthly"}, True),
        ("/api/sales-by-category", None, True),
        ("/api/sales-by-country", None, True),
        ("/api/top-movers", {"dimension": "customer"}, True),
        (KPIS_PATH, CARDS_QUERY, True),  # the same call twice is asked once
    ]


def test_prefetched_calls_are_asked_once_and_answer_like_a_fetch(live_api: LiveApi) -> None:
    client = CountingClient(live_api.url)
    filters = FilterState.from_values({"country": ["France"]})
    # a data version no other test uses, so nothing is in the dashboard's cache yet
    ctx = context.Context(
        settings=load_settings(api_url=live_api.url),
        client=client,
        filters=filters,
        version={"data_version": f"prefetch-{uuid.uuid4().hex}"},
    )
    calls = overview_calls(ctx)
    ctx.prefetch(calls)
    answers = [ctx.fetch(path, extra, filtered=filtered) for path, extra, filtered in calls]
    distinct = list(dict.fromkeys(ctx.api_url(p, e, filtered=f) for p, e, f in calls))
    assert sorted(client.asked) == sorted(distinct)  # each once: the fetches waited for the prefetch
    for (path, extra, filtered), answer in zip(calls, answers, strict=True):
        query = ctx.query(extra, filtered=filtered)
        direct = live_api.get(path, **query)
        assert answer.data == direct["data"], path
    assert (
        answers[0].data["headline"]["metrics"]["revenue"]["current"]
        == (
            live_api.get(KPIS_PATH, country="France", **CARDS_QUERY)["data"]["headline"]["metrics"][
                "revenue"
            ]["current"]
        )
    )


def test_a_failed_prefetch_is_not_cached(live_api: LiveApi) -> None:
    client = CountingClient(live_api.url)
    ctx = context.Context(
        settings=load_settings(api_url=live_api.url),
        client=client,
        filters=FilterState(),
        version={"data_version": f"prefetch-{uuid.uuid4().hex}"},
    )
    bad = ("/api/sales-over-time", {"period": "fortnightly"}, True)
    _done, pending = wait(ctx.prefetch([bad]), timeout=60)
    assert not pending and len(client.asked) == 1
    with pytest.raises(context.ApiError) as raised:
        ctx.fetch(bad[0], bad[1])  # asked again (the failure was not cached) and it fails here, in the page
    assert raised.value.status == 400
    assert len(client.asked) == 2


def _pruned(value: Any) -> Any:
    """A figure's JSON without empty objects (``"title": {}``: Plotly writes one for a title set to None and
    draws it exactly like no title; the cached figure, made from Plotly's own dict, has none)."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _json(fig: Any) -> Any:
    return _pruned(json.loads(pio.to_json(fig, validate=False)))


def test_a_cached_figure_is_the_chart_functions_figure(live_api: LiveApi) -> None:
    over_time = live_api.get("/api/sales-over-time", period="monthly")["data"]
    movers = live_api.get("/api/top-movers", dimension="customer")["data"][:10]
    countries = live_api.get("/api/sales-by-country")["data"]
    for theme in (LIGHT, DARK):
        built = figure(charts.sales_over_time, over_time, "month", theme=theme)
        assert _json(built) == _json(charts.sales_over_time(over_time, "month", theme=theme))
        ranked = figure(charts.ranked_bars, countries, "country", limit=8, height=380, theme=theme)
        assert _json(ranked) == _json(
            charts.ranked_bars(countries, "country", limit=8, height=380, theme=theme)
        )
        diverging = figure(movers_chart, movers, "customer_name", theme=theme)
        assert _json(diverging) == _json(movers_chart(movers, "customer_name", theme=theme))


def test_changing_a_cached_figure_leaves_the_next_one_as_built(live_api: LiveApi) -> None:
    records = live_api.get("/api/sales-by-country")["data"]
    first = figure(charts.ranked_bars, records, "country", limit=8, theme=LIGHT)
    expected = _json(first)
    first.update_layout(dragmode="select", height=999)  # what a page does to its copy (the brush)
    again = figure(charts.ranked_bars, records, "country", limit=8, theme=LIGHT)
    assert _json(again) == expected
    assert again.layout.height != 999


def test_settings_are_built_again_when_the_environment_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "12")
    first = context.settings()
    assert first.request_timeout == 12.0
    assert context.settings() is first  # the same environment: built once
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "34")
    assert context.settings().request_timeout == 34.0
