"""notebooks/exploration.ipynb: committed without outputs, executed headless (nbclient, a real kernel) on the
bundled data in a scratch store, its figures checked."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT, SAMPLE_CSV

NOTEBOOK = ROOT / "notebooks" / "exploration.ipynb"


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.slow
def test_notebook_runs_and_shows_the_reference_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SALESDASH_DATABASE_URL", f"sqlite:///{tmp_path / 'notebook.db'}")
    monkeypatch.setenv("SALESDASH_SOURCE_PATH", str(SAMPLE_CSV))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = "\n".join(_text(c) for c in notebook.cells if c.cell_type == "code")
    for figure in ("9,838,141.37", "303", "32,469.11", "Jan-May 2005 vs Jan-May 2004", "2005-Q2"):
        assert figure in shown, figure
    assert "PRICEEACH is capped at 100.00" in shown
    assert "backtest MAPE" in shown
    assert "rows read 2,823, loaded 2,823, rejected 0" in shown
    assert not (ROOT / "data" / "salesdash.db").is_relative_to(tmp_path)  # the scratch store, not the user's
    assert (tmp_path / "notebook.db").stat().st_size > 0
