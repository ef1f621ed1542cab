"""Every DAG imports cleanly, without work at import time, and has the expected shape."""


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_pipeline_dag_shape(dagbag):
    dag = dagbag.dags.get("mindlens_pipeline")
    assert dag is not None
    assert {t.task_id for t in dag.tasks} == {
        "init_stores",
        "fetch_data",
        "prepare_data",
        "validate_data",
        "profile_data",
        "candidates",
        "train",
        "evaluate",
        "select",
        "register",
        "reload_api",
    }
    assert dag.get_task("train").upstream_task_ids == {"validate_data", "candidates"}
    assert dag.get_task("profile_data").upstream_task_ids == {"validate_data"}
    assert dag.get_task("validate_data").upstream_task_ids == {"prepare_data"}
    assert dag.get_task("prepare_data").upstream_task_ids == {"fetch_data"}
    assert dag.get_task("fetch_data").upstream_task_ids == {"init_stores"}  # before any fan-out
    assert dag.get_task("evaluate").upstream_task_ids == {"train"}
    assert dag.get_task("select").upstream_task_ids == {"evaluate"}
    assert dag.get_task("register").upstream_task_ids == {"select"}
    assert dag.get_task("reload_api").upstream_task_ids == {"register"}
    assert dag.schedule is None or dag.timetable is not None


def test_dags_do_no_heavy_imports_at_parse_time(heavy_imports):
    assert heavy_imports("mindlens_pipeline", ("mlflow", "sklearn", "papermill", "mindlens.training")) == []
