"""Model monitoring: an hourly drift report over the API's prediction log, and retraining
when the champion's predictions drifted.

drift_report -> retrain_due -> trigger_retrain

``drift_report`` executes ``notebooks/drift_report.ipynb`` (PSI of predicted techniques and
input lengths against the champion's validation reference; the executed notebook and its
HTML are logged to MLflow, the run id is in the task log). ``retrain_due`` lets the trigger
run only when retraining is due (config ``monitoring``: threshold, minimum predictions) and
``monitoring.trigger_retrain`` is on; otherwise the DAG succeeds with the advice in its log.
"""

from __future__ import annotations

import logging
from datetime import datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task

log = logging.getLogger(__name__)


@dag(
    dag_id="mindlens_monitoring",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["mindlens", "monitoring"],
    params={
        "predictions_path": Param(
            None, type=["null", "string"], description="A prediction log (JSON lines); empty = the API's"
        ),
        "reference_path": Param(
            None, type=["null", "string"], description="A drift_reference.json; empty = the champion's"
        ),
    },
    doc_md=__doc__,
)
def mindlens_monitoring() -> None:
    @task
    def drift_report() -> dict:
        from mindlens.monitoring.report import run_drift_report

        params = get_current_context()["params"]
        return run_drift_report(params["predictions_path"], params["reference_path"])

    @task.short_circuit
    def retrain_due(report: dict) -> bool:
        if not report.get("retrain_due"):
            log.info("no retraining needed: %s", report.get("reason"))
            return False
        if not report["trigger_retrain"]:
            log.warning(
                "retraining is due (%s); monitoring.trigger_retrain is off, so %s is not triggered",
                report["reason"],
                report["retrain_dag_id"],
            )
            return False
        log.info("retraining is due (%s): triggering %s", report["reason"], report["retrain_dag_id"])
        return True

    report = drift_report()
    trigger = TriggerDagRunOperator(
        task_id="trigger_retrain",
        trigger_dag_id="{{ ti.xcom_pull(task_ids='drift_report')['retrain_dag_id'] }}",
        conf={"reason": "drift"},  # mindlens_retrain's param; the drift run id is in this DAG's log
        skip_when_already_exists=True,
    )
    retrain_due(report) >> trigger


mindlens_monitoring()
