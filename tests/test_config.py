import pytest

from salesdash.config import Settings, load_settings
from salesdash.errors import ConfigError
from tests.conftest import ROOT


def test_every_setting_is_documented():
    docs = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`SALESDASH_{name.upper()}`" in docs, name


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SALESDASH_{name.upper()}", raising=False)
    s = load_settings()
    assert s.api_host == "127.0.0.1"
    assert s.dashboard_host == "127.0.0.1"
    assert s.debug is False
    assert "*" not in s.cors_origins
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("data/salesdash.db")


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("SALESDASH_DATABASE_URL", "mysql://x/y", "unsupported database"),
        ("SALESDASH_DATABASE_URL", "not a url", "not a database URL"),
        ("SALESDASH_API_PORT", "seventy", "SALESDASH_API_PORT"),
        ("SALESDASH_API_PORT", "70000", "SALESDASH_API_PORT"),
        ("SALESDASH_CORS_ORIGINS", "*", "explicit"),
        ("SALESDASH_API_URL", "localhost:5000", "http://"),
        ("SALESDASH_LOG_LEVEL", "LOUD", "DEBUG, INFO"),
    ],
)
def test_bad_settings_fail_with_one_clear_message(monkeypatch: pytest.MonkeyPatch, env, value, fragment):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert fragment in info.value.message


def test_debug_refused_on_public_bind(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SALESDASH_DEBUG", "true")
    monkeypatch.setenv("SALESDASH_API_HOST", "0.0.0.0")
    with pytest.raises(ConfigError, match="loopback"):
        load_settings()
    monkeypatch.setenv("SALESDASH_API_HOST", "127.0.0.1")
    assert load_settings().debug is True
