"""docs/ARCHITECTURE.md is checked against the code: every file, folder and name it points
at exists, and its layer table names every package of src/mindlens."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "mindlens"
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
# `path/to/file.py`, `folder/`, optionally followed by `: name` (a name defined there)
PATH = re.compile(r"`((?:[\w.-]+/)*[\w.-]+(?:\.py|\.ipynb|\.toml|\.yaml|\.md|/))(?:: (\w+))?`")


def _resolve(token: str) -> Path | None:
    for base in (
        SRC,
        ROOT,
        SRC / "cli",
        SRC / "serving",
        SRC / "serving" / "routes",
        SRC / "training",
        SRC / "models",
    ):
        if (base / token).exists():
            return base / token
    return None


def test_every_path_and_name_exists() -> None:
    missing = []
    for match in PATH.finditer(DOC):
        token, name = match.groups()
        path = _resolve(token)
        if path is None:
            missing.append(token)
        elif name and path.is_file() and not re.search(rf"^(class |def )?{name}\b", path.read_text(), re.M):
            missing.append(f"{token}: {name}")
    assert not missing, f"ARCHITECTURE.md points at things that do not exist: {missing}"


def test_the_layer_table_names_every_package() -> None:
    packages = {p.parent.name for p in SRC.glob("*/__init__.py")}
    named = set(re.findall(r"`(\w+)/`", DOC))
    assert packages - named == set()


def test_every_dag_is_described() -> None:
    for dag in (ROOT / "dags").glob("mindlens_*.py"):
        assert dag.stem in DOC or dag.stem.removeprefix("mindlens_") in DOC, dag.stem
