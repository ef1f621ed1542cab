"""The wheel as a user installs it: built from the checkout, installed (not editable) into a
fresh venv with the ``serve`` extra alone, away from the checkout (no ``PYTHONPATH``, another
working directory). Every ``mindlens`` sub-command answers ``--help``; the shipped V1 is
registered and served, and answers ``POST /analyze``; V2 analyses through the library; torch,
transformers and Airflow are not even installed.

uv installs the extra from its cache in about 10 s (pip takes minutes); without uv the test
falls back to pip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, stop_process, wait_for_http

pytestmark = pytest.mark.slow

TEXT = "They will destroy everything we love. Only a fool would believe them! Everyone knows it."

# One interpreter (a process per command would cost a minute) walks the installed command
# tree (each path, and what its --help printed when it failed), then analyses with V2 (the
# transformer tagger exported to ONNX) and lists the training-stack modules it imported.
LIBRARY_CHECK = """
import json, sys, typer.main
from pathlib import Path
from typer.testing import CliRunner
import mindlens, mindlens.config
from mindlens.cli.main import app
from mindlens.models.analyzer import Analyzer

root = typer.main.get_command(app)
paths = []
def walk(command, path):
    paths.append(path)
    for name, sub in getattr(command, "commands", {}).items():  # a group's sub-commands
        walk(sub, path + [name])
walk(root, [])
runner = CliRunner()
failed = {}
for path in paths:
    result = runner.invoke(app, path + ["--help"], prog_name="mindlens")
    if result.exit_code != 0 or "Usage:" not in result.output:
        failed[" ".join(path)] = result.output[-800:] + repr(result.exception)
v2 = Analyzer.load(Path(sys.argv[1])).analyze(sys.argv[2])
print(json.dumps({
    "commands": [" ".join(p) for p in paths],
    "failed": failed,
    "package": mindlens.__file__,
    "resources": str(mindlens.config.RESOURCE_ROOT),
    "v2_sentences": len(v2["sentences"]),
    "training_stack": sorted({m.split(".")[0] for m in sys.modules} & {"torch", "transformers", "airflow"}),
}))
"""


def _installer() -> list[str] | None:
    """uv beside this interpreter or on PATH; None: use pip."""
    uv = Path(sys.executable).with_name("uv")
    found = str(uv) if uv.exists() else shutil.which("uv")
    return [found] if found else None


def _clean_env(state: Path) -> dict[str, str]:
    """The environment of a user of the installed package: no checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MINDLENS_CONFIG")}
    env["MINDLENS_STATE_DIR"] = str(state)
    return env


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _source_copy(dest: Path) -> Path:
    """The checkout's files (tracked and new, not ignored; without the model bundles), so the
    build never sees stale ``build/`` output of an earlier one."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("building the wheel copies the git checkout's files; no git checkout here")
    for name in listed:
        source = ROOT / name
        if name.startswith("models/") or not source.is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="module")
def serve_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv holding the built wheel and its ``serve`` extra, pinned by requirements.txt."""
    work = tmp_path_factory.mktemp("wheel")
    source = _source_copy(work / "src")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)]
    try:
        import setuptools  # noqa: F401  (build with this venv's setuptools, no download)

        build.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    _run(build)
    (wheel,) = (work / "dist").glob("mindlens-*.whl")
    lock = [
        line
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if not line.startswith("-e")
    ]
    constraints = work / "constraints.txt"
    constraints.write_text("\n".join(lock) + "\n", encoding="utf-8")
    venv = work / "venv"
    python = venv / "bin" / "python"
    uv = _installer()
    if uv:
        _run([*uv, "venv", "-q", "--python", sys.executable, str(venv)])
        _run(
            [*uv, "pip", "install", "-q", "--python", str(python), f"{wheel}[serve]", "-c", str(constraints)]
        )
    else:
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[serve]", "-c", str(constraints)])
    yield venv


def test_every_subcommand_answers_help_and_v2_analyses(serve_venv: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path / "state")
    script = serve_venv / "bin" / "mindlens"
    top = _run([str(script), "--help"], cwd=tmp_path, env=env)  # the console script itself
    assert "serve" in top.stdout and "pipeline" in top.stdout

    check = [str(serve_venv / "bin" / "python"), "-c", LIBRARY_CHECK, str(ROOT / "models" / "v2"), TEXT]
    walk = json.loads(_run(check, cwd=tmp_path, env=env).stdout.strip().splitlines()[-1])
    assert walk["failed"] == {}
    assert {"serve", "analyze", "registry bootstrap", "labels push", "data prepare", "airflow"} <= set(
        walk["commands"]
    )
    assert len(walk["commands"]) > 30
    # The installed copy, not the checkout, with its run-time files (notebooks, config) inside.
    assert Path(walk["package"]).is_relative_to(serve_venv)
    resources = Path(walk["resources"])
    assert resources.is_relative_to(serve_venv)
    assert (resources / "configs" / "default.yaml").is_file()
    assert (resources / "notebooks" / "train_baseline.ipynb").is_file()
    assert (resources / "dags" / "mindlens_pipeline.py").is_file()
    assert walk["v2_sentences"] > 0 and walk["training_stack"] == []


def test_serve_extra_has_no_training_stack(serve_venv: Path, tmp_path: Path) -> None:
    for module in ("torch", "transformers", "airflow"):
        result = subprocess.run(
            [str(serve_venv / "bin" / "python"), "-c", f"import {module}"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_clean_env(tmp_path),
        )
        assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr, module


def test_serve_extra_serves_v1(serve_venv: Path, tmp_path: Path) -> None:
    env = _clean_env(tmp_path / "state")
    script = str(serve_venv / "bin" / "mindlens")
    _run([script, "registry", "bootstrap", "--release", str(ROOT / "models" / "v1")], cwd=tmp_path, env=env)

    port = free_port()
    with open(tmp_path / "serve.log", "w") as log:
        server = subprocess.Popen(
            [script, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for_http(f"{base}/readyz", timeout=180, process=server)
            assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
            answer = httpx.post(f"{base}/analyze", json={"text": TEXT}, timeout=60)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["model"]["version"] == "1" and body["sentences"]
            assert httpx.get(f"{base}/demo/", timeout=30).status_code == 200
        finally:
            stop_process(server)
