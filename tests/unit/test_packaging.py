"""Every package under src/mindlens is listed for setuptools (a wheel would miss the rest)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT / "src").parts)
        for init in (ROOT / "src" / "mindlens").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages"
