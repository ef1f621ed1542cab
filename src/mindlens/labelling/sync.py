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

import hashlib
import html
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlens import taxonomy
from mindlens.config import PROJECT_ROOT
from mindlens.data.sources import curated
from mindlens.labelling import config as lc

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8081"
DEFAULT_PROJECT = "MindLens"
GUIDE_PATH = PROJECT_ROOT / "data" / "curated" / "GUIDE.md"
HASH_KEY = "mindlens_hash"
CURATED_MODEL_VERSION = "curated"
_SNAPSHOT = re.compile(r"^[0-9a-f]{16}\.jsonl$")


# --- connection -------------------------------------------------------------


class LabelStudioError(RuntimeError):
    """Label Studio is not configured, unreachable, or refused the token (one-line message)."""


@dataclass(frozen=True)
class Connection:
    url: str
    token: str | None
    project: str

    @property
    def configured(self) -> bool:
        return bool(self.token)


def connection_from_env(env: Mapping[str, str] | None = None) -> Connection:
    """Settings from ``MINDLENS_LABEL_STUDIO_{URL,TOKEN,PROJECT}`` (kept out of ``Settings``:
    they belong to an optional external service, and the token is a secret)."""
    env = os.environ if env is None else env
    return Connection(
        url=env.get("MINDLENS_LABEL_STUDIO_URL") or DEFAULT_URL,
        token=env.get("MINDLENS_LABEL_STUDIO_TOKEN") or None,
        project=env.get("MINDLENS_LABEL_STUDIO_PROJECT") or DEFAULT_PROJECT,
    )


def connect(conn: Connection) -> Any:
    """A checked ``LabelStudio`` client: fails fast with a one-line ``LabelStudioError``."""
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    if not conn.token:
        raise LabelStudioError(
            "MINDLENS_LABEL_STUDIO_TOKEN is not set (Label Studio: Account & "
            "Settings > Personal Access Token)"
        )
    try:
        client = LabelStudio(base_url=conn.url, api_key=conn.token)
        client.users.whoami()
    except (httpx.ConnectError, httpx.TimeoutException) as err:
        raise LabelStudioError(f"Label Studio is unreachable at {conn.url} ({err})") from None
    except ApiError as err:
        if err.status_code in (401, 403):
            raise LabelStudioError(
                f"Label Studio at {conn.url} rejected the token (HTTP {err.status_code})"
            ) from None
        raise LabelStudioError(
            f"Label Studio at {conn.url} answered HTTP {err.status_code}: {str(err.body)[:200]}"
        ) from None
    return client


# --- helpers ----------------------------------------------------------------


def text_hash(text: str) -> str:
    """The stable identity of a task: same text, same task, whatever its id or labels."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, Mapping) else getattr(obj, key, default)


def _instructions(guide: Path = GUIDE_PATH) -> str | None:
    if not guide.is_file():
        return None
    source = guide.read_text(encoding="utf-8")
    try:
        from markdown_it import MarkdownIt

        return MarkdownIt().render(source)
    except ImportError:  # Label Studio shows instructions as HTML
        return f"<pre>{html.escape(source)}</pre>"


def find_project(client: Any, title: str) -> Any | None:
    """The project with exactly this title (the API filter is a substring match)."""
    for project in client.projects.list(title=title):
        if _get(project, "title") == title:
            return project
    return None


def ensure_project(client: Any, title: str, label_config: str | None = None) -> tuple[int, bool]:
    """Create the project, or bring its config and instructions up to date; ``(id, created)``.
    ``label_config`` defaults to the curated project's (``labelling.config.label_config``)."""
    fields: dict[str, Any] = {"label_config": label_config or lc.label_config()}
    instructions = _instructions()
    if instructions:
        fields |= {"expert_instruction": instructions, "show_instruction": True}
    project = find_project(client, title)
    if project is None:
        created = client.projects.create(title=title, **fields)
        return int(_get(created, "id")), True
    client.projects.update(_get(project, "id"), **fields)
    return int(_get(project, "id")), False


