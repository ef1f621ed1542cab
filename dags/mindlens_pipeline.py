"""MindLens training pipeline: prepare data -> train (papermill notebook) -> register -> reload API.

Thin by design: each task calls a stage in ``mindlens.pipeline``; nothing runs
at import time. Trigger from the Airflow UI with conf such as
``{"max_articles": 40}`` for a quick run on a slice of PTC.
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
        "max_articles": Param(None, type=["null", "integer"], minimum=2,
                              description="Cap on PTC articles (quick runs); empty = all"),
        "overrides": Param({}, type="object",
                           description="Baseline hyper-parameters overriding configs/default.yaml"),
    },
    doc_md=__doc__,
)
def mindlens_pipeline() -> None:
    @task
    def prepare_data() -> dict:
        from mindlens import pipeline

        return pipeline.prepare_data(get_current_context()["params"]["max_articles"])

    @task
    def train(manifest: dict) -> dict:
        from mindlens import pipeline

        overrides = get_current_context()["params"]["overrides"]
        return pipeline.train_with_notebook(manifest["manifest_path"], overrides)

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

    reload_api(register(train(prepare_data())))


mindlens_pipeline()
