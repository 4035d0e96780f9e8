"""API test fixtures: real apps (create_app) over real databases, driven in-process by Flask's test client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from salesdash.api import create_app
from salesdash.config import Settings
from salesdash.tokens import create_token
from tests.conftest import SAMPLE_CSV

ORIGIN = "http://127.0.0.1:8501"


def database_url_of(engine: Engine) -> str:
    """The SALESDASH_DATABASE_URL that names ``engine``'s store."""
    if engine.dialect.name == "spark":
        from salesdash.store.spark import remote_of, spark_database_of

        return f"{remote_of(engine)}/;salesdash_database={spark_database_of(engine)}"
    return engine.url.render_as_string(hide_password=False)


def settings_for(engine: Engine, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url_of(engine),
        "source_path": SAMPLE_CSV,
        "cors_origins": [ORIGIN],
        "require_auth": False,
        "debug": False,
        "cache_entries": 64,
        "max_upload_mb": 20,
    }
    values.update(overrides)
    return Settings(**values)


def app_for(engine: Engine, **overrides: Any) -> APIFlask:
    return create_app(settings_for(engine, **overrides), engine=engine)


@pytest.fixture
def sample_client(sample_engine: Engine) -> FlaskClient:
    """A client of an app over the bundled data (read-only; one database per engine per session)."""
    return app_for(sample_engine).test_client()


@pytest.fixture
def small_app(small_engine: Engine) -> APIFlask:
    """An app over tests/data/small.csv in a fresh database (may be written to)."""
    return app_for(small_engine)


@pytest.fixture
def make_app(fresh_engine: Engine) -> Callable[..., APIFlask]:
    """Build an app over a fresh, empty database with setting overrides."""

    def make(**overrides: Any) -> APIFlask:
        return app_for(fresh_engine, **overrides)

    return make


@pytest.fixture
def tokens(fresh_engine: Engine) -> dict[str, str]:
    return {role: create_token(fresh_engine, role, f"test {role}") for role in ("viewer", "admin")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str | None = None, parameter: str | None = None) -> dict:
    """The one error envelope, with the given status (and code / offending parameter when given)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    assert "Traceback" not in response.get_data(as_text=True)
    if code is not None:
        assert error["code"] == code
    if parameter is not None:
        assert parameter in error["message"]
        assert any(d.get("parameter") == parameter for d in error["details"]), error["details"]
    return error


def data_of(response: Any) -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"data", "meta"}
    return body["data"]
