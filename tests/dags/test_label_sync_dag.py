"""The label-sync DAG: parses cleanly, has the expected shape (curated relabels trigger the
pipeline, reviewed feedback triggers the retrain), and skips cleanly (success) when Label
Studio is not configured."""

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
TASKS = {
    "pull_annotations",
    "validate_labels",
    "count_new_labels",
    "enough_new_labels",
    "trigger_pipeline",
    "mark_trained",
    "push_feedback",
    "pull_feedback",
    "count_new_feedback",
    "enough_new_feedback",
    "trigger_retrain",
    "mark_retrain_triggered",
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils import db

    db.resetdb()


def test_dag_imports_with_expected_tasks(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags.get("mindlens_label_sync")
    assert dag is not None
    assert {t.task_id for t in dag.tasks} == TASKS
    assert dag.get_task("trigger_pipeline").trigger_dag_id == "mindlens_pipeline"
    assert dag.get_task("trigger_pipeline").upstream_task_ids == {"enough_new_labels"}
    assert dag.get_task("mark_trained").upstream_task_ids == {"trigger_pipeline"}
    assert dag.get_task("trigger_retrain").trigger_dag_id == "mindlens_retrain"
    assert dag.get_task("trigger_retrain").conf == {"reason": "label_sync"}
    assert dag.get_task("trigger_retrain").upstream_task_ids == {"enough_new_feedback"}
    assert dag.get_task("pull_feedback").upstream_task_ids == {"push_feedback"}
    assert dag.get_task("mark_retrain_triggered").upstream_task_ids == {"trigger_retrain"}
    assert dag.params["min_new_labels"] == 50
    assert dag.catchup is False


def test_no_heavy_imports_at_parse_time():
    import subprocess
    import sys

    path = str(DAGS / "mindlens_label_sync.py")
    code = (
        f"import sys, runpy; runpy.run_path({path!r}); "
        "heavy = [m for m in ('mlflow', 'sklearn', 'label_studio_sdk', 'mindlens.labelling') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_not_configured_run_succeeds_and_skips(airflow_db, dagbag, tmp_path, monkeypatch):
    monkeypatch.delenv("MINDLENS_LABEL_STUDIO_TOKEN", raising=False)
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    from mindlens.config import reset_settings_cache

    reset_settings_cache()
    run = dagbag.dags["mindlens_label_sync"].test()
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["pull_annotations"] == "success"
    assert states["enough_new_labels"] == "success"
    assert states["trigger_pipeline"] == "skipped" and states["mark_trained"] == "skipped"
    assert states["push_feedback"] == "success" and states["enough_new_feedback"] == "success"
    assert states["trigger_retrain"] == "skipped" and states["mark_retrain_triggered"] == "skipped"
    assert not (tmp_path / "labels").exists()  # nothing pulled, no state written
