"""Reviewed annotations back into the curated format: one annotation's spans and labels
(offsets checked against the text, labels against the taxonomy), and one task's record
from its latest annotation, with annotator conflicts, invalid and empty ones noted."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mindlens import taxonomy
from mindlens.data.sources import curated
from mindlens.labelling import config as lc
from mindlens.labelling.tasks import HASH_KEY, text_hash


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
