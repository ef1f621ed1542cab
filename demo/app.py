"""The Gradio demo: paste a text, see which sentences use which manipulation technique.

``build_demo`` takes plain callables instead of the model store so the UI has
no serving dependencies and can be built (and tested) against any analyzer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, before import

import gradio as gr  # noqa: E402

from mindlens import taxonomy  # noqa: E402

AnalyzeFn = Callable[[str, float], dict[str, Any]]
Highlights = list[tuple[str, str | None]]

TITLE = "MindLens: spot manipulation techniques"
EXPLANATION = (
    "Paste a news paragraph or a post. MindLens marks the fragments that use a propaganda or "
    "manipulation technique (loaded language, slogans, appeals to fear, ...), each highlighted by "
    "its most likely technique. Scores are model confidences, not verdicts: read the flagged "
    "fragments yourself."
)
EXAMPLE_TEXT = (
    "The so-called experts, those globalist puppets, got it wrong again. "
    "If we do nothing, our children will grow up in a country ruled by criminals. "
    "Every true patriot will stand with us on this. "
    "The committee will publish its report on Tuesday. "
    "Make our streets safe again!"
)
COLOR_MAP = {t.name: t.color for t in taxonomy.TECHNIQUES}
TABLE_HEADERS = ["Technique", "Trait", "Score"]


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


def score_table(document: dict[str, Any]) -> list[list[Any]]:
    """Document-level technique scores, highest first."""
    rows = []
    for technique_id, score in document.get("techniques", {}).items():
        technique = taxonomy.technique(technique_id)
        rows.append([technique.name, taxonomy.trait(technique.trait).name, round(score, 3)])
    return sorted(rows, key=lambda row: row[2], reverse=True)


def build_demo(analyze: AnalyzeFn, model_label: Callable[[], str], *,
               default_min_confidence: float = 0.5) -> gr.Blocks:
    """The demo UI; ``analyze(text, min_confidence)`` returns the API's /analyze body."""

    def run(text: str, min_confidence: float) -> tuple[Highlights, list[list[Any]], str]:
        text = text or ""
        if not text.strip():
            gr.Warning("Please enter some text to analyze.")
            return [], [], f"Model: {model_label()}"
        try:
            result = analyze(text, float(min_confidence))
        except (ValueError, LookupError) as err:  # too long, no model: say so, don't crash
            gr.Warning(str(err))
            return [(text, None)], [], f"Model: {model_label()}"
        model = result.get("model") or {}
        label = f"{model.get('name', '?')} v{model.get('version', '?')}" if model else model_label()
        flagged = sum(1 for s in result["sentences"] if s["techniques"])
        summary = (f"Model: {label} · {flagged} of {len(result['sentences'])} sentences flagged "
                   f"at confidence ≥ {result['min_confidence']:.2f}")
        marked = (fragment_highlights(text, result["spans"]) if result.get("spans")
                  else highlights(text, result["sentences"]))
        return marked, score_table(result["document"]), summary

    with gr.Blocks(title="MindLens") as demo:
        gr.Markdown(f"# {TITLE}\n{EXPLANATION}")
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(value=EXAMPLE_TEXT, lines=8, label="Text",
                                  placeholder="Paste a text to analyze")
            with gr.Column(scale=1):
                min_confidence = gr.Slider(0.0, 1.0, value=default_min_confidence, step=0.05,
                                           label="Minimum confidence")
                button = gr.Button("Analyze", variant="primary")
        model_info = gr.Markdown(lambda: f"Model: {model_label()}")
        highlighted = gr.HighlightedText(label="Sentences by top technique", color_map=COLOR_MAP,
                                         show_legend=True)
        table = gr.Dataframe(headers=TABLE_HEADERS, label="Document-level technique scores",
                             interactive=False)
        button.click(run, inputs=[text, min_confidence],
                     outputs=[highlighted, table, model_info], api_name="analyze")
        # Show the example analysed on arrival, so the first screen already explains itself.
        demo.load(run, inputs=[text, min_confidence], outputs=[highlighted, table, model_info],
                  api_name=False)
    return demo
