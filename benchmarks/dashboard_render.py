"""The dashboard's render times in a real browser: ``python -m benchmarks.dashboard_render DATABASE_URL``, and
``make bench`` (``benchmarks/run.py``, knob DASHBOARD) on its SQLite 2.8K and DuckDB 10M stores.

Starts the real API (``salesdash serve``) on an existing store, the real dashboard (the command ``salesdash
dashboard`` runs) and, with the same Streamlit flags, the **floor**: a trivial Streamlit page (one ``st.write``,
plus one sidebar multiselect for the filter-change floor), then drives Chromium (Playwright,
``/usr/bin/chromium``). Interleaved, ``REPEAT`` times:

- **floor, new visitor**: a fresh browser context (no cookies, no HTTP cache) opens the floor page; time from
  navigation start until its text is shown and Streamlit's script run is over;
- **Overview, new visitor**: a fresh browser context opens the Overview; time from navigation start until it is
  *rendered*: the page title, every KPI card with its value, every chart of the page (``charts``, default 4:
  sales over time, product-line share, top countries, top movers) drawn with its traces, no spinner or
  skeleton, no stale element, and Streamlit's running indicator gone (the script run is over);
- **Overview, filter change**: in that page, a country picked in the sidebar's Countries filter (a different
  country each time, so neither the dashboard's nor the API's cache has it); time from the click on its option
  until the Revenue card shows the API's figure for that country (``GET /api/kpis?country=...``, formatted by
  ``charts.format.card_money`` as the card does) and the page is rendered again as above (at least 3 charts:
  a country without a year-earlier period has a notice instead of the top-movers chart);
- **floor, filter change**: the same pick in the floor's multiselect until its text names the country.

The first visit after the servers start (``cold``: empty caches in the dashboard and the API, Python imports) is
measured once, before the loop. Results: a dict (and, run as a script, ``benchmarks/results/dashboard_render.json``
plus the printed figures), with the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.reliability.common import free_port
from benchmarks.run import ROOT, Server, log

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]  # fmt: skip
VIEWPORT = {"width": 1400, "height": 900}
RESULT = ROOT / "benchmarks" / "results" / "dashboard_render.json"
TIMEOUT_MS = 180_000
OVERVIEW_TITLE = "Sales overview"
OVERVIEW_CHARTS = 4  # sales over time, product-line share, top countries, top movers
# A country without a year-earlier period has no top-movers chart (a notice instead): a filtered page has at least
# the other three, and every chart it has must be drawn.
FILTERED_CHARTS = 3
FLOOR_TEXT = "Baseline"

# The floor: what any Streamlit page served the same way costs (JS bundle, websocket, one script run).
FLOOR_APP = """
import streamlit as st

picked = st.sidebar.multiselect({label!r}, {options!r}, key="pick")
st.write({text!r} + ": " + (", ".join(picked) or "all"))
"""

# Streamlit is done with a run when the app's script state (the attribute its own tests read) is "notRunning",
# its status widget shows no running icon and no element is stale, loading or a spinner.
SETTLED_JS = """
const settled = () => {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  if (!app || !main || app.getAttribute('data-test-script-state') !== 'notRunning') { return false; }
  return document.querySelector('[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"], '
    + '[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-stale="true"]') === null;
};
"""

# "Rendered": see the module docstring. Records performance.now() of the first frame it is true in
# window.__renderedAt.
OVERVIEW_READY_JS = (
    "([title, charts, revenue]) => {"
    + SETTLED_JS
    + """
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !settled()) { return false; }
  const heading = Array.from(main.querySelectorAll('h1')).some(h => h.innerText.trim() === title);
  const plots = Array.from(main.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot'));
  const drawn = plots.filter(p => p.querySelector('g.trace, g.hm, .choroplethlayer path.choroplethlocation'));
  const cards = Array.from(main.querySelectorAll('[data-testid="stMetric"]'));
  const valued = cards.filter(c => {
    const v = c.querySelector('[data-testid="stMetricValue"]'); return v && v.innerText.trim() !== ''; });
  const revenueCard = cards.find(c => {
    const l = c.querySelector('[data-testid="stMetricLabel"]'); return l && l.innerText.includes('Revenue'); });
  const revenueShown = revenueCard
    ? revenueCard.querySelector('[data-testid="stMetricValue"]').innerText.trim() : null;
  const ready = heading && plots.length >= charts && drawn.length === plots.length && cards.length > 0
    && valued.length === cards.length && (revenue === null || revenueShown === revenue);
  if (ready && window.__renderedAt === undefined) { window.__renderedAt = performance.now(); }
  return ready;
}
"""
)
FLOOR_READY_JS = (
    "(text) => {"
    + SETTLED_JS
    + """
  const main = document.querySelector('[data-testid="stMain"]');
  const ready = main !== null && settled() && main.innerText.includes(text);
  if (ready && window.__renderedAt === undefined) { window.__renderedAt = performance.now(); }
  return ready;
}
"""
)


class Process(Server):
    """Any command that serves HTTP on a port, started and stopped like the benchmark's API server."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, health: str) -> None:
        self.port = port
        self.start(command, env, health)


