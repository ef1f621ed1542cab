"""``make airflow-ui``'s way for real: ``mindlens airflow standalone`` on a fresh state folder,
started with the venv's ``bin`` off ``PATH`` (a venv nobody activated), and
``mindlens_pipeline`` triggered through the REST API as the UI does. The real scheduler
runs the mapped ``train`` tasks in parallel (LocalExecutor), which ``dag.test()`` never does:
the run must succeed on the SQLite quick start, with no two tasks racing to create the
MLflow store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port, needs_ptc, wait_for_http

pytestmark = [needs_ptc, pytest.mark.slow]

DAG = "mindlens_pipeline"
CONF = {
    "max_documents": 8,
    "candidates": [
        {"name": "tfidf", "family": "tfidf"},
        {"name": "tfidf-heuristics", "family": "tfidf", "params": {"use_signals": True}},
    ],
}


def _standalone_env(state: Path, port: int) -> dict[str, str]:
    """The environment ``make airflow-ui`` gives ``mindlens airflow standalone``: no Airflow
    settings of the test session, no venv on ``PATH``; a private port and state folder."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env |= {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "MINDLENS_STATE_DIR": str(state),
        "MINDLENS_SERVING__API_URL": "http://127.0.0.1:9",  # reload_api: nothing listens
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
    }
    return env


def _stop_group(process: subprocess.Popen) -> None:
    """TERM the standalone's process group (its components ignore the parent's TERM), KILL
    what is left after 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(2)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_json(client: httpx.Client, url: str, ok: object, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            answer = client.get(url)
            last = answer.status_code
            if answer.status_code == 200 and ok(answer.json()):  # type: ignore[operator]
                return answer.json()
        except httpx.HTTPError as err:
            last = err
        time.sleep(2)
    raise TimeoutError(f"{what} not reached within {timeout}s (last: {last})")


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
            env=_standalone_env(state, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
    try:
        try:
            wait_for_http(f"{base}/api/v2/monitor/health", timeout=300, process=standalone)
            with httpx.Client(base_url=base, timeout=30) as api:
                _wait_json(
                    api,
                    "/api/v2/monitor/health",
                    lambda h: h["scheduler"]["status"] == "healthy",
                    180,
                    "a healthy scheduler",
                )
                _wait_json(api, f"/api/v2/dags/{DAG}", lambda d: True, 180, "the parsed DAG")
                assert api.patch(f"/api/v2/dags/{DAG}", json={"is_paused": False}).status_code == 200
                created = api.post(f"/api/v2/dags/{DAG}/dagRuns", json={"logical_date": None, "conf": CONF})
                assert created.status_code == 200, created.text
                run_id = created.json()["dag_run_id"]
                run = _wait_json(
                    api,
                    f"/api/v2/dags/{DAG}/dagRuns/{run_id}",
                    lambda r: r["state"] in ("success", "failed"),
                    900,
                    "a finished run",
                )
                tasks = api.get(f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances").json()
        except (TimeoutError, RuntimeError, AssertionError):
            print(log_path.read_text(errors="replace")[-6000:])
            raise
        states = {(t["task_id"], t["map_index"]): t["state"] for t in tasks["task_instances"]}
        assert run["state"] == "success", states
        # The two candidates trained at the same time (the race needs that overlap).
        trains = [t for t in tasks["task_instances"] if t["task_id"] == "train"]
        assert len(trains) == 2
        spans = [
            (datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"])) for t in trains
        ]
        assert max(s for s, _ in spans) < min(e for _, e in spans), spans
        # The venv's bin was off PATH, so this ran only because standalone found `airflow`.
        assert (state / "mlflow.db").is_file()
        print(f"standalone up to pipeline success: {time.monotonic() - started:.0f} s")
    finally:
        _stop_group(standalone)
