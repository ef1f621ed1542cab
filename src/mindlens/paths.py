"""Every file and folder under the state folder, named once.

``settings.paths`` (or ``Paths.from_settings(settings)``) is the only place that joins a
name onto ``state_dir``; modules ask it for ``paths.predictions_log`` rather than building
``state_dir / "predictions" / ...`` themselves. Moving the state folder
(``MINDLENS_STATE_DIR``) moves every location below with it. The README's state-folder
table lists the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The layout inside a labels folder: ``Paths.labels``, or any folder handed to the sync
# tools (``mindlens labels pull --out``, tests).
LABELS_CURATED = "curated"  # relabelled curated examples (the label_studio data source)
LABELS_FEEDBACK = "feedback"  # reviewed user feedback (the feedback data source)
SYNC_STATE = "sync_state.json"  # which labels were already handed to a training run


@dataclass(frozen=True)
class Paths:
    """Named locations under ``state_dir`` (absolute when ``state_dir`` is)."""

    state_dir: Path

    @classmethod
    def from_settings(cls, settings: Any) -> Paths:
        return cls(Path(settings.state_dir))

    # --- MLflow and Airflow ----------------------------------------------------------

    @property
    def mlflow_db(self) -> Path:
        """SQLite tracking and registry store (default ``mlflow.tracking_uri``)."""
        return self.state_dir / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        """Run artifacts (default ``mlflow.artifact_root``)."""
        return self.state_dir / "mlartifacts"

    @property
    def airflow_home(self) -> Path:
        """``AIRFLOW_HOME`` of the local Airflow (SQLite metadata, logs)."""
        return self.state_dir / "airflow"

    @property
    def pipeline_marker(self) -> Path:
        """Written by ``mindlens pipeline`` after a successful run (``--once`` skips then)."""
        return self.state_dir / "pipeline.succeeded"

    # --- data and reports ------------------------------------------------------------

    @property
    def processed_data(self) -> Path:
        """The processed dataset: Parquet tables and ``manifest.json``."""
        return self.state_dir / "data"

    @property
    def reports(self) -> Path:
        """Executed notebooks (``.ipynb`` + ``.html``), one folder per notebook."""
        return self.state_dir / "reports"

    # --- serving ---------------------------------------------------------------------

    @property
    def serving(self) -> Path:
        """Scratch space of the API (the champion's bundle while it loads)."""
        return self.state_dir / "serving"

    @property
    def predictions(self) -> Path:
        return self.state_dir / "predictions"

    @property
    def predictions_log(self) -> Path:
        """The API's prediction log, one JSON line per analysed text (``serving.prediction_log``)."""
        return self.predictions / "predictions.jsonl"

    @property
    def feedback_db(self) -> Path:
        """SQLite feedback store (default ``feedback.database_url``)."""
        return self.state_dir / "feedback.db"

    # --- monitoring ------------------------------------------------------------------

    @property
    def monitoring(self) -> Path:
        return self.state_dir / "monitoring"

    @property
    def pipeline_status(self) -> Path:
        """The last run of each ``mindlens_*`` DAG (written by the Airflow listener)."""
        return self.monitoring / "dag_runs.json"

    @property
    def drift_references(self) -> Path:
        """Drift references computed for registered versions without one in their bundle."""
        return self.monitoring / "references"

    # --- labelling -------------------------------------------------------------------

    @property
    def labels(self) -> Path:
        """Reviewed labels exported from Label Studio (curated JSONL format)."""
        return self.state_dir / "labels"

    @property
    def labels_curated(self) -> Path:
        return self.labels / LABELS_CURATED

    @property
    def labels_feedback(self) -> Path:
        return self.labels / LABELS_FEEDBACK

    @property
    def label_sync_state(self) -> Path:
        return self.labels / SYNC_STATE

    @property
    def label_studio_data(self) -> Path:
        """Data folder of a local Label Studio (``label_studio/README.md``)."""
        return self.state_dir / "label-studio"

    # ---------------------------------------------------------------------------------

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The name of every location (the properties above)."""
        return tuple(name for name, value in vars(cls).items() if isinstance(value, property))

    def locations(self) -> dict[str, Path]:
        """Every named location."""
        return {name: getattr(self, name) for name in self.names()}

    def ensure(self) -> None:
        """Create the folders every process expects (state, processed data, reports)."""
        for path in (self.state_dir, self.processed_data, self.reports):
            path.mkdir(parents=True, exist_ok=True)
