"""Dashboard test fixtures: a REAL API (create_app over a real SQLite store holding the bundled data) served
over real HTTP on a free loopback port, in a thread; the dashboard under test talks to it like in production."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine
from werkzeug.serving import BaseWSGIServer, make_server

from salesdash.api import create_app
from salesdash.config import Settings
from salesdash.dashboard.components.kpis import readable as kpis_readable
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from salesdash.tokens import create_token
from tests.conftest import SAMPLE_CSV

APP = Path(__file__).resolve().parents[2] / "src" / "salesdash" / "dashboard" / "app.py"


@dataclass
class LiveApi:
    url: str
    engine: Engine
    admin_token: str

    def get(self, path: str, **params: object) -> dict:
        response = requests.get(f"{self.url}{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()


def serve(settings: Settings, engine: Engine) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, create_app(settings, engine=engine), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-api", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="session")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The API over the bundled data, on http://127.0.0.1:<free port> (shared by the dashboard tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SAMPLE_CSV)
    token = create_token(engine, "admin", "dashboard tests")
    settings = Settings(database_url=url, source_path=SAMPLE_CSV, cache_entries=256)
    server, thread = serve(settings, engine)
    yield LiveApi(f"http://127.0.0.1:{server.server_port}", engine, token)
    server.shutdown()
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture
def dashboard_env(live_api: LiveApi, monkeypatch: pytest.MonkeyPatch) -> LiveApi:
    """Point the dashboard (settings from the environment) at the live API; no auto-refresh timer."""
    monkeypatch.setenv("SALESDASH_API_URL", live_api.url)
    monkeypatch.setenv("SALESDASH_REQUEST_TIMEOUT", "30")
    return live_api


def readable(markdown: str) -> str:
    """Markdown source as a reader sees its values: the escapes of salesdash.markup.md and the cards'
    keep-together characters (kpis.keep_together) undone."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")
    return kpis_readable(text)
