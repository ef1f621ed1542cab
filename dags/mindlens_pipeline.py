"""MindLens training pipeline.

fetch_data -> prepare_data -> validate_data -> (profile_data, train -> evaluate -> register -> reload_api)

Thin by design: each task calls a stage in ``mindlens.pipeline``; nothing runs
at import time. A failed data test fails the run with the report in the
validate_data task log. Trigger from the Airflow UI with conf such as
``{"max_documents": 40}`` for a quick run on a sample of every source.
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
        "max_documents": Param(None, type=["null", "integer"], minimum=2,
                               description="Seeded sample of N documents per source and split "
                                           "(quick runs); empty = all"),
        "overrides": Param({}, type="object",
                           description="Baseline hyper-parameters overriding configs/default.yaml"),
    },
    doc_md=__doc__,
)
def mindlens_pipeline() -> None:
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
            "manifest_path": manifest["manifest_path"]}

    @task
    def profile_data(validated: dict) -> dict:
        from mindlens import pipeline

        return pipeline.profile_data(validated["manifest_path"])

    @task
    def train(validated: dict) -> dict:
        from mindlens import pipeline

        overrides = get_current_context()["params"]["overrides"]
        return pipeline.train_with_notebook(validated["manifest_path"], overrides)

    @task
    def evaluate(training: dict) -> dict:
        """Evaluation and error-analysis reports, logged into the training run."""
        from mindlens import pipeline

        reports = pipeline.evaluation_reports(training["model_uri"], "val", training["run_id"])
        return training | {"reports": {k: v["report_html"] for k, v in reports.items()}}

    @task
    def register(training: dict) -> dict:
        from mindlens import pipeline

        return pipeline.register(training["run_id"], training["model_uri"])

    @task
    def reload_api(registration: dict) -> dict:
        from mindlens import pipeline

        if not registration["promoted"]:
            return {"notified": False, "reason": "champion unchanged"}
        return pipeline.notify_reload()

    validated = validate_data(prepare_data(fetch_data()))
    profile_data(validated)
    reload_api(register(evaluate(train(validated))))


mindlens_pipeline()