def _country_filter() -> Any:
    from salesdash.filters import FILTERS

    return next(f for f in FILTERS if f.param == "country")


def _stack(database_url: str, work: Path) -> tuple[dict[str, Process], str, str, list[str]]:
    """The API, the dashboard and the floor on free loopback ports; returns them, the dashboard's and the
    floor's URLs and the countries of the data (``/api/filters``)."""
    from salesdash.cli import dashboard_command
    from salesdash.config import load_settings

    api_port, dash_port, floor_port = free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    env = os.environ | {
        "SALESDASH_DATABASE_URL": database_url,
        "SALESDASH_API_URL": api,
        "SALESDASH_LOG_LEVEL": "WARNING",
        "HOME": str(work),
    }
    processes: dict[str, Process] = {}
    try:
        processes["api"] = Process(
            [sys.executable, "-m", "salesdash", "serve", "--port", str(api_port)],
            env,
            api_port,
            "/api/health",
        )
        options = Server.get(processes["api"], "/api/filters")[1]
        country = _country_filter()
        names = json.loads(options)["data"].get(country.options_key, [])
        floor_app = work / "floor.py"
        floor_app.write_text(FLOOR_APP.format(label=country.label, options=names, text=FLOOR_TEXT))
        settings = load_settings(dashboard_host="127.0.0.1", dashboard_port=dash_port, api_url=api)
        command = dashboard_command(settings)
        processes["dashboard"] = Process(command, env, dash_port, "/_stcore/health")
        floor = dashboard_command(settings.model_copy(update={"dashboard_port": floor_port}))
        floor[floor.index("run") + 1] = str(floor_app)  # same flags, the trivial script
        processes["floor"] = Process(floor, env, floor_port, "/_stcore/health")
    except BaseException:
        for process in processes.values():
            process.stop()
        raise
    return processes, f"http://127.0.0.1:{dash_port}", f"http://127.0.0.1:{floor_port}", names


def _revenue_card(api: Process, country: str | None) -> str:
    """What the Revenue card must show, from the API (not from the page) and the card's own formatter."""
    from urllib.parse import urlencode

    from salesdash.charts.format import card_money
    from salesdash.dashboard.components.kpis import CARDS_QUERY

    query = "?" + urlencode(CARDS_QUERY | ({"country": country} if country else {}))
    status, body = api.get("/api/kpis" + query)
    if status != 200:
        raise RuntimeError(f"/api/kpis{query} answered {status}")
    return card_money(json.loads(body)["data"]["headline"]["metrics"]["revenue"]["current"])


def _wait(page: Any, script: str, arg: Any) -> float:
    try:
        page.wait_for_function(script, arg=arg, polling="raf", timeout=TIMEOUT_MS)
    except Exception:
        shot = Path(tempfile.gettempdir()) / "salesdash-render-timeout.png"
        page.screenshot(path=str(shot), full_page=True)
        log(f"    not rendered in {TIMEOUT_MS / 1000:g} s (waiting for {arg}); screenshot: {shot}")
        raise
    return float(page.evaluate("() => window.__renderedAt"))


