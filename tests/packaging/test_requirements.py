"""pyproject.toml (what the package declares, by role) and requirements.txt (the pinned lock
the quick start installs) stay in step, and setup.py's discovery sees every package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _declared() -> dict[str, list[tuple[str, Requirement]]]:
    """Distribution -> [(role, requirement)] over the base dependencies and every extra
    (an extra's ``mindlens[...]`` self-reference is not a distribution of its own)."""
    roles = {"base": PYPROJECT["dependencies"], **PYPROJECT["optional-dependencies"]}
    out: dict[str, list[tuple[str, Requirement]]] = {}
    for role, lines in roles.items():
        for line in lines:
            req = Requirement(line)
            if canonicalize_name(req.name) != "mindlens":
                out.setdefault(canonicalize_name(req.name), []).append((role, req))
    return out


def _pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-e"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        assert match, f"requirements.txt pins exactly: {raw!r}"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_lock_pins_what_pyproject_declares() -> None:
    declared, pinned = _declared(), _pinned()
    assert sorted(set(declared) - set(pinned)) == [], "pin these in requirements.txt"
    assert sorted(set(pinned) - set(declared)) == [], "declare these in pyproject.toml (base or an extra)"
    off = {
        f"{name} ({role})": f"{req.specifier} excludes {pinned[name]}"
        for name, reqs in declared.items()
        for role, req in reqs
        if not req.specifier.contains(pinned[name], prereleases=True)
    }
    assert off == {}


def test_extras_match_roles() -> None:
    extras = PYPROJECT["optional-dependencies"]
    assert set(extras) == {"serve", "train", "airflow", "dev"}
    serve = {canonicalize_name(Requirement(line).name) for line in extras["serve"]}
    assert {"fastapi", "uvicorn", "onnxruntime", "tokenizers", "gradio"} <= serve
    # The inference role carries no training or orchestration stack.
    assert serve.isdisjoint({"torch", "transformers", "sentence-transformers", "apache-airflow", "mlflow"})
    # The quick start installs the lock with the package itself, editable.
    assert (ROOT / "requirements.txt").read_text(encoding="utf-8").rstrip().endswith("-e .")


def test_every_source_folder_is_a_package() -> None:
    """setup.py discovers packages by their ``__init__.py``: a folder of modules without one
    would silently be left out of the wheel."""
    missing = sorted(
        str(folder.relative_to(ROOT))
        for folder in [ROOT / "src" / "mindlens", *(ROOT / "src" / "mindlens").rglob("*")]
        if folder.is_dir()
        and folder.name != "__pycache__"
        and any(folder.glob("*.py"))
        and not (folder / "__init__.py").is_file()
    )
    assert missing == []
