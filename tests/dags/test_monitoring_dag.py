"""The monitoring DAG: parses without heavy imports, has the expected shape, and a run over
a drifted prediction log reports drift to MLflow (notebook + HTML), advises retraining but
does not trigger it while ``monitoring.trigger_retrain`` is off; the Airflow listener
records the run for the pipeline-status metrics."""

from __future__ import annotations

import json
from pathlib import Path

TASKS = {"drift_report", "retrain_due", "trigger_retrain"}


def test_dag_imports_with_expected_shape(dagbag):
    assert not {k: v for k, v in dagbag.import_errors.items() if "mindlens_monitoring" in k}
    dag = dagbag.dags.get("mindlens_monitoring")
    assert dag is not None
    assert {t.task_id for t in dag.tasks} == TASKS
    assert dag.get_task("retrain_due").upstream_task_ids == {"drift_report"}
    assert dag.get_task("trigger_retrain").upstream_task_ids == {"retrain_due"}
    assert dag.catchup is False and dag.max_active_runs == 1


def test_no_heavy_imports_at_parse_time(heavy_imports):
    modules = ("mlflow", "sklearn", "papermill", "mindlens.monitoring")
    assert heavy_imports("mindlens_monitoring", modules) == []


def _write_inputs(folder: Path) -> tuple[Path, Path]:
    from mindlens.monitoring.drift import Observation, Reference

    reference = Reference.from_observations(
        [Observation(("loaded_language", "doubt"), 3000)] * 40 + [Observation((), 80)] * 10, source="test"
    )
    ref_path = reference.save(folder / "drift_reference.json")
    log = folder / "predictions.jsonl"
    with open(log, "w") as handle:
        for i in range(120):  # short texts, only slogans: both features drift
            handle.write(
                json.dumps(
                    {
                        "ts": "2026-11-26T10:00:00+0000",
                        "request_id": f"r{i}",
                        "endpoint": "/analyze",
                        "model": {"name": "m", "version": "7"},
                        "text_sha256": "0" * 64,
                        "text_chars": 40 + i % 20,
                        "spans": [{"start": 0, "end": 5, "technique": "slogans", "confidence": 0.9}],
                    }
                )
                + "\n"
            )
    return log, ref_path


def test_drift_run_reports_to_mlflow_and_does_not_trigger_by_default(
    airflow_db, dagbag, task_states, tmp_path
):
    import mlflow

    from mindlens.config import get_settings
    from mindlens.monitoring.pipeline_status import read_status, status_path

    log, ref_path = _write_inputs(tmp_path)
    run = dagbag.dags["mindlens_monitoring"].test(
        run_conf={"predictions_path": str(log), "reference_path": str(ref_path)}
    )
    assert run.state == "success"
    assert task_states(run) == {
        "drift_report": "success",
        "retrain_due": "success",
        "trigger_retrain": "skipped",
    }

    settings = get_settings()
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri)
    experiment = client.get_experiment_by_name(settings.mlflow.experiment)
    [latest] = client.search_runs(
        [experiment.experiment_id],
        "tags.notebook = 'drift_report'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    metrics = latest.data.metrics
    assert metrics["predictions"] == 120 and metrics["retrain_due"] == 1
    assert metrics["psi_techniques"] > settings.monitoring.drift_psi_alert
    assert metrics["psi_input_length"] > settings.monitoring.drift_psi_alert
    artifacts = {
        a.path for folder in ("reports", "drift") for a in client.list_artifacts(latest.info.run_id, folder)
    }
    assert {"drift/report.json", "drift/distributions.png"} <= artifacts
    assert any(a.endswith(".html") for a in artifacts) and any(a.endswith(".ipynb") for a in artifacts)
    [html] = [a for a in artifacts if a.endswith(".html")]
    page = Path(client.download_artifacts(latest.info.run_id, html, str(tmp_path))).read_text("utf-8")
    assert "<th>Report</th><td>drift_report</td>" in page  # the header, the contents, no code
    assert f"<th>MLflow run</th><td>{latest.info.run_id}</td>" in page
    assert '<a href="#Verdict">Verdict</a>' in page and "read_predictions(" not in page

    recorded = read_status(status_path(settings))["mindlens_monitoring"]  # the Airflow listener
    assert recorded["state"] == "success" and recorded["run_id"] == run.run_id
