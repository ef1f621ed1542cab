"""MLflow set-up shared by training, registry and serving (tracking and registry URIs,
experiment with an artifact location under the state folder, not the working directory)."""

from __future__ import annotations

import os
from pathlib import Path

from mindlens.config import Settings

# MLflow otherwise probes the network and warns about git; keep it quiet and offline.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow at the configured store; return the experiment id."""
    import mlflow

    settings.ensure_dirs()
    mlflow.set_tracking_uri(settings.mlflow.tracking_uri)
    mlflow.set_registry_uri(settings.mlflow.tracking_uri)
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(settings.mlflow.experiment)
    if experiment is not None:
        experiment_id = experiment.experiment_id
    else:
        root = Path(settings.mlflow.artifact_root or settings.state_dir / "mlartifacts")
        root.mkdir(parents=True, exist_ok=True)
        experiment_id = client.create_experiment(settings.mlflow.experiment,
                                                  artifact_location=root.resolve().as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
