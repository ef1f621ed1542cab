"""One paths object: every location under the state folder is named in ``mindlens.paths``,
moves with ``MINDLENS_STATE_DIR``, and is what the modules that read or write it use."""

from __future__ import annotations

from pathlib import Path

from mindlens.config import Settings, get_settings
from mindlens.paths import Paths

# The layout the README's state-folder table documents (relative to the state folder).
LAYOUT = {
    "mlflow_db": "mlflow.db",
    "mlflow_artifacts": "mlartifacts",
    "airflow_home": "airflow",
    "platform": "platform",
    "pipeline_marker": "pipeline.succeeded",
    "first_pipeline_status": "first_pipeline.json",
    "first_pipeline_log": "logs/first_pipeline.log",
    "processed_data": "data",
    "reports": "reports",
    "serving": "serving",
    "predictions": "predictions",
    "predictions_log": "predictions/predictions.jsonl",
    "admin_token": "admin_token",
    "feedback_db": "feedback.db",
    "monitoring": "monitoring",
    "pipeline_status": "monitoring/dag_runs.json",
    "drift_references": "monitoring/references",
    "labels": "labels",
    "labels_curated": "labels/curated",
    "labels_feedback": "labels/feedback",
    "label_sync_state": "labels/sync_state.json",
    "label_studio_data": "label-studio",
}


def test_every_location_is_under_the_state_folder_and_named_once(tmp_path):
    paths = Settings(state_dir=tmp_path).paths
    locations = paths.locations()
    assert set(locations) == set(LAYOUT)  # a new location gets a row here (and in the README)
    for name, path in locations.items():
        assert path.relative_to(tmp_path).as_posix() == LAYOUT[name], name
    assert len(set(locations.values())) == len(locations)


def test_the_state_folder_from_the_environment_moves_every_location(monkeypatch, tmp_path):
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path / "elsewhere"))
    settings = get_settings()
    assert settings.paths == Paths(tmp_path / "elsewhere")
    for path in settings.paths.locations().values():
        assert path.is_relative_to(tmp_path / "elsewhere")


def test_settings_defaults_derive_from_the_paths(tmp_path):
    settings = Settings(state_dir=tmp_path)
    paths = settings.paths
    assert settings.mlflow.tracking_uri == f"sqlite:///{paths.mlflow_db}"
    assert settings.mlflow.artifact_root == str(paths.mlflow_artifacts)
    assert settings.feedback.database_url == f"sqlite:///{paths.feedback_db}"
    assert settings.processed_dir == paths.processed_data
    assert settings.reports_dir == paths.reports
    assert settings.airflow_home == paths.airflow_home
    settings.ensure_dirs()
    assert paths.processed_data.is_dir() and paths.reports.is_dir()


def test_modules_use_the_paths(monkeypatch, tmp_path):
    from mindlens.airflow_local import airflow_env
    from mindlens.data.sources import feedback, label_studio
    from mindlens.monitoring.pipeline_status import status_path
    from mindlens.monitoring.reference import cached_reference_path
    from mindlens.monitoring.report import predictions_path

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    settings = get_settings()
    paths = settings.paths
    assert status_path(settings) == paths.pipeline_status
    assert predictions_path(settings) == paths.predictions_log
    assert cached_reference_path(settings, "m", "3").parent == paths.drift_references
    assert label_studio.default_labels_dir() == paths.labels
    assert feedback.default_folder() == paths.labels_feedback
    assert Path(airflow_env(settings)["AIRFLOW_HOME"]) == paths.airflow_home
    assert (label_studio.FOLDER, feedback.FOLDER) == ("labels", "labels/feedback")
