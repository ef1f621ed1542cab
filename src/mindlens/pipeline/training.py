"""Training stages: which candidates to train, and one candidate through its notebook.

Shared by the pipeline (``train.candidates``) and the retrain job (``retrain.candidates``);
the DAGs map ``train_candidate`` over the list, one task per candidate.
"""

from __future__ import annotations

import logging
from typing import Any

from mindlens import families
from mindlens.config import Settings, get_settings

log = logging.getLogger(__name__)


def candidates(
    conf: list[dict[str, Any]] | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The candidates to train: the run's conf if given, else the config's (validated)."""
    from mindlens.config import Candidate

    settings = settings or get_settings()
    chosen = [Candidate(**c) for c in conf] if conf else settings.train.candidates
    names = [c.name for c in chosen]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be unique: {names}")
    return [c.model_dump() for c in chosen]


def retrain_candidates(
    conf: list[dict[str, Any]] | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The candidates to retrain: the run's conf if given, else ``retrain.candidates``."""
    settings = settings or get_settings()
    chosen = conf or [c.model_dump() for c in settings.retrain.candidates]
    return candidates(chosen, settings)


def train_candidate(
    candidate: dict[str, Any], manifest_path: str, settings: Settings | None = None
) -> dict[str, Any]:
    """Train one candidate through its family's notebook (the report is logged to its run)."""
    from mindlens.notebooks import run_notebook

    settings = settings or get_settings()
    name = candidate["name"]
    try:
        family = families.family(candidate["family"])
    except ValueError as err:
        raise ValueError(f"candidate {name}: {err}") from None
    parameters = {"manifest_path": manifest_path, "run_name": name}
    parameters |= family.notebook_parameters(candidate.get("params", {}))
    run = run_notebook(settings, family.notebook, parameters)
    if not run.result.get("run_id"):
        raise RuntimeError(f"candidate {name}: the notebook reported no MLflow run ({run.notebook})")
    log.info("candidate %s: MLflow run_id=%s report=%s", name, run.result["run_id"], run.html)
    return run.result | {
        "candidate": name,
        "report_notebook": str(run.notebook),
        "report_html": str(run.html),
    }
