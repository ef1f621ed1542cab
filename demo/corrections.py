"""The feedback a user composes in the demo (pure): per-fragment verdicts and added
fragments, turned into a ``POST /feedback`` body, and the messages about it."""

from __future__ import annotations

import uuid
from typing import Any

from mindlens import taxonomy

JUDGEMENTS = [
    ("Manipulative", "manipulative"),
    ("Not manipulative", "not_manipulative"),
    ("Unsure", "unsure"),
]
TECHNIQUE_CHOICES = [(t.name, t.id) for t in taxonomy.TECHNIQUES]


def span_key(span: dict[str, Any]) -> str:
    """A fragment's identity across re-filtering: offsets and technique."""
    return f"{span['start']}:{span['end']}:{span['technique']}"


def verdict_choices(technique_id: str) -> list[tuple[str, str]]:
    """The per-fragment control's options: confirm, remove, or relabel to another technique."""
    return [("Right", "confirm"), ("Not a technique", "remove")] + [
        (f"Really: {t.name}", f"relabel:{t.id}") for t in taxonomy.TECHNIQUES if t.id != technique_id
    ]


def utf16_to_index(text: str, units: int) -> int:
    """The code-point offset in ``text`` of a browser's UTF-16 offset (emoji count twice there)."""
    count = 0
    for index, char in enumerate(text):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def new_pending() -> dict[str, Any]:
    """Choices not sent yet; ``client_id`` makes a repeated send of the same feedback safe."""
    return {"client_id": uuid.uuid4().hex, "verdicts": {}, "added": [], "sent": None}


def corrections_from(pending: dict[str, Any], spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The /feedback corrections for the verdicts on ``spans`` plus the added fragments."""
    by_key = {span_key(span): span for span in spans}
    corrections = []
    for key, verdict in pending["verdicts"].items():
        span = by_key.get(key)
        if span is None or not verdict:
            continue
        correction = {
            "action": verdict,
            "start": span["start"],
            "end": span["end"],
            "technique": span["technique"],
        }
        if verdict.startswith("relabel:"):
            correction["action"], correction["new_technique"] = "relabel", verdict.split(":", 1)[1]
        corrections.append(correction)
    corrections.extend(pending["added"])
    return sorted(corrections, key=lambda c: (c["start"], c["end"]))


def pending_summary(text: str, corrections: list[dict[str, Any]]) -> str:
    """What will be sent, one line per correction, in the reader's words."""
    if not corrections:
        return "No fragment marked yet: pick a verdict under a fragment, or add one the model missed."
    lines = []
    for c in corrections:
        fragment, name = text[c["start"] : c["end"]], taxonomy.technique(c["technique"]).name
        if c["action"] == "confirm":
            lines.append(f"- ✓ “{fragment}” is {name}")
        elif c["action"] == "remove":
            lines.append(f"- ✗ “{fragment}” is not {name}")
        elif c["action"] == "relabel":
            lines.append(f"- ↻ “{fragment}” is {taxonomy.technique(c['new_technique']).name}, not {name}")
        else:
            lines.append(f"- \\+ “{fragment}” is {name} (missed)")  # \\+: not a nested list
    return "**Your corrections**\n" + "\n".join(lines)


def feedback_payload(
    state: dict[str, Any], pending: dict[str, Any], judgement: str | None, comment: str | None
) -> dict[str, Any]:
    """The POST /feedback body for the analysed text and the pending choices."""
    result = state["result"]
    return {
        "client_id": pending["client_id"],
        "request_id": result.get("request_id"),
        "text": state["text"],
        "corrections": corrections_from(pending, result.get("spans", [])),
        "judgement": judgement or None,
        "comment": (comment or "").strip() or None,
    }


def ack_message(ack: dict[str, Any]) -> str:
    count = ack.get("corrections", 0)
    what = f"{count} correction{'' if count == 1 else 's'}"
    if ack.get("created"):
        return f"✓ Thank you: feedback #{ack['id']} stored ({what})."
    return f"✓ Already received: feedback #{ack['id']} ({what})."
