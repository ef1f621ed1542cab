"""Run the project's DAGs on the embedded defaults: Airflow home under the state
folder, SQLite metadata, the repo's ``dags/`` and ``plugins/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mindlens.config import PROJECT_ROOT, RESOURCE_ROOT, Settings
from mindlens.tracking import init_tracking_store


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment of every local ``airflow`` command.

    The interpreter's ``bin`` folder goes first on ``PATH``: ``airflow standalone`` starts
    its components (scheduler, api-server, ...) as ``airflow`` by name, which a venv that
    was never activated (``make airflow-ui``, ``.venv/bin/mindlens``) does not provide."""
    home = settings.paths.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    env.setdefault("AIRFLOW_HOME", str(home))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(RESOURCE_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(RESOURCE_ROOT / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    env["MINDLENS_STATE_DIR"] = str(settings.state_dir)
    env["MINDLENS_DATA_DIR"] = str(settings.data_dir)
    return env


def _airflow(args: list[str], env: dict[str, str]) -> int:
    airflow = Path(sys.executable).with_name("airflow")
    command = [str(airflow)] if airflow.exists() else [sys.executable, "-m", "airflow"]
    return subprocess.run(command + args, env=env, cwd=PROJECT_ROOT).returncode


def run_airflow(settings: Settings, args: list[str]) -> int:
    """Any ``airflow`` command on the project's local Airflow: its database migrated and the
    MLflow store initialised first, so tasks that run in parallel (the pipeline's mapped
    ``train``) never race to create the same SQLite schema."""
    init_tracking_store(settings)
    env = airflow_env(settings)
    return _airflow(["db", "migrate"], env) or _airflow(args, env)


def run_dag_once(settings: Settings, dag_id: str, conf: dict[str, Any] | None = None) -> int:
    """``airflow dags test DAG`` in a child process; its exit code."""
    return run_airflow(settings, ["dags", "test", dag_id, "--conf", json.dumps(conf or {})])
