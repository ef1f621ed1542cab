"""Registration stages: a selected candidate becomes a new registry version, through the
registry's one ``register_version`` (standard tags).

The pipeline's ``register`` gives it the champion alias only if it beats the champion
(``register_if_better``); the retrain job's ``register_challenger`` registers it as
``challenger`` and leaves the champion to the gate (``pipeline.gate.decide``,
``pipeline.deploy.promote_if_passed``).
"""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import Settings, get_settings
from mindlens.tracking import mlflow_client

log = logging.getLogger(__name__)


def register(run_id: str, model_uri: str, settings: Settings | None = None) -> dict[str, Any]:
    """New registry version; champion alias if it beats the current champion."""
    from mindlens.registry import register_if_better

    result = register_if_better(settings or get_settings(), run_id, model_uri)
    log.info(
        "MLflow run_id=%s registered as v%s promoted=%s (%s)",
        run_id,
        result.version,
        result.promoted,
        result.reason,
    )
    return result.as_dict()


def register_challenger(evaluation: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Register the candidate as a new version (next semantic version, changelog line)
    under the ``challenger`` alias; the champion is untouched until the gate says so."""
    from mindlens.registry import CHALLENGER, register_version, selection_metric

    settings = settings or get_settings()
    metric = settings.train.selection_metric
    value = selection_metric(settings, evaluation["candidate_run_id"])
    feedback = evaluation["metrics"]["candidate"].get("feedback_documents", 0)
    changelog = (
        f"{evaluation['candidate']} retrained ({evaluation['reason']}) with "
        f"{feedback:.0f} reviewed feedback text(s)" + (f"; {metric} {value:.4f}" if value is not None else "")
    )
    registered = register_version(
        settings,
        evaluation["model_uri"],
        run_id=evaluation["candidate_run_id"],
        changelog=changelog,
        tags={"retrain_run_id": evaluation["run_id"]},
        alias=CHALLENGER,
    )
    client = mlflow_client(settings)
    client.set_tag(evaluation["run_id"], "registered_version", registered.version)
    client.set_tag(evaluation["run_id"], "registered_semver", registered.semver)
    log.info(
        "registered %s v%s (%s) as %s: %s",
        registered.name,
        registered.version,
        registered.semver,
        CHALLENGER,
        changelog,
    )
    return {
        "name": registered.name,
        "version": registered.version,
        "semver": registered.semver,
        "alias": CHALLENGER,
        "changelog": changelog,
    }
