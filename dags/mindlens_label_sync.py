"""Label sync: pull reviewed annotations from Label Studio and retrain when enough are new.

pull_annotations -> validate_labels -> count_new_labels -> enough_new_labels
                 -> trigger_pipeline -> mark_trained

Hourly (also triggerable). The export lands in ``<state_dir>/labels/<origin>/``
where the ``label_studio`` data source reads it; ``<state_dir>/labels/sync_state.json``
remembers which labels were already handed to training. When at least
``min_new_labels`` are new, ``mindlens_pipeline`` is triggered. Without
``MINDLENS_LABEL_STUDIO_TOKEN`` every run succeeds with a log line and does nothing,
so the DAG can ship enabled on machines without Label Studio.
"""

from __future__ import annotations

import logging
from datetime import datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task

log = logging.getLogger(__name__)


@dag(
    dag_id="mindlens_label_sync",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["mindlens", "labelling"],
    params={
        "min_new_labels": Param(50, type="integer", minimum=1,
                                description="Trigger mindlens_pipeline once this many labels "
                                            "are new since the last trigger"),
        "origin": Param("curated", enum=["curated", "feedback"],
                        description="Folder the project's labels go to under <state_dir>/labels"),
    },
    doc_md=__doc__,
)
def mindlens_label_sync() -> None:
    @task
    def pull_annotations() -> dict:
        from mindlens.data.sources.label_studio import default_labels_dir
        from mindlens.labelling import sync

        conn = sync.connection_from_env()
        if not conn.configured:
            log.info("Label Studio is not configured (MINDLENS_LABEL_STUDIO_TOKEN unset): "
                     "nothing to sync")
            return {"configured": False}
        client = sync.connect(conn)
        result = sync.pull(client, conn.project, default_labels_dir(),
                           get_current_context()["params"]["origin"])
        for conflict in result["conflicts"]:
            log.warning("annotators disagree on task %s (%s)", conflict["task"], conflict["id"])
        return {"configured": True, "records": result["records"], "path": result["path"],
                "conflicts": len(result["conflicts"]), "invalid": len(result["invalid"])}

    @task
    def validate_labels(pulled: dict) -> dict:
        """Parse every pulled file exactly as the training data build will, so a bad export
        fails here and not in the middle of the pipeline."""
        if not pulled["configured"]:
            return pulled
        from mindlens.data.sources import label_studio

        data = label_studio.load()
        return pulled | {"documents": len(data.documents), "spans": len(data.spans)}

    @task
    def count_new_labels(validated: dict) -> int:
        if not validated["configured"]:
            return 0
        from mindlens.data.sources.label_studio import default_labels_dir
        from mindlens.labelling import sync

        new = sync.count_new_labels(default_labels_dir())
        log.info("%d new label(s) since the last training trigger", new)
        return new

    @task.short_circuit
    def enough_new_labels(new: int) -> bool:
        wanted = get_current_context()["params"]["min_new_labels"]
        log.info("%d new label(s), %d needed to retrain", new, wanted)
        return new >= wanted

    @task
    def mark_trained() -> dict:
        from mindlens.data.sources.label_studio import default_labels_dir
        from mindlens.labelling import sync

        return sync.mark_trained(default_labels_dir(), datetime.now().astimezone().isoformat())

    trigger = TriggerDagRunOperator(task_id="trigger_pipeline", trigger_dag_id="mindlens_pipeline",
                                    conf={}, skip_when_already_exists=True)
    enough_new_labels(count_new_labels(validate_labels(pull_annotations()))) >> trigger
    trigger >> mark_trained()


mindlens_label_sync()