def _pick(page: Any, label: str, value: str) -> None:
    """Type ``value`` into the sidebar multiselect ``label`` and click its option (exactly that name: the
    widget's search is fuzzy, "Austria" also offers "Australia" first); the clock starts at that click
    (``window.__pickedAt``) and ``window.__renderedAt`` is cleared for the next wait."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    box.locator("input").click()
    page.keyboard.type(value)
    option = page.get_by_role("option", name=value, exact=True)
    option.wait_for(timeout=TIMEOUT_MS)
    page.evaluate("() => { delete window.__renderedAt; window.__pickedAt = performance.now(); }")
    option.click()


def _since_pick(page: Any) -> float:
    return float(page.evaluate("() => window.__renderedAt - window.__pickedAt"))


def _visit(browser: Any, url: str, script: str, arg: Any) -> tuple[Any, Any, float]:
    """A new visitor: a fresh browser context opens ``url``; returns (context, page, ms to rendered)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url, wait_until="commit")
    return context, page, _wait(page, script, arg)


def _stats(samples: list[float]) -> dict[str, Any]:
    return {
        "p50_s": round(statistics.median(samples) / 1000, 3),
        "min_s": round(min(samples) / 1000, 3),
        "max_s": round(max(samples) / 1000, 3),
        "samples_s": [round(s / 1000, 3) for s in samples],
    }


def run(database_url: str, *, label: str = "", repeat: int = 5) -> dict[str, Any]:
    """Measure the Overview against the floor on the store at ``database_url`` (already loaded)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    country = _country_filter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="salesdash-render-") as tmp:
        processes, dashboard, floor, names = _stack(database_url, Path(tmp))
        api = processes["api"]
        try:
            picks = names[: max(repeat, 1)]
            unfiltered = _revenue_card(api, None)
            expected = {c: _revenue_card(api, c) for c in picks}  # asks the API first: its cache has them
            log(f"  dashboard render {label}: {repeat} new visitors, filter picks {picks}")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    ours = (OVERVIEW_READY_JS, [OVERVIEW_TITLE, OVERVIEW_CHARTS, unfiltered])
                    context, _, cold = _visit(browser, dashboard + "/", *ours)
                    context.close()
                    context, _, floor_cold = _visit(browser, floor + "/", FLOOR_READY_JS, FLOOR_TEXT)
                    context.close()
                    first, change, floor_first, floor_change = [], [], [], []
                    for pick in picks:
                        context, page, ms = _visit(browser, floor + "/", FLOOR_READY_JS, FLOOR_TEXT)
                        floor_first.append(ms)
                        _pick(page, country.label, pick)
                        _wait(page, FLOOR_READY_JS, f"{FLOOR_TEXT}: {pick}")
                        floor_change.append(_since_pick(page))
                        context.close()
                        context, page, ms = _visit(browser, dashboard + "/", *ours)
                        first.append(ms)
                        _pick(page, country.label, pick)
                        _wait(page, OVERVIEW_READY_JS, [OVERVIEW_TITLE, FILTERED_CHARTS, expected[pick]])
                        change.append(_since_pick(page))
                        context.close()
                        log(
                            f"    {pick}: first render {first[-1] / 1000:.3f} s (floor {floor_first[-1] / 1000:.3f}"
                            f" s), filter change {change[-1] / 1000:.3f} s (floor {floor_change[-1] / 1000:.3f} s)"
                        )
                finally:
                    browser.close()
        finally:
            for process in processes.values():
                process.stop()
    result = {
        "label": label,
        "what": "Overview page: navigation start (new visitor: fresh browser context) until the title, every KPI "
        f"card with its value and all {OVERVIEW_CHARTS} charts are drawn and Streamlit's script run is over; "
        "filter change: from the click on a country's option in the sidebar until the Revenue card shows the "
        "API's figure for it and the page is rendered again. Floor: a trivial Streamlit page (one st.write, "
        "one sidebar multiselect) served with the same flags.",
        "cold_s": round(cold / 1000, 3),
        "floor_cold_s": round(floor_cold / 1000, 3),
        "first_render": _stats(first),
        "floor_first_render": _stats(floor_first),
        "filter_change": _stats(change),
        "floor_filter_change": _stats(floor_change),
        "picks": picks,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    result["first_render_ratio"] = round(
        result["first_render"]["p50_s"] / result["floor_first_render"]["p50_s"], 2
    )
    result["filter_change_ratio"] = round(
        result["filter_change"]["p50_s"] / result["floor_filter_change"]["p50_s"], 2
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "database_url", help="a loaded store (sqlite:///..., duckdb:///..., postgresql+psycopg://...)"
    )
    parser.add_argument("--label", default="", help="what the store holds (for the result)")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", "5")))
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = parser.parse_args(argv)
    result = run(args.database_url, label=args.label, repeat=args.repeat)
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
