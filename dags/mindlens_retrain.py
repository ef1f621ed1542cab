"""Retrain on reviewed feedback; promote only through the gate.

rebuild_dataset -> candidates -> train[*] -> select -> evaluate -> register -> decide
                -> promote -> redeploy

Thin by design: each task calls a stage of ``mindlens.retrain`` (the pipeline's stages
from ``mindlens.pipeline``, composed for this job); nothing runs at import time.
Triggered by ``mindlens_label_sync`` when reviewed feedback arrived, by
``mindlens_monitoring`` (conf ``{"reason": "drift"}``), or from the UI. The dataset is
rebuilt with the ``feedback`` source; the candidates of ``retrain.candidates`` (or the
run's conf) are trained in parallel; the winner and the current champion are scored on
the same fixed evaluation sets and on the reviewed feedback. The winner is registered
(next semantic version) as ``challenger``; ``decide`` applies ``retrain.gate`` and writes
the decision with its reasons to this task's log, the ``retrain`` MLflow run
(``decision.json``) and the version's tags; ``promote`` makes it ``champion`` only when
the gate passed; ``redeploy`` tells the API to reload.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="mindlens_retrain",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["mindlens", "training", "feedback"],
    params={
        "max_documents": Param(
            None,
            type=["null", "integer"],
            minimum=2,
            description="Seeded sample of N documents per source and split (quick runs); empty = all",
        ),
        "candidates": Param(
            [],
            type="array",
            description='Candidates to train, e.g. [{"name": "retrain-tfidf", '
            '"family": "tfidf"}]; empty = retrain.candidates',
        ),
        "reason": Param(
            "manual",
            type="string",
            description="Why this retrain runs (label_sync, drift, manual); recorded with the decision",
        ),
        "promote": Param(
            True,
            type="boolean",
            description="Promote the new version if it passes the gate "
            "(false: register it as challenger only)",
        ),
    },
    doc_md=__doc__,
)
def mindlens_retrain() -> None:
    @task
    def rebuild_dataset() -> dict:
        from mindlens import retrain

        return retrain.rebuild_dataset(get_current_context()["params"]["max_documents"])

    @task
    def candidates() -> list[dict]:
        from mindlens import retrain

        return retrain.candidates(get_current_context()["params"]["candidates"])

    @task(map_index_template="{{ task.op_kwargs['candidate']['name'] }}")
    def train(candidate: dict, dataset: dict) -> dict:
        from mindlens import retrain

        return retrain.train_candidate(candidate, dataset["manifest_path"])

    @task
    def select(trained: list[dict]) -> dict:
        from mindlens import retrain

        return retrain.select(list(trained))

    @task
    def evaluate(best: dict, dataset: dict) -> dict:
        from mindlens import retrain

        return retrain.evaluate(best, dataset["manifest_path"], get_current_context()["params"]["reason"])

    @task
    def register(evaluation: dict) -> dict:
        from mindlens import retrain

        return retrain.register(evaluation)

    @task
    def decide(evaluation: dict, registration: dict) -> dict:
        from mindlens import retrain

        return retrain.decide(evaluation, registration)

    @task
    def promote(decision: dict) -> dict:
        from mindlens import retrain

        return retrain.promote(decision, get_current_context()["params"]["promote"])

    @task
    def redeploy(promotion: dict) -> dict:
        from mindlens import retrain

        return retrain.redeploy(promotion)

    dataset = rebuild_dataset()
    trained = train.partial(dataset=dataset).expand(candidate=candidates())
    evaluation = evaluate(select(trained), dataset)
    redeploy(promote(decide(evaluation, register(evaluation))))


mindlens_retrain()