def existing_hashes(client: Any, project_id: int) -> set[str]:
    hashes = set()
    for task in client.tasks.list(project=project_id, fields="task_only"):
        data = _get(task, "data") or {}
        if data.get(HASH_KEY):
            hashes.add(data[HASH_KEY])
    return hashes


def _span_result(
    i: int, text: str, start: int, end: int, technique: str, score: float | None = None
) -> dict[str, Any]:
    item = {
        "id": f"s{i}",
        "from_name": lc.TECHNIQUE,
        "to_name": lc.TEXT,
        "type": "labels",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [technique]},
    }
    return item if score is None else item | {"score": score}


def _choice_result(name: str, choices: list[str]) -> dict[str, Any]:
    return {
        "id": name,
        "from_name": name,
        "to_name": lc.TEXT,
        "type": "choices",
        "value": {"choices": choices},
    }


def curated_prediction(record: curated.Record) -> dict[str, Any]:
    """A curated record as a prediction the annotator can accept or correct."""
    result = [_span_result(i, record.text, s, e, t) for i, (s, e, t) in enumerate(record.spans)]
    document = [lb for lb in record.labels if lb != "clickbait"]
    if document:
        result.append(_choice_result(lc.DOCUMENT, document))
    if "clickbait" in record.labels:
        result.append(_choice_result(lc.CLICKBAIT, [lc.CLICKBAIT_YES]))
    if record.no_technique:
        result.append(_choice_result(lc.VERDICT, [lc.NO_TECHNIQUE]))
    return {"model_version": CURATED_MODEL_VERSION, "score": 1.0, "result": result}


def model_prediction(text: str, analysis: Mapping[str, Any], model_version: str) -> dict[str, Any]:
    """The analyzer's spans as a prediction; its score is the weakest decision in the text
    (the lowest span confidence, or 1 - the document score when nothing was found)."""
    spans = [s for s in analysis.get("spans", []) if s["technique"] in taxonomy.TECHNIQUE_IDS]
    result = [
        _span_result(i, text, s["start"], s["end"], s["technique"], float(s["confidence"]))
        for i, s in enumerate(spans)
    ]
    if spans:
        score = min(float(s["confidence"]) for s in spans)
    else:
        score = 1.0 - float(analysis.get("document", {}).get("score", 0.0))
    return {"model_version": model_version, "score": round(score, 4), "result": result}


