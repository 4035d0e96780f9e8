"""Storage that fails under salesdash: a damaged SQLite file and a full disk give one clear message (the API
boots and answers /api/health 503; `salesdash ingest` exits 2), never a traceback or exit 70, and a load that
hits a full disk changes nothing. The full disk is real: a small tmpfs mounted for the test (root only)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.reliability.common import start_server
from salesdash import cli
from salesdash.ingest import ingest_file
from salesdash.store import make_engine
from tests.conftest import SAMPLE_CSV, SMALL_CSV
from tests.reliability.support import metric_outputs


def damaged(path: Path, how: str) -> Path:
    """A SQLite file that is no database at all ("garbage"), or a real one whose pages after the first are
    overwritten ("malformed": it opens, and every read of a table fails)."""
    if how == "garbage":
        path.write_bytes(bytes((i * 7919) % 251 for i in range(200_000)))
        return path
    engine = make_engine(f"sqlite:///{path}")
    ingest_file(engine, SMALL_CSV)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xa5" * (size - 4096))
    return path


def ingest(url: str, csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("SALESDASH_DATABASE_URL", url)
    capsys.readouterr()
    code = cli.main(["ingest", str(csv), "--quiet"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("how", ["garbage", "malformed"])
def test_a_damaged_sqlite_file_is_exit_2_with_one_clear_line(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    path = damaged(tmp_path / "salesdash.db", how)
    code, err = ingest(f"sqlite:///{path}", SMALL_CSV, monkeypatch, capsys)
    assert code == cli.EXIT_USER_ERROR, err
    assert err.startswith(f"salesdash: error: The SQLite database file {path} is damaged")
    assert "move it aside and run `salesdash ingest`" in err
    assert err.count("\n") == 1


@pytest.mark.e2e
@pytest.mark.parametrize("how", ["garbage", "malformed"])
def test_the_api_boots_on_a_damaged_sqlite_file_and_health_says_what_is_wrong(how: str, tmp_path: Path):
    path = damaged(tmp_path / "salesdash.db", how)
    server = start_server(tmp_path, f"sqlite:///{path}")
    try:
        health = server.get("/api/health")
        kpis = server.get("/api/kpis")
    finally:
        server.stop()
    assert health.status_code == 503
    error = health.json()["error"]
    assert error["code"] == "store_unavailable"
    assert error["message"].startswith("Unhealthy: The SQLite database file")
    assert "is damaged" in error["message"]
    assert kpis.status_code == 503 and "is damaged" in kpis.json()["error"]["message"]
    log = server.output()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs, unmounted afterwards: a disk that really fills up (the sample's store, with its indexes, needs about 4-5 MiB)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (make test runs as root in CI)")
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill ``disk`` up to ``leave_bytes`` free."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave_bytes))


@pytest.mark.parametrize("leave_kib", [0, 900])
def test_a_full_disk_during_ingest_is_exit_2_and_changes_nothing(
    leave_kib: int,
    small_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    """0 KiB free: the first write fails; 900 KiB: the load of the bundled sample (2,823 lines) runs out of
    room part-way through its transaction."""
    url = f"sqlite:///{small_disk / 'salesdash.db'}"
    engine = make_engine(url)
    ingest_file(engine, SMALL_CSV)
    before = metric_outputs(engine)
    engine.dispose()
    fill(small_disk, leave_kib << 10)
    code, err = ingest(url, SAMPLE_CSV, monkeypatch, capsys)
    assert code == cli.EXIT_USER_ERROR, err
    assert err == (
        "salesdash: error: The disk is full; nothing was changed. Free some space on the disk that holds the "
        "database (or point SALESDASH_DATABASE_URL at one with room) and load again.\n"
    )
    (small_disk / "filler").unlink()
    engine = make_engine(url)
    assert metric_outputs(engine) == before  # nothing was changed, and the store still answers
    ingest_file(engine, SAMPLE_CSV)  # with room again, the same load goes through
    assert metric_outputs(engine) != before
    engine.dispose()


def test_the_api_says_the_disk_is_full_on_a_refresh(small_disk: Path):
    """POST /api/data-refresh onto a full disk: 503 with the same clear message, and the data is unchanged."""
    from salesdash.tokens import create_token
    from tests.api.conftest import app_for

    engine = make_engine(f"sqlite:///{small_disk / 'salesdash.db'}")
    ingest_file(engine, SMALL_CSV)
    token = create_token(engine, "admin", "disk test")
    before = metric_outputs(engine)
    client = app_for(engine, require_auth=True).test_client()
    fill(small_disk, 900 << 10)
    with SAMPLE_CSV.open("rb") as fh:
        response = client.post(
            "/api/data-refresh",
            data={"file": (fh, "sales.csv")},
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )
    assert response.status_code in (503, 507), response.get_data(as_text=True)
    assert response.get_json()["error"]["message"].startswith("The disk is full; nothing was changed.")
    (small_disk / "filler").unlink()
    assert metric_outputs(engine) == before
    engine.dispose()
