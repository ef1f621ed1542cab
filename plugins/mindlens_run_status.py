"""Airflow listener: every finished run of a ``mindlens_*`` DAG is written to
``<state_dir>/monitoring/dag_runs.json``, which the API exports to Prometheus
(``mindlens_pipeline_last_run_failed``, ``..._last_success_timestamp_seconds``)."""

from __future__ import annotations

import logging
import sys
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)


def _record(dag_run: Any, state: str) -> None:
    if not str(dag_run.dag_id).startswith("mindlens_"):
        return
    try:
        from mindlens.config import get_settings
        from mindlens.monitoring.pipeline_status import record_run

        end = dag_run.end_date.timestamp() if getattr(dag_run, "end_date", None) else None
        record_run(get_settings().paths.pipeline_status, dag_run.dag_id, state, dag_run.run_id, end)
    except Exception:
        log.exception("could not record the state of %s", dag_run.dag_id)


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _record(dag_run, "success")


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _record(dag_run, "failed")


class MindlensRunStatusPlugin(AirflowPlugin):
    name = "mindlens_run_status"
    listeners = [sys.modules[__name__]]
