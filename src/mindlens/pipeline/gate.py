"""The retrain gate: whether a retrained candidate may replace the champion (both scored on
the same sets), and the record of that decision (task log, the ``retrain`` MLflow run, the
version's tags).

Its PTC metrics are the ``unseen_`` ones: the legacy val articles whose story neither model
saw in training (``validation.unseen``). They are few, so each comes with the sd of the
paired article-bootstrap difference, and a drop fails only beyond tolerance + noise_z * sd.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mindlens.config import GateSettings, Settings, get_settings
from mindlens.tracking import mlflow_client

log = logging.getLogger(__name__)

# Metrics where a lower value is better: a "drop" is an increase.
_LOWER_IS_BETTER = ("ece", "_ms", "fp_rate", "fragment_rate")


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
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    config: GateSettings,
    noise: Mapping[str, float] | None = None,
) -> GateDecision:
    """Decide whether ``candidate`` may replace ``champion`` (metrics on the same sets).

    Fails when a gate metric drops by more than ``tolerance`` (absolute; for a
    lower-is-better metric, a rise) plus ``noise_z`` times its ``noise`` (the sd of the
    paired article-bootstrap difference, where measured), when the candidate lacks a metric the champion has,
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
        sd = (noise or {}).get(metric)
        margin = config.noise_z * sd if sd is not None and config.noise_z > 0 else 0.0
        ok = drop <= config.tolerance + margin + 1e-12
        verdict = "within" if ok else "beyond"
        allowed = f"tolerance {config.tolerance:g}"
        if margin:
            allowed += f" + {config.noise_z:g} × paired sd {sd:.4f}"
        checks.append(
            Check(
                metric,
                ok,
                new,
                old,
                f"{metric}: {old:.4f} -> {new:.4f} (drop {max(drop, 0.0):.4f}, {verdict} {allowed})",
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
    decision = gate(metrics["candidate"], metrics["champion"], config, evaluation.get("paired_sd"))
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
        "paired_sd": evaluation.get("paired_sd") or {},
    }
    client = mlflow_client(settings)
    run_id = evaluation["run_id"]
    client.log_text(run_id, json.dumps(record, indent=2, default=str), "decision.json")
    client.log_param(run_id, "gate.tolerance", config.tolerance)
    client.log_param(run_id, "gate.noise_z", config.noise_z)
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
