"""Every DAG imports cleanly, without work at import time, and has the expected shape."""

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_pipeline_dag_shape(dagbag):
    dag = dagbag.dags.get("mindlens_pipeline")
    assert dag is not None
    assert {t.task_id for t in dag.tasks} == {
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
    assert dag.get_task("evaluate").upstream_task_ids == {"train"}
    assert dag.get_task("select").upstream_task_ids == {"evaluate"}
    assert dag.get_task("register").upstream_task_ids == {"select"}
    assert dag.get_task("reload_api").upstream_task_ids == {"register"}
    assert dag.schedule is None or dag.timetable is not None


def test_dags_do_no_heavy_imports_at_parse_time():
    import subprocess
    import sys

    code = (
        f"import sys, runpy; runpy.run_path({str(DAGS / 'mindlens_pipeline.py')!r}); "
        "heavy = [m for m in ('mlflow', 'sklearn', 'papermill', 'mindlens.training') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
