"""What the tests that start real Airflow servers share: the environment of a venv nobody
activated, stopping a process group, and screenshots of Airflow's UI.

``tests/dags/test_pipeline_real_scheduler.py`` (``airflow standalone`` on SQLite) and
``tests/dags/test_celery_topology.py`` (``mindlens platform up``: Celery workers, PostgreSQL,
Redis, an MLflow server) use them; the REST calls are ``mindlens.airflow_local.AirflowClient``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import CHROMIUM, FLAGS, ROOT, free_port

# A quick mindlens_pipeline run: a small seeded sample, two TF-IDF candidates (two mapped
# ``train`` tasks that run at the same time).
QUICK_PIPELINE_CONF = {
    "max_documents": 8,
    "candidates": [
        {"name": "tfidf", "family": "tfidf"},
        {"name": "tfidf-heuristics", "family": "tfidf", "params": {"use_signals": True}},
    ],
}


def airflow_process_env(state: Path, port: int) -> dict[str, str]:
    """The environment ``make airflow-ui`` or ``make platform`` gives the ``mindlens`` command:
    no Airflow settings of the test session, no venv on ``PATH``; a private port, state folder
    and log-server ports, and no API to reload (``reload_api`` finds nothing listening)."""
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


def stop_group(process: subprocess.Popen, signum: int = signal.SIGTERM, timeout_s: float = 15) -> None:
    """Signal the process group ``process`` leads, KILL what is left after ``timeout_s``."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(2)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# The task-instance tables show which worker ran each instance (Hostname) instead of
# columns that say little here.
COLUMNS_KEY = "dataTable:common:taskInstance:columnVisibility"
COLUMNS = {
    "hostname": True,
    "start_date": False,
    "end_date": False,
    "try_number": False,
    "operator_name": False,
    "pool": False,
    "queue": False,
    "executor": False,
    "dag_version": False,
}


def _panels(share: int) -> str:
    """A react-resizable-panels layout: the DAG view's main panel gets ``share`` percent."""
    return json.dumps({"details-panel,main-panel": {"expandToSizes": {}, "layout": [share, 100 - share]}})


def airflow_screenshots(base_url: str, dag_id: str, run_id: str, out_dir: Path) -> dict[str, Path]:
    """``airflow-pipeline-graph.png`` (the run's graph with the mapped ``train`` task selected:
    its instances and the worker that ran each beside it) and ``airflow-grid.png`` (the grid
    of runs and the run's task instances with their workers) of Airflow 3's React UI, in Debian's Chromium driven by Playwright. Local
    development auth (everyone is admin): no login page. Returns the files."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    shots = {
        "graph": (
            out_dir / "airflow-pipeline-graph.png",
            f"/dags/{dag_id}/runs/{run_id}/tasks/train/mapped",
            "graph",
            "td:has-text('worker-')",
        ),
        "grid": (
            out_dir / "airflow-grid.png",
            f"/dags/{dag_id}/runs/{run_id}",
            "grid",
            "td:has-text('worker-')",
        ),
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            for path, url, view, ready in shots.values():
                context = browser.new_context(viewport={"width": 1500, "height": 760})
                context.add_init_script(  # the view and panel sizes the UI keeps in localStorage
                    f"localStorage.setItem('default_dag_view', {json.dumps(json.dumps(view))});"
                    f"localStorage.setItem('react-resizable-panels:graph-ltr', {json.dumps(_panels(60))});"
                    f"localStorage.setItem('react-resizable-panels:grid-ltr', {json.dumps(_panels(22))});"
                    f"localStorage.setItem('{COLUMNS_KEY}', {json.dumps(json.dumps(COLUMNS))});"
                )
                page = context.new_page()
                page.goto(base_url + url)
                page.wait_for_selector(ready, timeout=60_000)
                page.wait_for_timeout(2_000)  # the graph's fit-to-view animation
                page.screenshot(path=str(path))
                context.close()
        finally:
            browser.close()
    return {name: shot[0] for name, shot in shots.items()}
