"""The retrain job: reviewed feedback in, a gated new champion out.

rebuild_dataset -> candidates -> train[*] -> select -> evaluate -> register -> decide
                -> promote -> redeploy

The ``mindlens_retrain`` DAG wires these stages (and ``mindlens retrain`` chains them in
one process). The dataset is rebuilt with every source, the ``feedback`` source
included; the candidates of ``retrain.candidates`` are trained through the same
notebooks as the pipeline's; the winner and the current champion are then scored by
the same code on the same fixed evaluation sets (the seeded validation split of each
source and the curated test part) and on the reviewed feedback examples. The winner is
registered with a bumped semantic version and the ``challenger`` alias whatever the
outcome, so a losing candidate stays inspectable. It takes the ``champion`` alias only
if it passes ``retrain.gate``: no gate metric drops by more than the tolerance, and
(when required) it agrees with the reviewers more often than the champion does. The
decision and every reason go to the task log, to a ``retrain`` MLflow run (tags,
params, ``decision.json``) and to the registered version's tags.

Every stage takes and returns JSON-serialisable values (XComs between workers).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mindlens.config import GateSettings, Settings, get_settings
from mindlens.tracking import mlflow_client

log = logging.getLogger(__name__)

FEEDBACK_SOURCE = "feedback"
JOB_TAG = "mindlens.job"
# Metrics where a lower value is better: a "drop" is an increase.
_LOWER_IS_BETTER = ("ece", "_ms", "fp_rate")


# --- data and training --------------------------------------------------------------


def rebuild_dataset(max_documents: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Rebuild the processed dataset from every configured source (reviewed feedback
    included) and run the data tests; a failed test fails the job before any training."""
    from mindlens import pipeline

    settings = settings or get_settings()
    manifest = pipeline.prepare_data(max_documents, settings)
    pipeline.validate_data(manifest["manifest_path"], settings)
    documents = manifest["rows"]["documents"]
    feedback = sum(n for key, n in documents.items() if key.startswith(f"{FEEDBACK_SOURCE}/"))
    log.info("dataset %s: %d reviewed feedback document(s)", manifest["content_hash"][:12], feedback)
    return {
        "manifest_path": manifest["manifest_path"],
        "content_hash": manifest["content_hash"],
        "feedback_documents": feedback,
    }


def candidates(
    conf: list[dict[str, Any]] | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The candidates to retrain: the run's conf if given, else ``retrain.candidates``."""
    from mindlens import pipeline

    settings = settings or get_settings()
    chosen = conf or [c.model_dump() for c in settings.retrain.candidates]
    return pipeline.candidates(chosen, settings)


def train_candidate(
    candidate: dict[str, Any], manifest_path: str, settings: Settings | None = None
) -> dict[str, Any]:
    """One candidate through its family's notebook, exactly as the pipeline trains it."""
    from mindlens import pipeline

    return pipeline.train_candidate(candidate, manifest_path, settings)


def select(results: list[dict[str, Any]], settings: Settings | None = None) -> dict[str, Any]:
    """The best candidate by the pipeline's selection rule (``train.selection``)."""
    from mindlens import pipeline

    return pipeline.select(results, settings)


# --- evaluation ---------------------------------------------------------------------


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


def score(analyzer: Any, manifest: Any, settings: Settings) -> dict[str, float]:
    """Every fixed evaluation metric (validation split, curated test part) plus feedback."""
    from mindlens.evaluation.evaluate import evaluate_analyzer

    return evaluate_analyzer(analyzer, manifest, settings, "val").metrics | feedback_metrics(
        analyzer, manifest
    )


def evaluate(
    best: dict[str, Any], manifest_path: str, reason: str = "manual", settings: Settings | None = None
) -> dict[str, Any]:
    """Score the selected candidate and the current champion on the same manifest and open
    the ``retrain`` MLflow run that records the comparison (and, later, the decision)."""
    from pathlib import Path

    import mlflow

    from mindlens.data.dataset import Manifest
    from mindlens.registry.registry import NoChampionError, champion_info, load_analyzer
    from mindlens.tracking import configure_mlflow

    settings = settings or get_settings()
    manifest = Manifest.read(Path(manifest_path))
    candidate_analyzer, _ = load_analyzer(settings, best["model_uri"])
    candidate = score(candidate_analyzer, manifest, settings)
    try:
        info = champion_info(settings)
        champion_analyzer, _ = load_analyzer(settings)
    except NoChampionError:
        info, champion = None, None
        log.info("no champion yet: the candidate has nothing to be compared with")
    else:
        champion = score(champion_analyzer, manifest, settings)
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
        mlflow.log_dict({"candidate": candidate, "champion": champion}, "comparison.json")
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
    }


