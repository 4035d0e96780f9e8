"""The CLI as a user runs it: a real subprocess, a real database file."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE_CSV, SMALL_CSV


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "SALESDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PATH": "/usr/bin:/bin",
    } | env
    return subprocess.run(
        [sys.executable, "-m", "salesdash", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def test_ingest_prints_the_report(tmp_path: Path):
    result = run(["ingest", str(SAMPLE_CSV), "--quiet"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rows loaded:   2,823" in result.stdout
    assert "encoding:      cp437" in result.stdout
    assert "data version:" in result.stdout


def test_bad_file_exits_non_zero_without_traceback(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SMALL_CSV.read_text().replace("600.25", "abc"))
    result = run(["ingest", str(bad), "--quiet"], tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "line 3, SALES ('abc') is not a number" in result.stderr


def test_bad_setting_exits_non_zero_without_traceback(tmp_path: Path):
    result = run(["ingest"], tmp_path, SALESDASH_DATABASE_URL="oracle://x")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "SALESDASH_DATABASE_URL" in result.stderr


def test_token_create_prints_a_token_once(tmp_path: Path):
    result = run(["token", "create", "--role", "admin"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("sd_")


def test_every_stage_shows_real_progress(tmp_path: Path):
    """The read stage counts the file's bytes (not "0/1" then "1/1"); load counts lines in batches."""
    import re

    big = tmp_path / "lines.csv"
    made = run(["generate", "--rows", "120000", "--out", str(big), "--quiet"], tmp_path)
    assert made.returncode == 0, made.stderr
    result = run(["ingest", str(big)], tmp_path)
    assert result.returncode == 0, result.stderr
    steps: dict[str, list[tuple[int, int]]] = {}
    for stage, done, total in re.findall(r"^\s*(\w+):\s+\d+%\s+\(([\d,]+)/([\d,]+)\)", result.stderr, re.M):
        steps.setdefault(stage, []).append((int(done.replace(",", "")), int(total.replace(",", ""))))
    size = big.stat().st_size
    reads = steps["read"]
    assert {total for _, total in reads} == {size}  # bytes of the file
    assert reads[0][0] == 0 and reads[-1][0] == size and len({done for done, _ in reads}) >= 3
    loads = steps["load"]
    assert {total for _, total in loads} == {120_000} and len({done for done, _ in loads}) >= 3
    assert [done for done, _ in reads] == sorted(done for done, _ in reads)


def test_ingest_without_a_path_loads_the_shipped_sample_from_any_directory(tmp_path: Path):
    """A plain install run outside the checkout: no data/raw/ under the working directory."""
    assert not (tmp_path / "data").exists()
    result = run(["ingest", "--quiet"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "rows loaded:   2,823" in result.stdout
