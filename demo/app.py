"""The Gradio demo: paste, upload or pick a text; see which fragments use which technique.

``build_demo`` takes plain callables instead of the model store so the UI has
no serving dependencies and can be built (and tested) against any analyzer.
The model runs once per text at confidence 0; the full result stays in a
``gr.State`` and the confidence slider re-filters it without calling the model.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, before import

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from mindlens import taxonomy  # noqa: E402

AnalyzeFn = Callable[..., dict[str, Any]]  # (text, min_confidence[, title=...]) -> /analyze body
Highlights = list[tuple[str, str | None]]
Outputs = tuple[Any, ...]

TITLE = "MindLens: spot manipulation techniques"
EXPLANATION = (
    "Paste a news paragraph or a post, upload a `.txt` file, or pick an example. MindLens marks "
    "the fragments that use a propaganda or manipulation technique (loaded language, slogans, "
    "appeals to fear, ...), each coloured by its technique. Scores are model confidences, not "
    "verdicts: read the flagged fragments yourself."
)
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
MAX_UPLOAD_BYTES = 200_000
COLOR_MAP = {t.name: t.color for t in taxonomy.TECHNIQUES}
DETAIL_HEADERS = ["Start", "End", "Fragment", "Technique", "Trait", "Confidence", "Evidence"]
# Gradio breaks highlighted text anywhere (``word-break: break-all``); wrap at words instead.
# Injected with a gr.HTML block because mount_gradio_app, not Blocks, owns the page's css.
CSS = "<style>#ml-highlights .text { word-break: normal; overflow-wrap: anywhere; }</style>"
COUNT_HEADERS = ["Technique", "Trait", "Fragments", "Top confidence"]
FALLBACK_EXAMPLE = (
    "The so-called experts, those globalist puppets, got it wrong again. "
    "If we do nothing, our children will grow up in a country ruled by criminals. "
    "Every true patriot will stand with us on this. "
    "The committee will publish its report on Tuesday. "
    "Make our streets safe again!"
)


# --- inputs ---------------------------------------------------------------------------
def load_examples(folder: Path = EXAMPLES_DIR) -> dict[str, str]:
    """Example articles by display name; each opens with its headline (the default title)."""
    examples = {path.stem.replace("_", " ").capitalize(): path.read_text(encoding="utf-8").strip()
                for path in sorted(folder.glob("*.txt"))}
    return examples or {"Example": FALLBACK_EXAMPLE}


def read_upload(path: str | Path, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """An uploaded file's text; ValueError (with a reader-facing message) if too big or not UTF-8."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path.name} is too big: {size:,} bytes, the limit is {max_bytes:,} bytes.")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text: save it as UTF-8 plain text "
                         "and upload it again.") from None


# --- filtering and rendering (pure) ---------------------------------------------------
def filter_result(result: dict[str, Any], min_confidence: float) -> dict[str, Any]:
    """The result as the model would answer at ``min_confidence``: spans and sentence
    techniques below it are dropped; document, title and signals are kept."""
    sentences = [{**s, "techniques": [h for h in s["techniques"] if h["confidence"] >= min_confidence]}
                 for s in result.get("sentences", [])]
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


