"""The container engine on this machine: podman (through the machine's wrapper when it is
there), podman-compose, torch's CPU wheel folder, and a command runner for the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT  # tests/conftest.py

TAG = os.environ.get("MINDLENS_TEST_IMAGE_TAG", "test")
# The machine's wrapper (runc, host networking and the proxy's CA for builds); plain podman elsewhere.
WRAPPER = ROOT.parent / "shared" / "tools" / "podman"


def podman() -> list[str] | None:
    """The podman command to use (MINDLENS_PODMAN, the wrapper, ``podman``), or None."""
    if os.environ.get("MINDLENS_PODMAN"):
        return [os.environ["MINDLENS_PODMAN"]]
    if shutil.which("podman") is None:
        return None
    return [str(WRAPPER)] if WRAPPER.is_file() else ["podman"]


def podman_compose() -> list[str] | None:
    """podman-compose beside this interpreter (the venv CI installs it into) or on PATH."""
    if os.environ.get("MINDLENS_PODMAN_COMPOSE"):
        return [os.environ["MINDLENS_PODMAN_COMPOSE"]]
    beside = Path(sys.executable).with_name("podman-compose")
    found = str(beside) if beside.exists() else shutil.which("podman-compose")
    return [found] if found else None


def torch_wheels() -> Path | None:
    """A folder holding torch's CPU wheel for the platform build: MINDLENS_TORCH_WHEELS, or
    pip's find-links folder on this machine (``pip config list``)."""
    candidates = [os.environ.get("MINDLENS_TORCH_WHEELS", "")]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    )
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("find-links"):
            candidates += value.strip("'\"").split()
    for folder in filter(None, candidates):
        if any(Path(folder).glob("torch-*+cpu-*.whl")):
            return Path(folder)
    return None


def run(
    args: list[str], timeout: float = 600, check: bool = True, **kwargs
) -> subprocess.CompletedProcess[str]:
    """A command with its output captured; on failure the assertion shows the output's tail."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check:
        assert result.returncode == 0, (
            f"{' '.join(args)} -> {result.returncode}\n{(result.stdout + result.stderr)[-4000:]}"
        )
    return result


def image_size_mb(engine: list[str], image: str) -> float:
    out = run([*engine, "image", "inspect", "--format", "{{.Size}}", image]).stdout.strip()
    return int(out) / 1e6