def _task(
    text: str, title: str = "", record_id: str | None = None, predictions: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    data = {"text": text, "title": title, HASH_KEY: text_hash(text)}
    if record_id:
        data["mindlens_id"] = record_id
    return {"data": data, "predictions": list(predictions)}


# --- push -------------------------------------------------------------------


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
        tasks.append(_task(record.text, record.title, record.id, [curated_prediction(record)]))
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
        scored.append((score, i, _task(text, predictions=predictions)))
    tasks += [task for _, _, task in sorted(scored, key=lambda x: (x[0], x[1]))]
    imported = 0
    if tasks:
        response = client.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
        imported = int(_get(response, "task_count", None) or len(tasks))
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


# --- pull -------------------------------------------------------------------


def _offsets(text: str, value: Mapping[str, Any]) -> tuple[int, int] | None:
    """Python offsets of a region, checked against its quoted text; accepts UTF-16 offsets
    (what JavaScript counts) when the text has astral characters and only those match."""
    start, end, quoted = value.get("start"), value.get("end"), value.get("text")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
        return None
    if end <= len(text) and (quoted is None or text[start:end] == quoted):
        return start, end
    if quoted is not None:
        units = text.encode("utf-16-le")
        try:
            prefix = units[: 2 * start].decode("utf-16-le")
            body = units[2 * start : 2 * end].decode("utf-16-le")
        except UnicodeDecodeError:
            return None
        if body == quoted:
            return len(prefix), len(prefix) + len(body)
    return None


class InvalidAnnotation(ValueError):
    pass


def annotation_to_labels(text: str, result: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``spans``/``labels``/``no_technique``/``note`` of one annotation; raises
    ``InvalidAnnotation`` on offsets that do not match the text or unknown labels."""
    spans: set[tuple[int, int, str]] = set()
    labels: list[str] = []
    no_technique, note = False, ""
    for item in result:
        name, value = item.get("from_name"), item.get("value") or {}
        if name == lc.TECHNIQUE:
            offsets = _offsets(text, value)
            if offsets is None:
                raise InvalidAnnotation(
                    f"region {value.get('start')}-{value.get('end')} "
                    f"{value.get('text')!r} does not match the text"
                )
            for label in value.get("labels", []):
                if label not in taxonomy.TECHNIQUE_IDS:
                    raise InvalidAnnotation(f"unknown technique {label!r}")
                spans.add((*offsets, label))
        elif name == lc.DOCUMENT:
            for label in value.get("choices", []):
                if label not in taxonomy.TECHNIQUE_IDS:
                    raise InvalidAnnotation(f"unknown technique {label!r}")
                labels.append(label)
        elif name == lc.CLICKBAIT:
            if lc.CLICKBAIT_YES in value.get("choices", []):
                labels.append("clickbait")
        elif name == lc.VERDICT:
            no_technique = lc.NO_TECHNIQUE in value.get("choices", [])
        elif name == lc.NOTE:
            note = " ".join(value.get("text", []))
    if no_technique and (spans or labels):
        raise InvalidAnnotation("'no technique' chosen together with techniques")
    return {
        "spans": sorted(spans),
        "labels": list(dict.fromkeys(labels)),
        "no_technique": no_technique,
        "note": note,
    }


def _annotator(annotation: Mapping[str, Any]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        return str(who.get("email") or who.get("id"))
    return str(who)


def _when(annotation: Mapping[str, Any]) -> tuple[str, int]:
    return (
        str(annotation.get("updated_at") or annotation.get("created_at") or ""),
        int(annotation.get("id") or 0),
    )


def task_record(task: Mapping[str, Any], origin: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The curated-format record of a task's latest annotation, plus what was seen on the way
    (``conflict``: annotators whose latest annotations disagree; ``invalid``; ``empty``)."""
    data = task.get("data") or {}
    text = data.get("text") or ""
    record_id = data.get("mindlens_id") or f"ls-{data.get(HASH_KEY) or text_hash(text)}"
    notes: dict[str, Any] = {}
    annotations = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
    if not annotations or not isinstance(text, str) or not text.strip():
        return None, notes
    latest_by_annotator: dict[str, Mapping[str, Any]] = {}
    for annotation in sorted(annotations, key=_when):
        latest_by_annotator[_annotator(annotation)] = annotation
    parsed: dict[str, dict[str, Any] | str] = {}
    for who, annotation in latest_by_annotator.items():
        try:
            parsed[who] = annotation_to_labels(text, annotation.get("result") or [])
        except InvalidAnnotation as err:
            parsed[who] = f"invalid: {err}"
    if len({json.dumps(_comparable(p), sort_keys=True) for p in parsed.values()}) > 1:
        notes["conflict"] = {
            "task": task.get("id"),
            "id": record_id,
            "annotators": {w: _comparable(p) for w, p in parsed.items()},
        }
    latest = max(annotations, key=_when)
    labelled = parsed[_annotator(latest)]
    if isinstance(labelled, str):
        notes["invalid"] = {"task": task.get("id"), "id": record_id, "error": labelled}
        return None, notes
    if not (labelled["spans"] or labelled["labels"] or labelled["no_technique"]):
        notes["empty"] = {"task": task.get("id"), "id": record_id}
        return None, notes
    record = {
        "id": record_id,
        "text": text,
        "title": data.get("title") or "",
        "spans": [{"start": s, "end": e, "technique": t, "text": text[s:e]} for s, e, t in labelled["spans"]],
        "labels": labelled["labels"],
        "no_technique": labelled["no_technique"],
        "origin": origin,
    }
    curated.parse_record(record, f"task {task.get('id')}", frozenset({"origin"}))
    return record, notes


def _comparable(parsed: dict[str, Any] | str) -> Any:
    if isinstance(parsed, str):
        return parsed
    return {k: parsed[k] for k in ("spans", "labels", "no_technique")}


def export_tasks(client: Any, project_id: int) -> list[dict[str, Any]]:
    chunks = client.projects.exports.download_sync(project_id, export_type="JSON", download_all_tasks=True)
    payload = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    return json.loads(payload or b"[]")


def write_snapshot(folder: Path, records: Sequence[Mapping[str, Any]]) -> tuple[Path, bool]:
    """Write ``<folder>/<content hash>.jsonl`` atomically and remove older snapshots;
    ``(path, changed)``. An unchanged export leaves the folder as it was."""
    body = "".join(json.dumps(dict(r), ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.jsonl"
    changed = not path.exists()
    if changed:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(tmp, path)
    for old in folder.iterdir():
        if old != path and _SNAPSHOT.match(old.name):
            old.unlink()
    return path, changed


def previous_records(folder: Path) -> list[dict[str, Any]]:
    """The records of the snapshot(s) in ``folder`` as written (none if absent)."""
    records = []
    for path in sorted(Path(folder).glob("*.jsonl")) if Path(folder).is_dir() else []:
        if _SNAPSHOT.match(path.name):
            records += [
                json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
    return records


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
    tasks = export_tasks(client, int(_get(project, "id")))
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


# --- sync state (for the label-sync DAG) ------------------------------------

STATE_FILE = "sync_state.json"


def record_keys(labels_dir: Path, origins: Sequence[str] | None = None) -> set[str]:
    """``origin/id@hash`` of every pulled record (of ``origins``, default all): a relabelled
    text counts as a new label."""
    keys = set()
    for path in sorted(Path(labels_dir).glob("*/*.jsonl")):
        if origins is not None and path.parent.name not in origins:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]
                keys.add(f"{path.parent.name}/{obj.get('id')}@{digest}")
    return keys


def load_state(labels_dir: Path) -> dict[str, Any]:
    path = Path(labels_dir) / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def save_state(labels_dir: Path, state: Mapping[str, Any]) -> Path:
    """Atomic, so a killed worker never leaves half a state file."""
    path = Path(labels_dir) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(dict(state), handle, indent=1, sort_keys=True)
    os.replace(tmp, path)
    return path


# Curated relabels retrain through mindlens_pipeline; reviewed feedback through
# mindlens_retrain (``labelling.feedback``), remembered under a state key of its own.
PIPELINE_ORIGINS = ("curated",)


def count_new_labels(
    labels_dir: Path, origins: Sequence[str] = PIPELINE_ORIGINS, state_key: str = "trained_keys"
) -> int:
    """Labels not yet handed to a training run (since the last ``mark_trained``)."""
    state = load_state(labels_dir)
    return len(record_keys(labels_dir, origins) - set(state.get(state_key, [])))


def mark_trained(
    labels_dir: Path,
    when: str,
    origins: Sequence[str] = PIPELINE_ORIGINS,
    state_key: str = "trained_keys",
    when_key: str = "last_trigger",
) -> dict[str, Any]:
    """Remember the current labels as handed to training (after the pipeline was triggered)."""
    keys = sorted(record_keys(labels_dir, origins))
    state = load_state(labels_dir) | {state_key: keys, when_key: when}
    save_state(labels_dir, state)
    return {"labels": len(keys), when_key: when}
