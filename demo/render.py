"""From an /analyze result to what the demo shows: highlighted text, the fragment and count
tables, trait bars, the clickbait meter and the summary line (pure, apart from Gradio's
component update in ``shown_outputs``)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from mindlens import taxonomy

Highlights = list[tuple[str, str | None]]
Outputs = tuple[Any, ...]

COLOR_MAP = {t.name: t.color for t in taxonomy.TECHNIQUES}
DETAIL_HEADERS = ["Start", "End", "Fragment", "Technique", "Trait", "Confidence", "Quoted", "Evidence"]
COUNT_HEADERS = ["Technique", "Trait", "Fragments", "Top confidence"]


def filter_result(result: dict[str, Any], min_confidence: float) -> dict[str, Any]:
    """The result as the model would answer at ``min_confidence``: spans and sentence
    techniques below it are dropped; document, title and signals are kept."""
    sentences = [
        {**s, "techniques": [h for h in s["techniques"] if h["confidence"] >= min_confidence]}
        for s in result.get("sentences", [])
    ]
    spans = [s for s in result.get("spans", []) if s["confidence"] >= min_confidence]
    return {**result, "sentences": sentences, "spans": spans, "min_confidence": min_confidence}


def highlights(text: str, sentences: list[dict[str, Any]]) -> Highlights:
    """The whole text as (fragment, label) pairs; flagged sentences carry their top technique."""
    pieces: Highlights = []
    cursor = 0
    for sentence in sorted(sentences, key=lambda s: s["start"]):
        start, end = sentence["start"], sentence["end"]
        if start > cursor:
            pieces.append((text[cursor:start], None))
        hits = sentence["techniques"]
        top = max(hits, key=lambda h: h["confidence"])["name"] if hits else None
        pieces.append((text[start:end], top))
        cursor = max(cursor, end)
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces


def fragment_highlights(text: str, spans: list[dict[str, Any]]) -> Highlights:
    """The whole text as (fragment, label) pairs from the model's fragments. Where fragments
    overlap, each character shows its most confident technique (the details table lists all)."""
    best: list[tuple[float, str] | None] = [None] * len(text)
    for span in spans:
        for i in range(max(0, span["start"]), min(len(text), span["end"])):
            if best[i] is None or span["confidence"] > best[i][0]:
                best[i] = (span["confidence"], span["name"])
    pieces: Highlights = []
    for i, char in enumerate(text):
        label = best[i][1] if best[i] else None
        if pieces and pieces[-1][1] == label:
            pieces[-1] = (pieces[-1][0] + char, label)
        else:
            pieces.append((char, label))
    return pieces


def _evidence_words(span: dict[str, Any]) -> str:
    words = [w["text"] for cue in span.get("evidence", []) for w in cue.get("words", [])]
    return ", ".join(dict.fromkeys(words))


def _quoted(span: dict[str, Any]) -> str:
    """Whose words the fragment quotes: the speaker, "quote" when unnamed, "" when not quoted."""
    if not span.get("quoted"):
        return ""
    return span.get("speaker") or "quote"


def detail_rows(spans: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per fragment, in text order: offsets, text, technique, trait, confidence,
    who is quoted (a reporter quoting propaganda is not using it), evidence."""
    ordered = sorted(spans, key=lambda s: (s["start"], -s["confidence"]))
    return [
        [
            s["start"],
            s["end"],
            s["text"],
            s["name"],
            taxonomy.trait(s["trait"]).name,
            round(s["confidence"], 3),
            _quoted(s),
            _evidence_words(s),
        ]
        for s in ordered
    ]


def count_rows(spans: list[dict[str, Any]]) -> list[list[Any]]:
    """Fragments per technique with the top confidence, most frequent first."""
    counts: dict[str, list[Any]] = {}
    for s in spans:
        row = counts.setdefault(s["technique"], [s["name"], taxonomy.trait(s["trait"]).name, 0, 0.0])
        row[2] += 1
        row[3] = max(row[3], round(s["confidence"], 3))
    return sorted(counts.values(), key=lambda r: (-r[2], -r[3]))


def trait_scores(document: dict[str, Any], min_confidence: float) -> dict[str, float] | str:
    """Trait name -> document confidence for traits at or above ``min_confidence`` (gr.Label)."""
    scores = {
        taxonomy.trait(t).name: float(v) for t, v in document.get("traits", {}).items() if v >= min_confidence
    }
    return scores or f"No trait at confidence ≥ {min_confidence:.2f}"


def clickbait_meter(title: dict[str, Any] | None) -> dict[str, float] | str:
    """The title's clickbait score for gr.Label; a plain message when there is none."""
    score = (title or {}).get("clickbait")
    if score is None:
        return "No clickbait model" if (title or {}).get("text") else "No title"
    return {"Clickbait": float(score), "Not clickbait": round(1.0 - float(score), 4)}


def render(text: str, full: dict[str, Any], min_confidence: float, model: str) -> Outputs:
    """The UI outputs for ``full`` (a result at confidence 0) filtered at ``min_confidence``."""
    result = filter_result(full, min_confidence)
    spans = result["spans"]
    marked = fragment_highlights(text, spans) if "spans" in full else highlights(text, result["sentences"])
    flagged = sum(1 for s in result["sentences"] if s["techniques"])
    headline = (result.get("title") or {}).get("text") or ""
    plural = "" if len(spans) == 1 else "s"
    summary = (
        f"Model: {model} · {len(spans)} fragment{plural}, {flagged} of {len(result['sentences'])} "
        f"sentences flagged at confidence ≥ {min_confidence:.2f}"
        + (f" · Title scored: “{headline}”" if headline else "")
        + (f" · From `{full['source']['final_url']}`" if full.get("source") else "")
    )
    return (
        marked,
        pd.DataFrame(detail_rows(spans), columns=DETAIL_HEADERS),
        pd.DataFrame(count_rows(spans), columns=COUNT_HEADERS),
        trait_scores(result["document"], min_confidence),
        clickbait_meter(result.get("title")),
        summary,
    )


def empty_outputs(summary: str, text: str = "") -> Outputs:
    return (
        [(text, None)] if text else [],
        pd.DataFrame(columns=DETAIL_HEADERS),
        pd.DataFrame(columns=COUNT_HEADERS),
        "No result yet",
        "No title",
        summary,
    )


def shown_outputs(outputs: Outputs) -> Outputs:
    """``render``'s outputs with the highlights' legend limited to the techniques shown."""
    marked, *rest = outputs
    present = {label for _, label in marked if label}
    legend = {name: color for name, color in COLOR_MAP.items() if name in present}
    return (gr.HighlightedText(value=marked, color_map=legend), *rest)
