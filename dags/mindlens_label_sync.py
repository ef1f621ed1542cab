"""Label sync: pull reviewed annotations from Label Studio and retrain when enough are new.

pull_annotations -> validate_labels -> count_new_labels -> enough_new_labels
                 -> trigger_pipeline -> mark_trained
push_feedback -> pull_feedback -> count_new_feedback -> enough_new_feedback
              -> trigger_retrain -> mark_retrain_triggered

Hourly (also triggerable). Curated relabels: the export lands in
``<state_dir>/labels/<origin>/`` where the ``label_studio`` data source reads it; when
at least ``min_new_labels`` are new, ``mindlens_pipeline`` is triggered. User feedback:
new feedback from the store is queued as tasks in the feedback-review project, reviewed
tasks are pulled into ``<state_dir>/labels/feedback/`` (the ``feedback`` source) and
their feedback marked reviewed; when ``retrain.trigger_on_feedback`` is on and at least
``retrain.min_new_feedback`` reviewed texts are new, ``mindlens_retrain`` is triggered.
``<state_dir>/labels/sync_state.json`` remembers what was already handed to each.
Label Studio is the config's ``label_studio`` section; without its token
(``MINDLENS_LABEL_STUDIO_TOKEN``) every run succeeds with a log line and does nothing, so
the DAG can ship enabled on machines without Label Studio.
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
        "min_new_labels": Param(
            50,
            type="integer",
            minimum=1,
            description="Trigger mindlens_pipeline once this many labels are new since the last trigger",
        ),
    },
    doc_md=__doc__,
)
def mindlens_label_sync() -> None:
    @task
    def pull_annotations() -> dict:
        from mindlens.config import get_settings
        from mindlens.labelling import sync
        from mindlens.labelling.connection import Connection, connect
        from mindlens.labelling.projects import find_project

        settings = get_settings()
        conn = Connection.from_settings(settings)
        if not conn.configured:
            log.info("Label Studio is not configured (MINDLENS_LABEL_STUDIO_TOKEN unset): nothing to sync")
            return {"configured": False}
        client = connect(conn)
        if find_project(client, conn.project) is None:
            log.info(
                "no Label Studio project %r yet (`mindlens labels push` creates it): nothing to sync",
                conn.project,
            )
            return {"configured": False}
        # The feedback folder belongs to the feedback-review project (pull_feedback).
        result = sync.pull(client, conn.project, settings.paths.labels, "curated")
        for conflict in result["conflicts"]:
            log.warning("annotators disagree on task %s (%s)", conflict["task"], conflict["id"])
        return {
            "configured": True,
            "records": result["records"],
            "path": result["path"],
            "conflicts": len(result["conflicts"]),
            "invalid": len(result["invalid"]),
        }

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
        from mindlens.config import get_settings
        from mindlens.labelling import state

        new = state.count_new_labels(get_settings().paths.labels)
        log.info("%d new label(s) since the last training trigger", new)
        return new

    @task.short_circuit
    def enough_new_labels(new: int) -> bool:
        wanted = get_current_context()["params"]["min_new_labels"]
        log.info("%d new label(s), %d needed to retrain", new, wanted)
        return new >= wanted

    @task
    def mark_trained() -> dict:
        from mindlens.config import get_settings
        from mindlens.labelling import state

        return state.mark_trained(get_settings().paths.labels, datetime.now().astimezone().isoformat())

    @task
    def push_feedback() -> dict:
        """New user feedback -> tasks in the feedback-review project (marked queued)."""
        from mindlens.config import get_settings
        from mindlens.labelling import feedback
        from mindlens.labelling.connection import Connection

        settings = get_settings()
        conn = Connection.from_settings(settings)
        if not conn.configured:
            log.info("Label Studio is not configured: no feedback queued for review")
            return {"configured": False}
        return {"configured": True} | feedback.push_configured(settings, conn)

    @task
    def pull_feedback(pushed: dict) -> dict:
        """Reviewed feedback -> the feedback data source (validated); feedback marked reviewed."""
        if not pushed["configured"]:
            return pushed
        from mindlens.config import get_settings
        from mindlens.labelling import feedback

        result = feedback.pull_configured(get_settings())
        for conflict in result["conflicts"]:
            log.warning("reviewers disagree on feedback task %s (%s)", conflict["task"], conflict["id"])
        return {
            "configured": True,
            "records": result["records"],
            "path": result["path"],
            "newly_reviewed": result["newly_reviewed"],
            "invalid": len(result["invalid"]),
        }

    @task
    def count_new_feedback(pulled: dict) -> int:
        if not pulled["configured"]:
            return 0
        from mindlens.config import get_settings
        from mindlens.labelling import feedback

        new = feedback.count_new_feedback(get_settings().paths.labels)
        log.info("%d reviewed feedback text(s) not yet handed to a retrain", new)
        return new

    @task.short_circuit
    def enough_new_feedback(new: int) -> bool:
        from mindlens.config import get_settings

        config = get_settings().retrain
        if not config.trigger_on_feedback:
            log.info(
                "retrain.trigger_on_feedback is off: %d new reviewed feedback text(s) wait "
                "for the next retrain",
                new,
            )
            return False
        log.info("%d new reviewed feedback text(s), %d needed to retrain", new, config.min_new_feedback)
        return new >= config.min_new_feedback

    @task
    def mark_retrain_triggered() -> dict:
        from mindlens.config import get_settings
        from mindlens.labelling import feedback

        return feedback.mark_retrain_triggered(
            get_settings().paths.labels, datetime.now().astimezone().isoformat()
        )

    trigger = TriggerDagRunOperator(
        task_id="trigger_pipeline", trigger_dag_id="mindlens_pipeline", conf={}, skip_when_already_exists=True
    )
    enough_new_labels(count_new_labels(validate_labels(pull_annotations()))) >> trigger
    trigger >> mark_trained()

    retrain = TriggerDagRunOperator(
        task_id="trigger_retrain",
        trigger_dag_id="mindlens_retrain",
        conf={"reason": "label_sync"},
        skip_when_already_exists=True,
    )
    enough_new_feedback(count_new_feedback(pull_feedback(push_feedback()))) >> retrain
    retrain >> mark_retrain_triggered()


mindlens_label_sync()
