"""The feedback review queue: user feedback -> Label Studio -> reviewed labels -> retraining.

``push_feedback`` takes the store's ``new`` feedback and creates one task per text in the
feedback-review project (``label_studio.feedback_project``, default "MindLens feedback";
``MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT``), with two kinds of pre-annotation the reviewer starts from: the model's
prediction at the time (recorded in the feedback database when the feedback's ``request_id``
joins, else the champion's analysis now, labelled as such) and each user's correction
of it. Then the feedback is marked ``queued`` with its task id. A text already in the
project gets the new user's correction (once) and report on its existing task, so a
crash between import and marking only leads to a repeat that finds the task and marks it;
queued feedback whose task is gone (deleted, a lost project) is queued again.

``pull_feedback`` exports the project like the curated pull (latest annotation per task,
offsets and labels validated, one content-hashed snapshot) into
``<state_dir>/labels/feedback/``, which the ``feedback`` data source reads, and marks the
feedback behind every reviewed task ``reviewed``. The snapshot is written before the
store is touched, so a reviewed label is never acknowledged without being on disk, and
it keeps reviewed records whose task has since disappeared from Label Studio.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mindlens.feedback.review import Span, apply_corrections, recorded_prediction, spans_of, summary
from mindlens.labelling import config as lc
from mindlens.labelling import projects, state, sync
from mindlens.labelling.connection import Connection, LabelStudioError, connect, get
from mindlens.labelling.tasks import (
    HASH_KEY,
    choice_result,
    model_prediction,
    new_task,
    span_result,
    text_hash,
)

log = logging.getLogger(__name__)

ORIGIN = "feedback"
IDS_KEY = "mindlens_feedback_ids"
RETRAIN_STATE_KEY = "retrain_keys"  # in labels/sync_state.json: feedback handed to a retrain


# --- what the model said, what the user says (the logic: ``mindlens.feedback.review``) -----


def user_prediction(text: str, item: Any, model_spans: Sequence[Span]) -> dict[str, Any]:
    """One user's correction as a Label Studio prediction (model version ``feedback #id``)."""
    spans, no_technique = apply_corrections(model_spans, item.corrections, item.judgement)
    result = [span_result(i, text, s, e, t) for i, (s, e, t) in enumerate(spans) if 0 <= s < e <= len(text)]
    if no_technique:
        result.append(choice_result(lc.VERDICT, [lc.NO_TECHNIQUE]))
    if item.comment:
        result.append(
            {
                "id": "note",
                "from_name": lc.NOTE,
                "to_name": lc.TEXT,
                "type": "textarea",
                "value": {"text": [item.comment]},
            }
        )
    return {"model_version": f"feedback #{item.id}", "score": 1.0, "result": result}


# --- push ---------------------------------------------------------------------------


