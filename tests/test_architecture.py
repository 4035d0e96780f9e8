"""docs/architecture.md and docs/metrics.md stay true: every module under src/salesdash is named in the layers
table, every salesdash import follows the table's "imports" column, and docs/metrics.md lists exactly the metrics
of the registry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from salesdash.vocabulary import METRICS

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "salesdash"
DOCS = ROOT / "docs"


def _layers() -> dict[str, tuple[str, set[str]]]:
    """unit (top-level module or package name) -> (its row's text, the units it may import)."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        units = [u.removesuffix(".py").rstrip("/") for u in re.findall(r"`([^`]+)`", cells[0])]
        allowed = set() if cells[2] == "nothing" else {u.strip() for u in cells[2].split(",")}
        for unit in units:
            rows[unit] = (line, allowed)
    return rows


def _unit(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "salesdash":
            parts = node.module.split(".")
            if len(parts) > 1:
                out.add(parts[1])
            else:  # from salesdash import tokens / __version__
                out |= {a.name for a in node.names if a.name != "__version__"}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("salesdash.")}
    return out


def test_every_module_is_named_in_the_architecture():
    rows = _layers()
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        unit = _unit(path)
        if unit not in rows:
            missing.append(rel.as_posix())
            continue
        row = rows[unit][0]
        if len(rel.parts) == 1:
            continue  # a top-level module is its own row
        if rel.name == "__init__.py" and len(rel.parts) == 2:
            continue  # the package row itself
        named = f"`{rel.parent.name}/`" in row if rel.name == "__init__.py" else f"`{rel.name}`" in row
        if not named:
            missing.append(rel.as_posix())
    assert missing == [], f"not named in docs/architecture.md: {missing}"


def test_imports_follow_the_layers_table():
    rows = _layers()
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        unit = _unit(path)
        allowed = rows[unit][1] | {unit}
        for imported in sorted(_imported_units(path) - allowed):
            wrong.append(f"{path.relative_to(SRC).as_posix()} imports {imported}")
    assert wrong == [], wrong


def test_the_dashboard_reads_only_through_the_api():
    """The table itself keeps the rule: the dashboard may not import what computes or stores numbers."""
    forbidden = {"store", "metrics", "views", "ingest", "api", "export", "forecast", "session"}
    assert _layers()["dashboard"][1] & forbidden == set()
    for unit in ("export", "views", "api", "charts"):
        assert "dashboard" not in _layers()[unit][1], unit


def test_metrics_doc_lists_exactly_the_registry_metrics():
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    table = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)
    assert sorted(documented) == sorted(METRICS)
    assert len(documented) == len(set(documented))
