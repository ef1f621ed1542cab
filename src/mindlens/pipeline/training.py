"""Training stages: which candidates to train, and one candidate through its notebook.

Shared by the pipeline (``train.candidates``) and the retrain job (``retrain.candidates``);
the DAGs map ``train_candidate`` over the list, one task per candidate. After its notebook,
a candidate gets the protocol's figures on its MLflow run (``protocol_metrics``): grouped
k-fold CV for the fast families, the grouped held-out part for any family trained on a
``mindlens protocol holdout`` dataset. Selection reads them (docs/VALIDATION.md).
"""

from __future__ import annotations

import logging
import time
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
    result = run.result | {
        "candidate": name,
        "family": family.name,
        "report_notebook": str(run.notebook),
        "report_html": str(run.html),
    }
    protocol = protocol_metrics(candidate, result, manifest_path, settings)
    return result | {"metrics": dict(result.get("metrics") or {}) | protocol}


def protocol_metrics(
    candidate: dict[str, Any], trained: dict[str, Any], manifest_path: str, settings: Settings
) -> dict[str, float]:
    """The protocol's figures for a trained candidate, logged to its run and returned.

    * a fast family (``protocol.FAMILIES``: tfidf) is cross-validated over the grouped
      folds with its own params: ``cv_<m>`` and ``cv_<m>_sd`` (``protocol.cv_candidates``);
    * any family trained on a ``mindlens protocol holdout`` dataset is scored once on its
      grouped held-out part (the labelled PTC ``test`` articles): ``holdout_<m>``;
    * otherwise a slow family gets nothing, and the log says why: selection by a ``cv_``
      metric then leaves it out.
    """
    from pathlib import Path

    from threadpoolctl import threadpool_limits

    from mindlens.data.dataset import Manifest
    from mindlens.tracking import mlflow_client
    from mindlens.validation import cross_validation, protocol

    name, family = candidate["name"], families.family(candidate["family"]).name
    manifest = Manifest.read(Path(manifest_path))
    metrics: dict[str, float] = {}
    with threadpool_limits(limits=settings.protocol.cv_threads):
        if family in protocol.FAMILIES and settings.protocol.cv_candidates:
            started = time.perf_counter()
            try:
                folds = _folds(manifest, settings)
                result = cross_validation.cross_validate(
                    family,
                    candidate.get("params", {}),
                    manifest,
                    settings,
                    folds=folds,
                    name=name,
                    progress=False,
                )
            except ValueError as err:  # e.g. a sample of a single story
                log.warning("candidate %s: no grouped cross-validation (%s)", name, err)
            else:
                metrics |= result.as_metrics() | {"cv_seconds": time.perf_counter() - started}
                log.info(
                    "candidate %s: grouped %d-fold CV in %.0f s",
                    name,
                    len(result.folds),
                    metrics["cv_seconds"],
                )
        elif family not in protocol.FAMILIES:
            log.info(
                "candidate %s: family %s is too slow for k-fold CV; it has no cv_ metrics and "
                "selection by a cv_ metric leaves it out (train it on `mindlens protocol holdout` data "
                "and select by a holdout_ metric)",
                name,
                family,
            )
        if protocol.holdout_articles(manifest):
            metrics |= _holdout_scores(trained["model_uri"], manifest, settings)
    if metrics:
        mlflow_client(settings).log_batch(
            trained["run_id"], metrics=[_metric(k, v) for k, v in metrics.items()]
        )
        shown = {k: round(v, 4) for k, v in metrics.items() if not k.endswith("_sd")}
        log.info("candidate %s: protocol metrics %s", name, shown)
    return metrics


def _folds(manifest: Any, settings: Settings) -> list[Any]:
    """The protocol's grouped folds; a sample with fewer story groups than ``protocol.k``
    (a quick run on a few documents) gets one fold per group instead."""
    from mindlens.validation import protocol

    groups = protocol.ptc_groups(manifest, settings)
    n_groups = len(set(groups.values()))
    if n_groups >= settings.protocol.k:
        return protocol.ptc_folds(manifest, settings, groups)
    log.warning("only %d story groups in this sample: %d-fold grouped CV", n_groups, n_groups)
    fewer = settings.protocol.model_copy(update={"k": max(n_groups, 2)})
    return protocol.ptc_folds(manifest, settings.model_copy(update={"protocol": fewer}), groups)


def _holdout_scores(model_uri: str, manifest: Any, settings: Settings) -> dict[str, float]:
    """PTC metrics of the trained model on the held-out part (``test``), as ``holdout_<m>``."""
    from mindlens.evaluation.evaluate import evaluate_analyzer
    from mindlens.registry import load_analyzer
    from mindlens.validation.protocol import CV_METRICS

    analyzer, _ = load_analyzer(settings, model_uri)
    scores = evaluate_analyzer(analyzer, manifest, settings, "test").metrics
    return {f"holdout_{m}": scores[f"test_{m}"] for m in CV_METRICS if f"test_{m}" in scores}


def _metric(key: str, value: float) -> Any:
    from mlflow.entities import Metric

    return Metric(key, float(value), int(time.time() * 1000), 0)
