"""The label-sync DAG: parses cleanly, has the expected shape (curated relabels trigger the
pipeline, reviewed feedback triggers the retrain), and skips cleanly (success) when Label
Studio is not configured."""

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


def test_no_heavy_imports_at_parse_time(heavy_imports):
    modules = ("mlflow", "sklearn", "label_studio_sdk", "mindlens.labelling")
    assert heavy_imports("mindlens_label_sync", modules) == []


def test_not_configured_run_succeeds_and_skips(airflow_db, dagbag, task_states, tmp_path, monkeypatch):
    monkeypatch.delenv("MINDLENS_LABEL_STUDIO_TOKEN", raising=False)
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    from mindlens.config import reset_settings_cache

    reset_settings_cache()
    run = dagbag.dags["mindlens_label_sync"].test()
    assert run.state == "success"
    states = task_states(run)
    assert states["pull_annotations"] == "success"
    assert states["enough_new_labels"] == "success"
    assert states["trigger_pipeline"] == "skipped" and states["mark_trained"] == "skipped"
    assert states["push_feedback"] == "success" and states["enough_new_feedback"] == "success"
    assert states["trigger_retrain"] == "skipped" and states["mark_retrain_triggered"] == "skipped"
    assert not (tmp_path / "labels").exists()  # nothing pulled, no state written
