"""Airflow fixtures the DAG tests share: the project's DagBag, a fresh metadata database,
the parse-time import check, and the states of a finished ``dag.test()`` run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag() -> Any:
    """Every DAG in the project's ``dags/`` folder, parsed once per test module."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """An empty Airflow metadata database (the session's, under the test state folder)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def heavy_imports() -> Callable[[str, tuple[str, ...]], list[str]]:
    """``heavy_imports(dag_id, modules)``: which of ``modules`` parsing the DAG file imports,
    in a fresh interpreter (DAG files must do no work at import time)."""

    def check(dag_id: str, modules: tuple[str, ...]) -> list[str]:
        path = str(DAGS / f"{dag_id}.py")
        code = (
            f"import sys, runpy; runpy.run_path({path!r}); "
            f"import json; print(json.dumps([m for m in {list(modules)!r} if m in sys.modules]))"
        )
        result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    return check


@pytest.fixture
def task_states() -> Callable[[Any], dict[str, str]]:
    """``task_states(run)``: task id -> state of a finished ``dag.test()`` run."""
    return lambda run: {ti.task_id: ti.state for ti in run.get_task_instances()}
