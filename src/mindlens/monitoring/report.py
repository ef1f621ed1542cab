"""The drift report over the prediction log: what the monitoring DAG's notebook computes and
``mindlens monitoring drift`` prints. Retraining is due when enough predictions of the
champion drifted past ``monitoring.drift_psi_alert`` on any feature."""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

from mindlens.config import Settings
from mindlens.monitoring.drift import CATEGORIES, FEATURES, Observation, Reference, counts, shares

log = logging.getLogger(__name__)


def predictions_path(settings: Settings) -> Path:
    """Where the API writes its prediction log (serving.prediction_log)."""
    return settings.paths.predictions_log


def _log_files(path: Path) -> list[Path]:
    """The log's rotated files (``.N`` oldest first, as the rotating handler names them), then it."""
    rotated = []
    for candidate in path.parent.glob(path.name + ".*"):
        suffix = candidate.name[len(path.name) + 1 :]
        if suffix.isdigit():
            rotated.append((int(suffix), candidate))
    files = [p for _, p in sorted(rotated, reverse=True)]
    return files + ([path] if path.is_file() else [])


def read_predictions(path: Path, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` parseable lines of a prediction log and its rotated files (empty if
    there is none)."""
    files = _log_files(Path(path))
    if not files:
        return []
    lines: deque[str] = deque(maxlen=limit)
    for file in files:
        with open(file, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    lines.append(line)
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("skipping a malformed prediction-log line")
    return entries


def champion_reference(settings: Settings) -> tuple[Reference, dict[str, Any]]:
    """The champion's drift reference (shipped in its bundle, else computed and cached)."""
    from mindlens.models.analyzer import Analyzer
    from mindlens.monitoring.reference import computed_reference, read_bundle_reference
    from mindlens.registry.registry import download_champion

    with tempfile.TemporaryDirectory() as tmp:
        info, folder = download_champion(settings, Path(tmp))
        reference = read_bundle_reference(folder)
        if reference is None:
            reference = computed_reference(settings, Analyzer.load(folder), info.name, info.version)
    return reference, {"name": info.name, "version": info.version, "run_id": info.run_id}


def drift_report(
    settings: Settings, reference: Reference, entries: list[dict[str, Any]], model_version: str | None = None
) -> dict[str, Any]:
    """PSI per feature of the champion's logged predictions against its reference, the shares
    behind it (for plots) and whether retraining is due."""
    if model_version is not None:
        entries = [e for e in entries if str((e.get("model") or {}).get("version")) == str(model_version)]
    observations = [Observation.from_log_entry(e) for e in entries if "text_chars" in e]
    threshold = settings.monitoring.drift_psi_alert
    psi = reference.psi(observations) if observations else {f: math.nan for f in FEATURES}
    recent = counts(observations)
    drifted = sorted(f for f, v in psi.items() if not math.isnan(v) and v > threshold)
    enough = len(observations) >= settings.monitoring.retrain_min_predictions
    return {
        "predictions": len(observations),
        "model_version": model_version,
        "psi": {f: (None if math.isnan(v) else round(v, 4)) for f, v in psi.items()},
        "threshold": threshold,
        "drifted": drifted,
        "retrain_due": bool(drifted) and enough,
        "reason": ("drift on " + ", ".join(drifted) if drifted else "no drift")
        + (
            ""
            if enough
            else f" (only {len(observations)} predictions; "
            f"advice needs {settings.monitoring.retrain_min_predictions})"
        ),
        "shares": {
            f: {
                "reference": shares(reference.counts.get(f, {}), CATEGORIES[f]),
                "recent": shares(recent[f], CATEGORIES[f]),
            }
            for f in FEATURES
        },
    }


def run_drift_report(
    predictions: str | None = None, reference: str | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """Execute ``notebooks/drift_report.ipynb`` (logged to MLflow with its HTML) and return its
    verdict; the MLflow run id goes to the task log."""
    from mindlens.config import get_settings
    from mindlens.notebooks import run_notebook

    settings = settings or get_settings()
    run = run_notebook(
        settings, "drift_report", {"predictions_path": predictions, "reference_path": reference}
    )
    log.info(
        "MLflow run_id=%s drift report=%s retrain_due=%s (%s)",
        run.result.get("run_id"),
        run.html,
        run.result.get("retrain_due"),
        run.result.get("reason"),
    )
    return run.result | {
        "report": str(run.html),
        "retrain_dag_id": settings.monitoring.retrain_dag_id,
        "trigger_retrain": settings.monitoring.trigger_retrain,
    }