def task_ids_by_hash(client: Any, project_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for task in client.tasks.list(project=project_id, fields="task_only"):
        data = get(task, "data") or {}
        if data.get(HASH_KEY):
            found.setdefault(data[HASH_KEY], int(get(task, "id")))
    return found


def add_to_task(
    client: Any,
    task_id: int,
    text: str,
    items: Sequence[Any],
    model_spans: Callable[[Any], tuple[list[Span], dict[str, Any] | None]],
) -> None:
    """Add these users' corrections (and reports) to the text's existing task; a correction
    already there (a repeat after a crash) is not added twice."""
    have = {get(p, "model_version") for p in client.predictions.list(task=task_id)}
    fresh = [item for item in items if f"feedback #{item.id}" not in have]
    if not fresh:
        return
    for item in fresh:
        prediction = user_prediction(text, item, model_spans(item)[0])
        client.predictions.create(
            task=task_id,
            result=prediction["result"],
            score=prediction["score"],
            model_version=prediction["model_version"],
        )
    data = dict(get(client.tasks.get(id=task_id), "data") or {})
    ids = list(data.get(IDS_KEY) or [])
    data[IDS_KEY] = ids + [item.id for item in fresh if item.id not in ids]
    data[lc.FEEDBACK] = "\n".join(filter(None, [data.get(lc.FEEDBACK), summary(fresh)]))
    client.tasks.update(id=str(task_id), data=data)


def push_feedback(
    client: Any,
    project_title: str,
    store: Any,
    analyzer: Callable[[], tuple[Any, str] | tuple[None, None]] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Queue the store's new feedback for review; returns counts for the report.

    ``analyzer`` (called at most once, only when some feedback has no logged prediction)
    returns ``(analyzer, label)`` of the model to re-analyse with, or ``(None, None)``.
    """
    items = store.list(status="new", limit=limit)
    queued = store.list(status="queued")
    report: dict[str, Any] = {
        "project": project_title,
        "feedback": len(items),
        "tasks_created": 0,
        "added_to_existing": 0,
        "queued": 0,
        "requeued": 0,
        "logged": 0,
        "re_analysed": 0,
        "without_model": 0,
    }
    if not items and not queued:
        return report
    project_id, created = projects.ensure_project(client, project_title, lc.feedback_label_config())
    report |= {"project_id": project_id, "created": created}
    existing = task_ids_by_hash(client, project_id)
    # Feedback waiting on a task that is gone (deleted, a lost project): queue it again.
    # Compared by text too: Label Studio may give a new task the id of a deleted one.
    lost = [item for item in queued if existing.get(text_hash(item.text)) != item.label_studio_task_id]
    if lost:
        log.warning("%d queued feedback item(s) lost their Label Studio task; queuing them again", len(lost))
        items += lost
        report["requeued"] = len(lost)
    if not items:
        return report
    by_text: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        by_text[text_hash(item.text)].append(item)
    loaded: list[tuple[Any, str] | tuple[None, None]] = []

    def model_spans(item: Any) -> tuple[list[Span], dict[str, Any] | None]:
        """The model's spans for this item and, when known, its prediction for the task."""
        recorded = recorded_prediction(store, item)
        if recorded is not None:
            report["logged"] += 1
            logged_label = f"{recorded.model_name} v{recorded.model_version} (prediction log)"
            analysis = recorded.analysis()
            return spans_of(analysis), model_prediction(item.text, analysis, logged_label)
        if analyzer is not None and not loaded:
            loaded.append(analyzer())
        champion, label = loaded[0] if loaded else (None, None)
        if champion is None:
            report["without_model"] += 1
            return [], None
        report["re_analysed"] += 1
        analysis = champion.analyze(item.text)
        return spans_of(analysis), model_prediction(item.text, analysis, f"{label} (re-analysed)")

    tasks = []
    for digest, group in by_text.items():
        text = group[0].text
        if digest in existing:  # reported again: one more correction on the same task
            add_to_task(client, existing[digest], text, group, model_spans)
            report["added_to_existing"] += len(group)
            continue
        predictions, seen_models = [], set()
        for item in group:
            spans, model = model_spans(item)
            if model is not None and model["model_version"] not in seen_models:
                seen_models.add(model["model_version"])
                predictions.append(model)
            predictions.append(user_prediction(text, item, spans))
        task = new_task(text, record_id=f"fb-{digest}", predictions=predictions)
        task["data"] |= {lc.FEEDBACK: summary(group), IDS_KEY: [item.id for item in group]}
        tasks.append(task)
    if tasks:
        client.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
        report["tasks_created"] = len(tasks)
        existing = task_ids_by_hash(client, project_id)
    missing = [digest for digest in by_text if digest not in existing]
    if missing:
        raise LabelStudioError(
            f"{len(missing)} feedback text(s) were not found in project "
            f"{project_title!r} after the import; nothing marked queued"
        )
    pairs = [(item.id, existing[digest]) for digest, group in by_text.items() for item in group]
    store.mark_queued(pairs)
    report["queued"] = len(pairs)
    log.info("feedback queued for review in %r: %s", project_title, report)
    return report


# --- pull ---------------------------------------------------------------------------


def pull_feedback(client: Any, project_title: str, store: Any, labels_dir: Path) -> dict[str, Any]:
    """Write the reviewed labels to ``<labels_dir>/feedback/`` and mark their feedback
    ``reviewed``; nothing to do (and no error) before the project exists."""
    from mindlens.data.sources import feedback as feedback_source

    if projects.find_project(client, project_title) is None:
        log.info("no Label Studio project %r yet: no feedback was queued for review", project_title)
        return {
            "project": project_title,
            "records": 0,
            "newly_reviewed": 0,
            "conflicts": [],
            "invalid": [],
            "path": None,
            "changed": False,
        }
    result = sync.pull(client, project_title, labels_dir, ORIGIN, keep_previous=True)
    feedback_source.load(folder=Path(labels_dir) / ORIGIN)  # readable exactly as training reads it
    reviewed = result["reviewed_tasks"]  # task id -> record id ("fb-<text hash>")
    newly = [
        item.id
        for item in store.list(status="queued")
        if reviewed.get(item.label_studio_task_id) == f"fb-{text_hash(item.text)}"
    ]
    store.mark_reviewed(newly)
    log.info(
        "%d reviewed feedback text(s) in %s; %d feedback item(s) newly reviewed",
        result["records"],
        result["path"],
        len(newly),
    )
    return result | {"newly_reviewed": len(newly)}


def count_new_feedback(labels_dir: Path) -> int:
    """Reviewed feedback texts not yet handed to a retrain."""
    return state.count_new_labels(labels_dir, (ORIGIN,), RETRAIN_STATE_KEY)


def mark_retrain_triggered(labels_dir: Path, when: str) -> dict[str, Any]:
    """Remember the current reviewed feedback as handed to a retrain (after the trigger)."""
    return state.mark_trained(labels_dir, when, (ORIGIN,), RETRAIN_STATE_KEY, "last_retrain_trigger")


# --- the whole step, from the settings (CLI and DAG) ----------------


def open_store(settings: Any) -> Any:
    from mindlens.feedback.store import FeedbackStore

    return FeedbackStore(str(settings.feedback.database_url))


def champion_loader(settings: Any) -> Callable[[], tuple[Any, str] | tuple[None, None]]:
    """Loads the champion on first call, for feedback whose prediction was not logged."""

    def load() -> tuple[Any, str] | tuple[None, None]:
        from mindlens.registry.registry import NoChampionError, load_analyzer

        try:
            analyzer, ref = load_analyzer(settings)
        except NoChampionError as err:
            log.warning("no pre-annotation for unlogged feedback: %s", err)
            return None, None
        return analyzer, str(ref["label"])

    return load


def push_configured(
    settings: Any, conn: Connection | None = None, project: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    conn = conn or Connection.from_settings(settings)
    client = connect(conn)
    store = open_store(settings)
    try:
        return push_feedback(
            client,
            project or settings.label_studio.feedback_project,
            store,
            champion_loader(settings),
            limit,
        )
    finally:
        store.close()


def pull_configured(
    settings: Any,
    conn: Connection | None = None,
    project: str | None = None,
    labels_dir: Path | None = None,
) -> dict[str, Any]:
    conn = conn or Connection.from_settings(settings)
    client = connect(conn)
    store = open_store(settings)
    try:
        return pull_feedback(
            client,
            project or settings.label_studio.feedback_project,
            store,
            labels_dir or settings.paths.labels,
        )
    finally:
        store.close()
