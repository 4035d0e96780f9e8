"""`salesdash ingest --mode append` as a user runs it: the Data page's append path, duplicates refused with the
exact count and why, nothing changed on refusal."""

from pathlib import Path

from salesdash.store import make_engine, version_history
from tests.conftest import SMALL_CSV
from tests.test_cli import run


def _renumbered(tmp_path: Path) -> Path:
    lines = SMALL_CSV.read_text(encoding="utf-8").splitlines()
    out = tmp_path / "more.csv"
    out.write_text("\n".join([lines[0], *("9" + line for line in lines[1:])]) + "\n", encoding="utf-8")
    return out


def test_append_adds_lines_and_refuses_duplicates_with_the_count(tmp_path: Path):
    assert run(["ingest", str(SMALL_CSV), "--quiet"], tmp_path).returncode == 0
    more = _renumbered(tmp_path)

    appended = run(["ingest", str(more), "--mode", "append", "--quiet"], tmp_path)

    assert appended.returncode == 0, appended.stderr
    assert "appended:      8 order lines (16 stored in all)" in appended.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        newest = version_history(engine)[0]
        assert newest.row_count == 16 and newest.report["load_mode"] == "append"

        again = run(["ingest", str(more), "--mode", "append", "--quiet"], tmp_path)

        assert again.returncode == 2
        assert "8 order line(s) of the file are already stored" in again.stderr
        assert "Traceback" not in again.stderr
        assert version_history(engine)[0] == newest
    finally:
        engine.dispose()


def test_unknown_mode_is_a_usage_error(tmp_path: Path):
    result = run(["ingest", str(SMALL_CSV), "--mode", "merge"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'merge'" in result.stderr