def detail_rows(spans: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per fragment, in text order: offsets, text, technique, trait, confidence, evidence."""
    ordered = sorted(spans, key=lambda s: (s["start"], -s["confidence"]))
    return [[s["start"], s["end"], s["text"], s["name"], taxonomy.trait(s["trait"]).name,
             round(s["confidence"], 3), _evidence_words(s)] for s in ordered]


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
    scores = {taxonomy.trait(t).name: float(v) for t, v in document.get("traits", {}).items()
              if v >= min_confidence}
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
    marked = (fragment_highlights(text, spans) if "spans" in full
              else highlights(text, result["sentences"]))
    flagged = sum(1 for s in result["sentences"] if s["techniques"])
    headline = (result.get("title") or {}).get("text") or ""
    plural = "" if len(spans) == 1 else "s"
    summary = (f"Model: {model} · {len(spans)} fragment{plural}, {flagged} of {len(result['sentences'])} "
               f"sentences flagged at confidence ≥ {min_confidence:.2f}"
               + (f" · Title scored: “{headline}”" if headline else ""))
    return (marked, pd.DataFrame(detail_rows(spans), columns=DETAIL_HEADERS),
            pd.DataFrame(count_rows(spans), columns=COUNT_HEADERS),
            trait_scores(result["document"], min_confidence), clickbait_meter(result.get("title")),
            summary)


def empty_outputs(summary: str, text: str = "") -> Outputs:
    return ([(text, None)] if text else [], pd.DataFrame(columns=DETAIL_HEADERS),
            pd.DataFrame(columns=COUNT_HEADERS), "No result yet", "No title", summary)


def shown_outputs(outputs: Outputs) -> Outputs:
    """``render``'s outputs with the highlights' legend limited to the techniques shown."""
    marked, *rest = outputs
    present = {label for _, label in marked if label}
    legend = {name: color for name, color in COLOR_MAP.items() if name in present}
    return (gr.HighlightedText(value=marked, color_map=legend), *rest)


def accepts_title(analyze: AnalyzeFn) -> bool:
    """True if ``analyze`` takes a ``title`` keyword (or ``**kwargs``)."""
    try:
        params = inspect.signature(analyze).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "title" or p.kind is p.VAR_KEYWORD for p in params)


# --- the UI ---------------------------------------------------------------------------
def build_demo(analyze: AnalyzeFn, model_label: Callable[[], str], *,
               default_min_confidence: float = 0.5,
               max_upload_bytes: int = MAX_UPLOAD_BYTES) -> gr.Blocks:
    """The demo UI; ``analyze(text, min_confidence[, title=...])`` returns the /analyze body."""
    examples = load_examples()
    first = next(iter(examples))
    with_title = accepts_title(analyze)

    def run(text: str, min_confidence: float, title: str = "") -> Outputs:
        text = text or ""
        if not text.strip():
            gr.Warning("Please enter some text to analyze.")
            return (*empty_outputs(f"Model: {model_label()}"), None)
        try:
            extra = {"title": title.strip() or None} if with_title else {}
            full = analyze(text, 0.0, **extra)
        except (ValueError, LookupError) as err:  # too long, no model: say so, don't crash
            gr.Warning(str(err))
            return (*empty_outputs(f"Model: {model_label()}", text), None)
        model = full.get("model") or {}
        label = f"{model.get('name', '?')} v{model.get('version', '?')}" if model else model_label()
        state = {"text": text, "result": full, "model": label}
        return (*shown_outputs(render(text, full, float(min_confidence), label)), state)

    def refilter(state: dict[str, Any] | None, min_confidence: float) -> Outputs:
        if not state:
            return tuple(gr.skip() for _ in range(6))
        return shown_outputs(render(state["text"], state["result"], float(min_confidence),
                                    state["model"]))

    def pick_example(name: str) -> tuple[str, str]:
        return "", examples.get(name) or examples[first]

    def upload(path: str | None) -> tuple[Any, Any]:
        if not path:
            return gr.skip(), gr.skip()
        try:
            content = read_upload(path, max_upload_bytes)
        except (ValueError, OSError) as err:
            gr.Warning(str(err))
            return gr.skip(), gr.skip()
        return content, ""

    with gr.Blocks(title="MindLens") as demo:
        gr.HTML(CSS, js_on_load=None)
        gr.Markdown(f"# {TITLE}\n{EXPLANATION}")
        with gr.Row():
            with gr.Column(scale=3):
                title = gr.Textbox(value="", label="Title (optional)",
                                   placeholder="Headline; default: the text's first line",
                                   visible=with_title, elem_id="ml-title")
                text = gr.Textbox(value=examples[first], lines=8, label="Text",
                                  placeholder="Paste a text to analyze", elem_id="ml-text")
            with gr.Column(scale=1, min_width=240):
                example = gr.Dropdown(list(examples), value=first, label="Example article",
                                      elem_id="ml-example")
                file = gr.File(label=f".txt file (UTF-8, up to {max_upload_bytes // 1000} kB)",
                               file_types=[".txt"], type="filepath", height=120, elem_id="ml-file")
                button = gr.Button("Analyze", variant="primary", elem_id="ml-analyze")
                min_confidence = gr.Slider(0.0, 1.0, value=default_min_confidence, step=0.05,
                                           label="Minimum confidence (filters live)",
                                           elem_id="ml-slider")
        summary = gr.Markdown(lambda: f"Model: {model_label()}", elem_id="ml-summary")
        highlighted = gr.HighlightedText(label="Fragments by technique (overlaps: most confident)",
                                         color_map=COLOR_MAP, show_legend=True,
                                         elem_id="ml-highlights")
        with gr.Row():
            traits = gr.Label(label="Traits (document confidence)", num_top_classes=6,
                              elem_id="ml-traits")
            clickbait = gr.Label(label="Title clickbait meter", elem_id="ml-clickbait")
        counts = gr.Dataframe(headers=COUNT_HEADERS, label="Fragments per technique",
                              interactive=False, elem_id="ml-counts")
        details = gr.Dataframe(headers=DETAIL_HEADERS, label="Every fragment",
                               interactive=False, wrap=True, elem_id="ml-details")
        state = gr.State(None)

        shown = [highlighted, details, counts, traits, clickbait, summary]
        inputs = [text, min_confidence, title]
        button.click(run, inputs=inputs, outputs=[*shown, state], api_name="analyze")
        min_confidence.change(refilter, inputs=[state, min_confidence], outputs=shown,
                              api_name="filter", show_progress="hidden")
        example.input(pick_example, inputs=example, outputs=[title, text],
                      api_name="load_example").then(run, inputs=inputs, outputs=[*shown, state],
                                                    api_name=False)
        file.upload(upload, inputs=file, outputs=[text, title], api_name=False)
        # Show the first example analysed on arrival, so the first screen already explains itself.
        demo.load(run, inputs=inputs, outputs=[*shown, state], api_name=False)
    return demo
