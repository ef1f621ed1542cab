"""Push examples and pre-annotations to Label Studio; pull reviewed annotations back.

``push`` is idempotent: every task carries ``mindlens_hash`` (a hash of its text) in
its data, and a text already in the project is never imported twice. Curated examples
travel as predictions with model version ``curated`` (not annotations), so only what
a person has reviewed in Label Studio comes back and the curated set is not duplicated
into the training data. Unlabelled texts get the champion's spans as predictions,
imported lowest confidence first so the default queue shows the most useful ones first.

``pull`` turns the project's JSON export into the curated JSONL format
(``mindlens.data.sources.curated``) under ``<out_dir>/<origin>/<content hash>.jsonl``:
one snapshot per origin, replaced atomically, validated record by record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mindlens.data.sources import curated
from mindlens.labelling.annotations import task_record
from mindlens.labelling.connection import LabelStudioError, get
from mindlens.labelling.projects import ensure_project, existing_hashes, find_project
from mindlens.labelling.snapshots import previous_records, write_snapshot
from mindlens.labelling.tasks import curated_prediction, model_prediction, new_task, text_hash

log = logging.getLogger(__name__)


def push(
    client: Any,
    project_title: str,
    curated_records: Iterable[curated.Record],
    unlabelled_texts: Iterable[str] = (),
    analyzer: Any = None,
    model_version: str = "champion",
) -> dict[str, Any]:
    """Create or update the project and import what it does not have yet.

    ``analyzer`` (optional, e.g. the champion) pre-annotates the unlabelled texts;
    those are imported lowest confidence first. Returns counts for the report.
    """
    project_id, created = ensure_project(client, project_title)
    seen = existing_hashes(client, project_id)
    tasks: list[dict[str, Any]] = []
    skipped = 0
    for record in curated_records:
        if text_hash(record.text) in seen:
            skipped += 1
            continue
        seen.add(text_hash(record.text))
        tasks.append(new_task(record.text, record.title, record.id, [curated_prediction(record)]))
    n_curated = len(tasks)
    scored: list[tuple[float, int, dict[str, Any]]] = []
    for i, raw in enumerate(unlabelled_texts):
        text = raw.strip("\r\n")
        if not text.strip():
            continue
        if text_hash(text) in seen:
            skipped += 1
            continue
        seen.add(text_hash(text))
        predictions = []
        score = 1.0
        if analyzer is not None:
            prediction = model_prediction(text, analyzer.analyze(text), model_version)
            predictions, score = [prediction], prediction["score"]
        scored.append((score, i, new_task(text, predictions=predictions)))
    tasks += [task for _, _, task in sorted(scored, key=lambda x: (x[0], x[1]))]
    imported = 0
    if tasks:
        response = client.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
        imported = int(get(response, "task_count", None) or len(tasks))
    log.info(
        "pushed to %r (id %s): %d curated, %d unlabelled imported, %d already there",
        project_title,
        project_id,
        n_curated,
        len(tasks) - n_curated,
        skipped,
    )
    return {
        "project": project_title,
        "project_id": project_id,
        "created": created,
        "imported": imported,
        "curated": n_curated,
        "unlabelled": len(tasks) - n_curated,
        "skipped_existing": skipped,
        "pre_annotated": analyzer is not None,
    }


def export_tasks(client: Any, project_id: int) -> list[dict[str, Any]]:
    chunks = client.projects.exports.download_sync(project_id, export_type="JSON", download_all_tasks=True)
    payload = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    return json.loads(payload or b"[]")


def pull(
    client: Any, project_title: str, out_dir: Path, origin: str = "curated", keep_previous: bool = False
) -> dict[str, Any]:
    """Export the project, keep the latest annotation per task, validate and write
    ``<out_dir>/<origin>/<content hash>.jsonl``. Invalid annotations are reported and left
    out (one bad region must not block everyone else's labels); conflicts are reported.
    With ``keep_previous``, records of the previous snapshot that the export no longer has
    (a deleted task, a lost project) are kept, so acknowledged labels never vanish."""
    from mindlens.data.sources.label_studio import ORIGINS

    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    project = find_project(client, project_title)
    if project is None:
        raise LabelStudioError(f"no Label Studio project titled {project_title!r}")
    tasks = export_tasks(client, int(get(project, "id")))
    records, conflicts, invalid, empty, reviewed = [], [], [], 0, {}
    for task in sorted(tasks, key=lambda t: int(t.get("id") or 0)):
        record, notes = task_record(task, origin)
        if record is not None:
            records.append(record)
            reviewed[int(task.get("id") or 0)] = record["id"]
        conflicts += [notes["conflict"]] if "conflict" in notes else []
        invalid += [notes["invalid"]] if "invalid" in notes else []
        empty += "empty" in notes
    kept = []
    if keep_previous:
        exported = {r["id"] for r in records}
        kept = [r for r in previous_records(Path(out_dir) / origin) if r.get("id") not in exported]
        if kept:
            log.warning(
                "%d reviewed record(s) no longer in %r kept from the previous snapshot: %s",
                len(kept),
                project_title,
                [r.get("id") for r in kept][:10],
            )
    path, changed = write_snapshot(
        Path(out_dir) / origin, records + sorted(kept, key=lambda r: str(r.get("id")))
    )
    for item in invalid:
        log.warning("task %s (%s) left out: %s", item["task"], item["id"], item["error"])
    return {
        "project": project_title,
        "origin": origin,
        "tasks": len(tasks),
        "records": len(records) + len(kept),
        "kept": len(kept),
        "path": str(path),
        "changed": changed,
        "conflicts": conflicts,
        "invalid": invalid,
        "empty": empty,
        "reviewed_tasks": reviewed,
    }