# --- registration -------------------------------------------------------------------


def register(evaluation: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
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


# --- the gate -----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    metric: str
    ok: bool
    candidate: float | None
    champion: float | None
    reason: str


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reasons: list[str]
    checks: list[Check] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lower_is_better(metric: str) -> bool:
    return any(metric.endswith(suffix) for suffix in _LOWER_IS_BETTER)


def gate(
    candidate: Mapping[str, float], champion: Mapping[str, float] | None, config: GateSettings
) -> GateDecision:
    """Decide whether ``candidate`` may replace ``champion`` (metrics on the same sets).

    Fails when a gate metric drops by more than ``tolerance`` (absolute; for a
    lower-is-better metric, a rise), when the candidate lacks a metric the champion has,
    or, with ``require_feedback_improvement``, when there is no reviewed feedback or the
    candidate does not agree with it strictly more often than the champion (unless both
    agree on all of it). Passes without comparison when there is no champion.
    """
    if champion is None:
        return GateDecision(True, ["no champion yet: nothing to compare with"])
    checks: list[Check] = []
    for metric in config.metrics:
        new, old = candidate.get(metric), champion.get(metric)
        if old is None:
            checks.append(
                Check(
                    metric, True, new, old, f"{metric}: not measured for the champion on this data (skipped)"
                )
            )
            continue
        if new is None:
            checks.append(
                Check(metric, False, new, old, f"{metric}: the candidate has no value (champion {old:.4f})")
            )
            continue
        drop = (new - old) if lower_is_better(metric) else (old - new)
        ok = drop <= config.tolerance + 1e-12
        verdict = "within" if ok else "beyond"
        checks.append(
            Check(
                metric,
                ok,
                new,
                old,
                f"{metric}: {old:.4f} -> {new:.4f} (drop {max(drop, 0.0):.4f}, "
                f"{verdict} tolerance {config.tolerance:g})",
            )
        )
    metric = config.feedback_metric
    new, old = candidate.get(metric), champion.get(metric)
    if new is None:
        checks.append(
            Check(
                metric,
                not config.require_feedback_improvement,
                new,
                old,
                f"{metric}: no reviewed feedback examples to measure it on",
            )
        )
    else:
        # Nothing is left to improve where the champion already agrees on every example
        # (e.g. it was itself retrained on them): matching it counts.
        perfect = old is not None and old >= 1.0 and new >= 1.0
        improved = old is None or new > old or perfect
        text = f"{metric}: {old:.4f} -> {new:.4f}" if old is not None else f"{metric}: {new:.4f}"
        ok = improved or not config.require_feedback_improvement
        if perfect:
            note = "both agree on every example"
        elif improved:
            note = "improved"
        else:
            note = "no improvement on the feedback examples"
            note += "" if config.require_feedback_improvement else " (not required)"
        checks.append(Check(metric, ok, new, old, f"{text} ({note})"))
    failed = [c.reason for c in checks if not c.ok]
    if failed:
        return GateDecision(False, failed, checks)
    return GateDecision(True, ["every gate metric within tolerance", checks[-1].reason], checks)


def decide(
    evaluation: dict[str, Any], registration: dict[str, Any], settings: Settings | None = None
) -> dict[str, Any]:
    """Apply ``retrain.gate``; record the decision and its reasons in the task log, on the
    ``retrain`` MLflow run (tags, params, ``decision.json``) and on the version's tags."""
    from mindlens.registry import tag_version

    settings = settings or get_settings()
    config = settings.retrain.gate
    metrics = evaluation["metrics"]
    decision = gate(metrics["candidate"], metrics["champion"], config)
    verdict = "passed" if decision.passed else "failed"
    log.info(
        "gate %s for v%s (%s) against champion %s:",
        verdict.upper(),
        registration["version"],
        registration["semver"],
        f"v{evaluation['champion_version']}" if evaluation["champion_version"] else "none",
    )
    for check in decision.checks:
        log.info("  [%s] %s", "ok" if check.ok else "FAIL", check.reason)
    for reason in decision.reasons:
        log.info("  reason: %s", reason)
    record = {
        "decision": verdict,
        "passed": decision.passed,
        "reasons": decision.reasons,
        "checks": [asdict(c) for c in decision.checks],
        "gate": config.model_dump(),
        "version": registration["version"],
        "semver": registration["semver"],
        "champion_version": evaluation["champion_version"],
        "candidate": evaluation["candidate"],
        "reason": evaluation["reason"],
        "run_id": evaluation["run_id"],
    }
    client = mlflow_client(settings)
    run_id = evaluation["run_id"]
    client.log_text(run_id, json.dumps(record, indent=2, default=str), "decision.json")
    client.log_param(run_id, "gate.tolerance", config.tolerance)
    client.log_param(run_id, "gate.metrics", ",".join(config.metrics)[:500])
    client.log_param(run_id, "gate.feedback_metric", config.feedback_metric)
    client.log_param(run_id, "gate.require_feedback_improvement", config.require_feedback_improvement)
    client.set_tag(run_id, "gate", verdict)
    client.set_tag(run_id, "gate.reasons", "; ".join(decision.reasons)[:5000])
    tag_version(
        settings,
        registration["version"],
        {"gate": verdict, "gate_reasons": "; ".join(decision.reasons)[:5000]},
    )
    return record


def promote(decision: dict[str, Any], allow: bool = True, settings: Settings | None = None) -> dict[str, Any]:
    """Give the version the ``champion`` alias if the gate passed (and ``allow``)."""
    from mindlens.registry.registry import promote as set_alias

    settings = settings or get_settings()
    version = decision["version"]
    if not decision["passed"]:
        result = {
            "promoted": False,
            "version": version,
            "reason": "gate failed: " + "; ".join(decision["reasons"]),
        }
    elif not allow:
        result = {
            "promoted": False,
            "version": version,
            "reason": "gate passed but promotion was disabled for this run",
        }
    else:
        moved = set_alias(settings, version)
        result = {
            "promoted": True,
            "version": version,
            "previous": moved["previous"],
            "reason": "gate passed",
        }
    log.info(
        "v%s %s (%s)",
        version,
        "promoted to champion" if result["promoted"] else "stays challenger",
        result["reason"],
    )
    run_id = decision.get("run_id")
    if run_id:
        mlflow_client(settings).set_tag(run_id, "promoted", str(result["promoted"]).lower())
    return result


def redeploy(promotion: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Tell the running API to load the new champion (it also polls the registry)."""
    from mindlens import pipeline

    if not promotion["promoted"]:
        return {"notified": False, "reason": "champion unchanged"}
    return pipeline.notify_reload(settings or get_settings())


# --- all stages in one process (``mindlens retrain``) --------------------------------


def run(
    max_documents: int | None = None,
    conf_candidates: Sequence[dict[str, Any]] | None = None,
    reason: str = "manual",
    allow_promotion: bool = True,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Every stage in order, as the DAG runs them; returns what each produced."""
    settings = settings or get_settings()
    dataset = rebuild_dataset(max_documents, settings)
    chosen = candidates(list(conf_candidates or []) or None, settings)
    trained = [train_candidate(c, dataset["manifest_path"], settings) for c in chosen]
    best = select(trained, settings)
    evaluation = evaluate(best, dataset["manifest_path"], reason, settings)
    registration = register(evaluation, settings)
    decision = decide(evaluation, registration, settings)
    promotion = promote(decision, allow_promotion, settings)
    return {
        "dataset": dataset,
        "candidate": best["candidate"],
        "run_id": evaluation["run_id"],
        "registration": registration,
        "decision": decision,
        "promotion": promotion,
        "redeploy": redeploy(promotion, settings),
    }
