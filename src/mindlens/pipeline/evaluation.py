"""Evaluation stages: the report notebooks of a candidate (pipeline), and the retrain job's
comparison of the selected candidate with the champion on the same fixed sets (the seeded
validation split of each source, the curated test part, and of it the unseen-story val
articles with paired article-bootstrap draws) plus the reviewed feedback."""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import Settings, get_settings
from mindlens.pipeline.data import FEEDBACK_SOURCE

log = logging.getLogger(__name__)

JOB_TAG = "mindlens.job"  # tags the MLflow run of a job (``retrain``)


def evaluation_reports(
    model_uri: str | None, split: str = "val", run_id: str | None = None, settings: Settings | None = None
) -> dict[str, dict[str, Any]]:
    """Execute ``evaluate.ipynb`` and ``error_analysis.ipynb`` for a model; both reports
    (and their figures) are logged to ``run_id`` (the training run) or to runs of their own."""
    from mindlens.notebooks import run_notebook

    settings = settings or get_settings()
    results = {}
    for name in ("evaluate", "error_analysis"):
        run = run_notebook(settings, name, {"model_uri": model_uri, "split": split, "run_id": run_id})
        log.info("MLflow run_id=%s %s report=%s", run.result.get("run_id"), name, run.html)
        results[name] = run.result | {"report_notebook": str(run.notebook), "report_html": str(run.html)}
    return results


def feedback_metrics(analyzer: Any, manifest: Any) -> dict[str, float]:
    """Agreement with the reviewers on the reviewed feedback texts, sentence by sentence.

    ``feedback_agreement``: the share of sentences whose predicted technique set equals
    the reviewed one (a correctly silent sentence counts: many corrections remove a false
    alarm); ``feedback_micro_f1`` over techniques. Empty without reviewed feedback.
    """
    import numpy as np

    from mindlens.evaluation.predictions import span_sentences

    if FEEDBACK_SOURCE not in manifest.sources:
        return {}
    sentences = span_sentences(manifest, [FEEDBACK_SOURCE])
    if sentences.empty:
        return {}
    threshold = analyzer.min_confidence
    probs, _ = analyzer.tag_sentences(sentences["text"].tolist(), threshold)
    labels = analyzer.sentence_labels
    predicted = [{labels[j] for j in np.flatnonzero(row >= threshold)} for row in probs]
    gold = [set(g) for g in sentences["labels"]]
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=False))
    fp = sum(len(p - g) for g, p in zip(gold, predicted, strict=False))
    fn = sum(len(g - p) for g, p in zip(gold, predicted, strict=False))
    return {
        "feedback_agreement": float(np.mean([g == p for g, p in zip(gold, predicted, strict=False)])),
        "feedback_micro_f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "feedback_sentences": float(len(sentences)),
        "feedback_documents": float(sentences["document_id"].nunique()),
    }


def score(
    analyzer: Any, manifest: Any, settings: Settings
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Every fixed evaluation metric (validation split, curated test part, the unseen-story
    val articles: ``unseen_<m>`` and ``unseen_<m>_sd``) plus feedback; and the unseen
    metrics' bootstrap draws, for the paired comparison."""
    from mindlens.evaluation.evaluate import evaluate_analyzer
    from mindlens.validation.unseen import score_unseen

    evaluation = evaluate_analyzer(analyzer, manifest, settings, "val")
    unseen = score_unseen(analyzer, manifest, settings, evaluation)
    metrics = evaluation.metrics | unseen.metrics | feedback_metrics(analyzer, manifest)
    return metrics, unseen.draws


def compare_with_champion(
    best: dict[str, Any], manifest_path: str, reason: str = "manual", settings: Settings | None = None
) -> dict[str, Any]:
    """Score the selected candidate and the current champion on the same manifest and open
    the ``retrain`` MLflow run that records the comparison (and, later, the decision)."""
    from pathlib import Path

    import mlflow

    from mindlens.data.dataset import Manifest
    from mindlens.registry.registry import NoChampionError, champion_info, load_analyzer
    from mindlens.tracking import configure_mlflow
    from mindlens.validation.unseen import paired_sds

    settings = settings or get_settings()
    manifest = Manifest.read(Path(manifest_path))
    candidate_analyzer, _ = load_analyzer(settings, best["model_uri"])
    candidate, candidate_draws = score(candidate_analyzer, manifest, settings)
    paired: dict[str, float] = {}
    try:
        info = champion_info(settings)
        champion_analyzer, _ = load_analyzer(settings)
    except NoChampionError:
        info, champion = None, None
        log.info("no champion yet: the candidate has nothing to be compared with")
    else:
        champion, champion_draws = score(champion_analyzer, manifest, settings)
        paired = paired_sds(candidate_draws, champion_draws)
    configure_mlflow(settings)
    tags = {
        JOB_TAG: "retrain",
        "retrain.reason": reason,
        "candidate": best["candidate"],
        "candidate_run_id": best["run_id"],
        "data_content_hash": manifest.content_hash,
        "champion_version": info.version if info else "none",
    }
    with mlflow.start_run(run_name=f"retrain ({best['candidate']})", tags=tags) as run:
        mlflow.log_metrics({f"candidate.{k}": v for k, v in candidate.items()})
        if champion is not None:
            mlflow.log_metrics({f"champion.{k}": v for k, v in champion.items()})
        mlflow.log_metrics({f"paired_sd.{k}": v for k, v in paired.items()})
        mlflow.log_dict(
            {"candidate": candidate, "champion": champion, "paired_sd": paired}, "comparison.json"
        )
    log.info(
        "candidate %s vs champion %s: %s",
        best["candidate"],
        f"v{info.version}" if info else "none",
        ", ".join(
            f"{k} {candidate.get(k, float('nan')):.4f}/{(champion or {}).get(k, float('nan')):.4f}"
            for k in [*settings.retrain.gate.metrics, settings.retrain.gate.feedback_metric]
        ),
    )
    return {
        "run_id": run.info.run_id,
        "reason": reason,
        "candidate": best["candidate"],
        "candidate_run_id": best["run_id"],
        "model_uri": best["model_uri"],
        "data_content_hash": manifest.content_hash,
        "champion_version": info.version if info else None,
        "champion_semver": info.semver if info else None,
        "metrics": {"candidate": candidate, "champion": champion},
        "paired_sd": paired,  # sd of the paired article-bootstrap difference, per unseen_ metric
    }
