"""The tasks MindLens sends to Label Studio: a text with its identity hash, and predictions
to start from (curated labels, the analyzer's spans) in Label Studio's result format."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from mindlens import taxonomy
from mindlens.data.sources import curated
from mindlens.labelling import config as lc

HASH_KEY = "mindlens_hash"
CURATED_MODEL_VERSION = "curated"


def text_hash(text: str) -> str:
    """The stable identity of a task: same text, same task, whatever its id or labels."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def span_result(
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


def choice_result(name: str, choices: list[str]) -> dict[str, Any]:
    return {
        "id": name,
        "from_name": name,
        "to_name": lc.TEXT,
        "type": "choices",
        "value": {"choices": choices},
    }


def curated_prediction(record: curated.Record) -> dict[str, Any]:
    """A curated record as a prediction the annotator can accept or correct."""
    result = [span_result(i, record.text, s, e, t) for i, (s, e, t) in enumerate(record.spans)]
    document = [lb for lb in record.labels if lb != "clickbait"]
    if document:
        result.append(choice_result(lc.DOCUMENT, document))
    if "clickbait" in record.labels:
        result.append(choice_result(lc.CLICKBAIT, [lc.CLICKBAIT_YES]))
    if record.no_technique:
        result.append(choice_result(lc.VERDICT, [lc.NO_TECHNIQUE]))
    return {"model_version": CURATED_MODEL_VERSION, "score": 1.0, "result": result}


def model_prediction(text: str, analysis: Mapping[str, Any], model_version: str) -> dict[str, Any]:
    """The analyzer's spans as a prediction; its score is the weakest decision in the text
    (the lowest span confidence, or 1 - the document score when nothing was found)."""
    spans = [s for s in analysis.get("spans", []) if s["technique"] in taxonomy.TECHNIQUE_IDS]
    result = [
        span_result(i, text, s["start"], s["end"], s["technique"], float(s["confidence"]))
        for i, s in enumerate(spans)
    ]
    if spans:
        score = min(float(s["confidence"]) for s in spans)
    else:
        score = 1.0 - float(analysis.get("document", {}).get("score", 0.0))
    return {"model_version": model_version, "score": round(score, 4), "result": result}


def new_task(
    text: str, title: str = "", record_id: str | None = None, predictions: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    data = {"text": text, "title": title, HASH_KEY: text_hash(text)}
    if record_id:
        data["mindlens_id"] = record_id
    return {"data": data, "predictions": list(predictions)}
