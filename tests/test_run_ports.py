"""`salesdash run` checks its two ports before it loads or starts anything: a busy port is one clear line
naming the port, which server wanted it and the flag or setting that changes it (exit 2), not two URLs printed
as if started followed by a server's traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from salesdash import cli


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def free() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "salesdash.db"
    monkeypatch.setenv("SALESDASH_DATABASE_URL", f"sqlite:///{database}")
    return database


@pytest.mark.parametrize(
    ("which", "flag", "setting"),
    [
        ("API", "--api-port", "SALESDASH_API_PORT"),
        ("dashboard", "--dashboard-port", "SALESDASH_DASHBOARD_PORT"),
    ],
)
def test_a_busy_port_is_named_with_the_flag_that_changes_it(
    which: str, flag: str, setting: str, busy_port: int, no_database: Path, capsys: pytest.CaptureFixture[str]
):
    other = "--dashboard-port" if flag == "--api-port" else "--api-port"
    code = cli.main(["run", flag, str(busy_port), other, str(free())])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_USER_ERROR
    assert err == (
        f"salesdash: error: port {busy_port} on 127.0.0.1 (the {which}) is already in use: stop what is using "
        f"it, or choose another port with {flag} PORT (or the {setting} setting).\n"
    )
    assert "http://" not in out + err  # no URLs printed as if it had started
    assert not no_database.exists()  # nothing was loaded


def test_a_busy_port_from_the_setting_is_named_too(
    busy_port: int, no_database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("SALESDASH_DASHBOARD_PORT", str(busy_port))
    assert cli.main(["run", "--api-port", str(free())]) == cli.EXIT_USER_ERROR
    assert f"port {busy_port} on 127.0.0.1 (the dashboard) is already in use" in capsys.readouterr().err


def test_the_two_servers_cannot_share_a_port(no_database: Path, capsys: pytest.CaptureFixture[str]):
    port = free()
    assert cli.main(["run", "--api-port", str(port), "--dashboard-port", str(port)]) == cli.EXIT_USER_ERROR
    assert f"cannot share port {port}" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "70000", "http"])
def test_a_port_flag_must_be_a_port(value: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "--api-port", value])
    assert info.value.code == 2
    assert "is not a port number (1-65535)" in capsys.readouterr().err
