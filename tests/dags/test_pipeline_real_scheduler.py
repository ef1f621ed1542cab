"""``make airflow-ui``'s way for real: ``mindlens airflow standalone`` on a fresh state folder,
started with the venv's ``bin`` off ``PATH`` (a venv nobody activated), and
``mindlens_pipeline`` triggered through the REST API as the UI does. The real scheduler
runs the mapped ``train`` tasks in parallel (LocalExecutor), which ``dag.test()`` never does:
the run must succeed on the SQLite quick start, with no two tasks racing to create the
MLflow store.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from airflow_servers import QUICK_PIPELINE_CONF as CONF
from airflow_servers import airflow_process_env, stop_group
from conftest import ROOT, free_port, needs_ptc, wait_for_http

from mindlens.airflow_local import AirflowClient

pytestmark = [needs_ptc, pytest.mark.slow]

DAG = "mindlens_pipeline"


def test_pipeline_triggered_through_the_api_succeeds_with_parallel_train(tmp_path: Path) -> None:
    state = tmp_path / "state"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "standalone.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        standalone = subprocess.Popen(
            [sys.executable, "-m", "mindlens.cli", "airflow", "standalone"],
            cwd=ROOT,
            env=airflow_process_env(state, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    try:
        try:
            wait_for_http(f"{base}/api/v2/monitor/health", timeout=300, process=standalone)
            with AirflowClient(base) as api:
                api.wait_healthy()
                run_id = api.trigger(DAG, CONF)
                run = api.wait_run(DAG, run_id)
                tasks = api.task_instances(DAG, run_id)
        except (TimeoutError, RuntimeError, AssertionError):
            print(log_path.read_text(errors="replace")[-6000:])
            raise
        states = {(t["task_id"], t["map_index"]): t["state"] for t in tasks}
        assert run["state"] == "success", states
        # The two candidates trained at the same time (the race needs that overlap).
        trains = [t for t in tasks if t["task_id"] == "train"]
        assert len(trains) == 2
        spans = [
            (datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"])) for t in trains
        ]
        assert max(s for s, _ in spans) < min(e for _, e in spans), spans
        # The venv's bin was off PATH, so this ran only because standalone found `airflow`.
        assert (state / "mlflow.db").is_file()
        print(f"standalone up to pipeline success: {time.monotonic() - started:.0f} s")
    finally:
        stop_group(standalone)  # its components ignore the parent's TERM: the whole group
