"""The retrain job: reviewed feedback in, a gated new champion out.

rebuild_dataset -> candidates -> train[*] -> select -> evaluate -> register -> decide
                -> promote -> redeploy

The ``mindlens_retrain`` DAG wires these stages (and ``mindlens retrain`` chains them in
one process, ``run``). They are the pipeline's stages (``mindlens.pipeline``), composed for
this job: the dataset is rebuilt with every source, the ``feedback`` source included; the
candidates of ``retrain.candidates`` are trained through the same notebooks as the
pipeline's; the winner and the current champion are then scored by the same code on the
same fixed evaluation sets (the seeded validation split of each source and the curated test
part) and on the reviewed feedback examples. The winner is registered with a bumped
semantic version and the ``challenger`` alias whatever the outcome, so a losing candidate
stays inspectable. It takes the ``champion`` alias only if it passes ``retrain.gate``
(``mindlens.pipeline.gate``): no gate metric drops by more than the tolerance, and (when
required) it agrees with the reviewers more often than the champion does. The decision and
every reason go to the task log, to a ``retrain`` MLflow run (tags, params,
``decision.json``) and to the registered version's tags.

Every stage takes and returns JSON-serialisable values (XComs between workers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mindlens.config import Settings, get_settings
from mindlens.pipeline.data import rebuild_dataset
from mindlens.pipeline.deploy import promote_if_passed as promote
from mindlens.pipeline.deploy import redeploy
from mindlens.pipeline.evaluation import compare_with_champion as evaluate
from mindlens.pipeline.gate import Check, GateDecision, decide, gate, lower_is_better
from mindlens.pipeline.registration import register_challenger as register
from mindlens.pipeline.selection import select
from mindlens.pipeline.training import retrain_candidates as candidates
from mindlens.pipeline.training import train_candidate

__all__ = [
    "Check",
    "GateDecision",
    "candidates",
    "decide",
    "evaluate",
    "gate",
    "lower_is_better",
    "promote",
    "rebuild_dataset",
    "redeploy",
    "register",
    "run",
    "select",
    "train_candidate",
]


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
