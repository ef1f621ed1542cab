"""The last run of each MindLens DAG, kept in a small JSON file in the state folder.

An Airflow listener (``plugins/mindlens_run_status.py``) records every finished DAG run; the
service exports the file as ``mindlens_pipeline_*`` gauges at scrape time, so "pipeline
failed" and "pipeline late" alerts need no Airflow StatsD/exporter beside Prometheus.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from mindlens.config import Settings


def status_path(settings: Settings) -> Path:
    return settings.paths.pipeline_status


def read_status(path: Path) -> dict[str, dict[str, Any]]:
    """``{dag_id: {"state", "end", "run_id", "last_success"}}``; empty if never written."""
    try:
        data = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def record_run(
    path: Path, dag_id: str, state: str, run_id: str | None = None, end: float | None = None
) -> dict[str, Any]:
    """Record a finished run (``success`` or ``failed``); concurrent writers are serialised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    end = time.time() if end is None else end
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = read_status(path)
        previous = runs.get(dag_id, {})
        entry = {
            "state": state,
            "end": end,
            "run_id": run_id,
            "last_success": end if state == "success" else previous.get("last_success"),
        }
        runs[dag_id] = entry
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(runs, indent=2, sort_keys=True))
        os.replace(tmp, path)
    return entry
