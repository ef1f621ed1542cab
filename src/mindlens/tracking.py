"""MLflow set-up shared by training, registry and serving (tracking and registry URIs,
experiment with an artifact location under the state folder, not the working directory)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from mindlens.config import Settings

# MLflow otherwise probes the network and warns about git; keep it quiet and offline.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")


class RunData(Protocol):
    """What :func:`log_run_context` reads of a processed dataset: a
    ``mindlens.data.dataset.Manifest``, which lives in a layer above this module."""

    content_hash: str
    rows: dict[str, dict[str, int]]

    def to_json(self) -> str: ...


@contextmanager
def _store_lock(tracking_uri: str) -> Iterator[None]:
    """Hold an exclusive file lock beside a SQLite store (no-op for other stores).

    MLflow creates and migrates a SQLite store's tables the first time a process opens it;
    two processes doing that at once (the pipeline's mapped ``train`` tasks under a real
    scheduler) fail with ``duplicate column name``. The lock makes them take turns."""
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow at the configured store; return the experiment id.

    The first use of a store creates its tables (tracking and registry) and the experiment,
    under a file lock for SQLite, so concurrent processes never race on that."""
    import mlflow

    tracking_uri = settings.mlflow.tracking_uri
    if tracking_uri is None:  # Settings derives it from the state folder when not given
        raise RuntimeError("settings.mlflow.tracking_uri is not set")
    settings.ensure_dirs()
    with _store_lock(tracking_uri):  # the client opens (creates, migrates) the store
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        client = mlflow.MlflowClient()
        experiment = client.get_experiment_by_name(settings.mlflow.experiment)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            client.search_registered_models(max_results=1)  # the registry's tables, too
            root = Path(settings.mlflow.artifact_root or settings.paths.mlflow_artifacts)
            root.mkdir(parents=True, exist_ok=True)
            experiment_id = client.create_experiment(
                settings.mlflow.experiment, artifact_location=root.resolve().as_uri()
            )
        mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def init_tracking_store(settings: Settings) -> str:
    """Create the MLflow store (tables, experiment) now, before work fans out to parallel
    processes (``mindlens airflow``, the pipeline DAG's first task); the experiment id."""
    return configure_mlflow(settings)


def mlflow_client(settings: Settings) -> Any:
    """An ``MlflowClient`` on the configured tracking and registry store: the one way the
    project gets a client (configures MLflow first)."""
    import mlflow

    configure_mlflow(settings)
    return mlflow.MlflowClient()


def git_commit(root: Path | None = None) -> str | None:
    """The checkout's commit (with ``-dirty`` when it has uncommitted changes), if any."""
    import subprocess

    from mindlens.config import PROJECT_ROOT

    cwd = root or PROJECT_ROOT
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def flatten(data: dict, prefix: str = "") -> dict[str, object]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (MLflow params are flat)."""
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def log_run_context(settings: Settings, manifest: RunData) -> None:
    """What makes a run reproducible: resolved config, git commit, data hash and counts."""
    import mlflow

    config = flatten(settings.model_dump(mode="json"), "config.")
    config = {k: v for k, v in config.items() if "token" not in k and "password" not in k}
    mlflow.log_params({k: str(v)[:500] for k, v in config.items()})
    commit = git_commit()
    if commit:
        mlflow.set_tag("mlflow.source.git.commit", commit)
    mlflow.set_tag("data_content_hash", manifest.content_hash)
    mlflow.log_param("data_content_hash", manifest.content_hash)
    mlflow.log_metrics(
        {
            f"data_rows.{table}.{key.replace('/', '.')}": n
            for table, counts in manifest.rows.items()
            for key, n in counts.items()
        }
    )
    mlflow.log_text(manifest.to_json(), "data/manifest.json")
