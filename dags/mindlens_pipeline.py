"""MindLens training pipeline.

init_stores -> fetch_data -> prepare_data -> validate_data -> profile_data
                                                           -> candidates -> train[*] -> evaluate[*] -> select -> register -> reload_api

Thin by design: each task calls a stage in ``mindlens.pipeline`` (the same stage
functions the retrain job composes); nothing runs at import time. ``train`` and
``evaluate`` are mapped over the candidate list (config ``train.candidates`` or the
run's conf), so Celery or Kubernetes workers can train candidates in parallel. ``select`` applies the rule in
``train.selection``; ``register`` promotes the winner only if it beats the
champion. A failed data test fails the run with its report in the task log. ``init_stores``
creates the MLflow store before anything fans out, so parallel ``train`` tasks never race to
create a SQLite schema.
Trigger from the Airflow UI with conf such as ``{"max_documents": 40}``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="mindlens_pipeline",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["mindlens", "training"],
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
            description='Candidates to train, e.g. [{"name": "tfidf", "family": "tfidf"}]; '
            "empty = train.candidates from the config",
        ),
    },
    doc_md=__doc__,
)
def mindlens_pipeline() -> None:
    @task
    def init_stores() -> str:
        """The MLflow store's tables and experiment (once, under a file lock for SQLite)."""
        from mindlens.config import get_settings
        from mindlens.tracking import init_tracking_store

        return init_tracking_store(get_settings())

    @task
    def fetch_data() -> dict:
        from mindlens import pipeline

        return pipeline.fetch_data()

    @task
    def prepare_data(fetched: dict) -> dict:
        from mindlens import pipeline

        return pipeline.prepare_data(get_current_context()["params"]["max_documents"])

    @task
    def validate_data(manifest: dict) -> dict:
        from mindlens import pipeline

        return pipeline.validate_data(manifest["manifest_path"]) | {
            "manifest_path": manifest["manifest_path"]
        }

    @task
    def profile_data(validated: dict) -> dict:
        from mindlens import pipeline

        return pipeline.profile_data(validated["manifest_path"])

    @task
    def candidates() -> list[dict]:
        from mindlens import pipeline

        return pipeline.candidates(get_current_context()["params"]["candidates"])

    @task(map_index_template="{{ task.op_kwargs['candidate']['name'] }}")
    def train(candidate: dict, validated: dict) -> dict:
        from mindlens import pipeline

        return pipeline.train_candidate(candidate, validated["manifest_path"])

    @task
    def evaluate(training: dict) -> dict:
        """Evaluation and error-analysis reports, logged into the candidate's run."""
        from mindlens import pipeline

        reports = pipeline.evaluation_reports(training["model_uri"], "val", training["run_id"])
        return training | {"reports": {k: v["report_html"] for k, v in reports.items()}}

    @task
    def select(evaluated: list[dict]) -> dict:
        from mindlens import pipeline

        return pipeline.select(list(evaluated))

    @task
    def register(best: dict) -> dict:
        from mindlens import pipeline

        return pipeline.register(best["run_id"], best["model_uri"])

    @task
    def reload_api(registration: dict) -> dict:
        from mindlens import pipeline

        return pipeline.redeploy(registration)

    fetched = fetch_data()
    init_stores() >> fetched
    validated = validate_data(prepare_data(fetched))
    profile_data(validated)
    trained = train.partial(validated=validated).expand(candidate=candidates())
    reload_api(register(select(evaluate.expand(training=trained))))


mindlens_pipeline()
