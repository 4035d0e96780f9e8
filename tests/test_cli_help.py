"""The CLI for people: bare `salesdash` helps, every --help lists its settings, errors come before progress, a
missing column names the closest header present."""

from pathlib import Path

import pytest

from salesdash.cli import COMMAND_SETTINGS, main
from salesdash.config import Settings
from tests.conftest import SMALL_CSV
from tests.test_cli import run


def test_bare_salesdash_prints_help_with_examples(tmp_path: Path):
    result = run([], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "examples:" in result.stdout
    assert "salesdash ingest more.csv --mode append" in result.stdout
    assert "error" not in result.stderr


def test_ingest_help_lists_its_settings(tmp_path: Path):
    result = run(["ingest", "--help"], tmp_path)
    assert result.returncode == 0
    for name in ("SALESDASH_DATABASE_URL", "SALESDASH_SOURCE_PATH", "SALESDASH_KEEP_VERSIONS"):
        assert name in result.stdout
    assert Settings.model_fields["keep_versions"].description.split(":")[0] in result.stdout


@pytest.mark.parametrize("command", sorted(COMMAND_SETTINGS))
def test_every_command_help_lists_the_settings_it_reads(command: str, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "environment settings" in out
    for name in ("database_url", *COMMAND_SETTINGS[command]):
        assert f"SALESDASH_{name.upper()}" in out


def test_file_not_found_comes_before_any_progress(tmp_path: Path):
    result = run(["ingest", str(tmp_path / "nope.csv")], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"salesdash: error: File not found: {tmp_path / 'nope.csv'}"
    ]


def test_missing_column_names_the_closest_header_present(tmp_path: Path):
    lines = SMALL_CSV.read_text(encoding="utf-8").splitlines()
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(
        "\n".join([lines[0].replace(",SALES,", ",REVENUE,"), *lines[1:]]) + "\n", encoding="utf-8"
    )
    result = run(["ingest", str(renamed), "--quiet"], tmp_path)
    assert result.returncode == 2
    assert "missing required column(s): SALES (found 'REVENUE', the closest header present)" in result.stderr
