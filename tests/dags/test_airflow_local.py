"""``mindlens airflow`` (``make airflow-ui``) from a venv nobody activated: ``airflow
standalone`` starts its components as ``airflow`` by name, so the environment it gets must
find the venv's ``airflow`` on ``PATH``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mindlens.airflow_local import airflow_env
from mindlens.config import get_settings


def test_airflow_env_finds_the_venvs_airflow_without_an_activated_venv(monkeypatch, tmp_path):
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "airflow").exists():
        pytest.skip("no airflow script beside this interpreter")
    # A shell where the venv was never activated: its bin is nowhere on PATH.
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    assert shutil.which("airflow") != str(venv_bin / "airflow")

    env = airflow_env(get_settings())
    found = subprocess.run(
        ["sh", "-c", "command -v airflow"], env=env, capture_output=True, text=True, check=False
    ).stdout.strip()
    assert found == str(venv_bin / "airflow")
