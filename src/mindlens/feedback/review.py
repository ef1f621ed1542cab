"""Review logic for feedback, independent of the review tool: what a user says about the
model's spans, what they reported (for the reviewer) and the prediction the feedback is
about (joined by request id in the feedback database).

``mindlens.labelling.feedback`` turns these into Label Studio tasks and predictions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mindlens import taxonomy
from mindlens.feedback.predictions import PredictionRecord

Span = tuple[int, int, str]


def recorded_prediction(store: Any, item: Any) -> PredictionRecord | None:
    """The recorded prediction of this feedback's request and text, if there is one."""
    if not item.request_id:
        return None
    for prediction in store.predictions(item.request_id):
        if prediction.text_sha256 == item.text_sha256:
            return prediction
    return None


def apply_corrections(
    model_spans: Iterable[Span], corrections: Sequence[Mapping[str, Any]], judgement: str | None
) -> tuple[list[Span], bool]:
    """The user's view of the text: the model's spans with their corrections applied
    (confirm/add keep or add a span, remove drops it, relabel changes its technique) and
    whether they say it has no technique at all (``not_manipulative`` and nothing kept)."""
    spans = {(int(s), int(e), t) for s, e, t in model_spans}
    positive = False
    for correction in corrections:
        key = (int(correction["start"]), int(correction["end"]), str(correction["technique"]))
        action = correction["action"]
        if action in ("confirm", "add"):
            spans.add(key)
            positive = True
        elif action == "remove":
            spans.discard(key)
        elif action == "relabel":
            spans.discard(key)
            spans.add((key[0], key[1], str(correction["new_technique"])))
            positive = True
    if judgement == "not_manipulative" and not positive:
        return [], True
    return sorted(spans), False


def spans_of(analysis: Mapping[str, Any]) -> list[Span]:
    """The (start, end, technique) spans of an analysis or recorded prediction, known techniques only."""
    return [
        (int(s["start"]), int(s["end"]), s["technique"])
        for s in analysis.get("spans", [])
        if s["technique"] in taxonomy.TECHNIQUE_IDS
    ]


def summary(items: Sequence[Any]) -> str:
    """What the users reported, one line each, for the reviewer."""
    lines = []
    for item in items:
        model = f"{item.model_name} v{item.model_version}" if item.model_name else "model unknown"
        actions: defaultdict[str, int] = defaultdict(int)
        for correction in item.corrections:
            actions[correction["action"]] += 1
        done = ", ".join(f"{n} {a}" for a, n in sorted(actions.items())) or "no span corrections"
        line = f"#{item.id} ({model}): judgement {item.judgement or '-'}; {done}"
        lines.append(line + (f'; "{item.comment}"' if item.comment else ""))
    return "\n".join(lines)
