"""The Gradio demo: paste, upload or pick a text; see which fragments use which technique.

``build_demo`` takes plain callables instead of the model store so the UI has
no serving dependencies and can be built (and tested) against any analyzer.
The model runs once per text at confidence 0; the full result stays in a
``gr.State`` and the confidence slider re-filters it without calling the model.

With a ``submit_feedback`` callable (the app passes the code path of
``POST /feedback``), every shown fragment gets a control to confirm, remove or
relabel it; a missed fragment can be added (select it in the text box), and a
whole-text judgement and comment sent. Choices wait in a ``gr.State`` until
"Send feedback"; the acknowledgement names the stored feedback id.
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, before import

import gradio as gr
import pandas as pd

from mindlens import taxonomy

AnalyzeFn = Callable[..., dict[str, Any]]  # (text, min_confidence[, title=...]) -> /analyze body
SubmitFn = Callable[[dict[str, Any]], dict[str, Any]]  # POST /feedback body -> acknowledgement
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
CSS = (
    "<style>#ml-highlights .text { word-break: normal; overflow-wrap: anywhere; }"
    " .ml-span { flex-wrap: wrap; } .ml-span > * { min-width: min(100%, 240px) !important; }"
    "</style>"
)
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
    examples = {
        path.stem.replace("_", " ").capitalize(): path.read_text(encoding="utf-8").strip()
        for path in sorted(folder.glob("*.txt"))
    }
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
        raise ValueError(
            f"{path.name} is not UTF-8 text: save it as UTF-8 plain text and upload it again."
        ) from None


# --- filtering and rendering (pure) ---------------------------------------------------
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


def detail_rows(spans: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per fragment, in text order: offsets, text, technique, trait, confidence, evidence."""
    ordered = sorted(spans, key=lambda s: (s["start"], -s["confidence"]))
    return [
        [
            s["start"],
            s["end"],
            s["text"],
            s["name"],
            taxonomy.trait(s["trait"]).name,
            round(s["confidence"], 3),
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


def accepts_title(analyze: AnalyzeFn) -> bool:
    """True if ``analyze`` takes a ``title`` keyword (or ``**kwargs``)."""
    try:
        params = inspect.signature(analyze).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "title" or p.kind is p.VAR_KEYWORD for p in params)


# --- feedback (pure) ------------------------------------------------------------------
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


# --- the UI ---------------------------------------------------------------------------
def build_demo(
    analyze: AnalyzeFn,
    model_label: Callable[[], str],
    *,
    default_min_confidence: float = 0.5,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    submit_feedback: SubmitFn | None = None,
) -> gr.Blocks:
    """The demo UI; ``analyze(text, min_confidence[, title=...])`` returns the /analyze body and
    ``submit_feedback(body)`` stores a /feedback body (no feedback controls without it)."""
    examples = load_examples()
    first = next(iter(examples))
    with_title = accepts_title(analyze)

    def run(text: str, min_confidence: float, title: str = "") -> Outputs:
        text = text or ""
        if not text.strip():
            gr.Warning("Please enter some text to analyze.")
            return (*empty_outputs(f"Model: {model_label()}"), None, new_pending())
        try:
            extra = {"title": title.strip() or None} if with_title else {}
            full = analyze(text, 0.0, **extra)
        except (ValueError, LookupError) as err:  # too long, no model: say so, don't crash
            gr.Warning(str(err))
            return (*empty_outputs(f"Model: {model_label()}", text), None, new_pending())
        model = full.get("model") or {}
        label = f"{model.get('name', '?')} v{model.get('version', '?')}" if model else model_label()
        state = {"text": text, "result": full, "model": label}
        return (*shown_outputs(render(text, full, float(min_confidence), label)), state, new_pending())

    # --- feedback handlers (used only with submit_feedback) ---
    def pending_view(state: dict[str, Any] | None, pending: dict[str, Any]) -> str:
        if not state:
            return ""
        return pending_summary(state["text"], corrections_from(pending, state["result"].get("spans", [])))

    def set_verdict(
        state: dict[str, Any] | None, pending: dict[str, Any], verdict: str | None, key: str
    ) -> tuple[dict[str, Any], str]:
        pending = {**pending, "verdicts": {**pending["verdicts"], key: verdict}}
        return pending, pending_view(state, pending)

    def select_fragment(current: str, evt: gr.SelectData) -> tuple[Any, Any]:
        index = evt.index if isinstance(evt.index, (list, tuple)) and len(evt.index) == 2 else None
        if index is None or index[0] == index[1]:
            return gr.skip(), gr.skip()
        # The browser counts UTF-16 units; offsets here (and in /analyze) count code points.
        return utf16_to_index(current or "", int(index[0])), utf16_to_index(current or "", int(index[1]))

    def add_fragment(
        state: dict[str, Any] | None,
        pending: dict[str, Any],
        start: float | None,
        end: float | None,
        technique: str | None,
    ) -> tuple[dict[str, Any], str]:
        def refuse(message: str) -> tuple[dict[str, Any], str]:
            gr.Warning(message)
            return pending, f"⚠️ {message}\n\n{pending_view(state, pending)}"

        if not state:
            return refuse("Analyze a text first, then add the fragments the model missed.")
        length = len(state["text"])
        if start is None or end is None or not 0 <= int(start) < int(end) <= length:
            return refuse(f"Select the missed fragment in the text box, or give 0 ≤ start < end ≤ {length}.")
        if technique not in taxonomy.TECHNIQUE_IDS:
            return refuse("Pick the technique the missed fragment uses.")
        added = {"action": "add", "start": int(start), "end": int(end), "technique": technique}
        if added not in pending["added"]:
            pending = {**pending, "added": [*pending["added"], added]}
        return pending, pending_view(state, pending)

    def send_feedback(
        state: dict[str, Any] | None, pending: dict[str, Any], judgement: str | None, comment: str | None
    ) -> tuple[str, dict[str, Any]]:
        if not state or submit_feedback is None:
            gr.Warning("Analyze a text first, then send your feedback on it.")
            return "⚠️ Analyze a text first, then send your feedback on it.", pending
        payload = feedback_payload(state, pending, judgement, comment)
        content = {k: v for k, v in payload.items() if k != "client_id"}
        if pending["sent"] is not None and pending["sent"] != content:
            pending = {**new_pending(), "verdicts": pending["verdicts"], "added": pending["added"]}
            payload["client_id"] = pending["client_id"]  # new content: new feedback, new id
        if not payload["corrections"] and not payload["judgement"] and not payload["comment"]:
            message = "Nothing to send yet: mark a fragment, add one, or give a judgement or comment."
            gr.Warning(message)
            return f"⚠️ {message}", pending
        try:
            ack = submit_feedback(payload)
        except ValueError as err:
            gr.Warning(str(err))
            return f"⚠️ Not stored: {err}", pending
        return ack_message(ack), {**pending, "sent": content}

    def refilter(state: dict[str, Any] | None, min_confidence: float) -> Outputs:
        if not state:
            return tuple(gr.skip() for _ in range(6))
        return shown_outputs(render(state["text"], state["result"], float(min_confidence), state["model"]))

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
                title = gr.Textbox(
                    value="",
                    label="Title (optional)",
                    placeholder="Headline; default: the text's first line",
                    visible=with_title,
                    elem_id="ml-title",
                )
                text = gr.Textbox(
                    value=examples[first],
                    lines=8,
                    label="Text",
                    placeholder="Paste a text to analyze",
                    elem_id="ml-text",
                )
            with gr.Column(scale=1, min_width=240):
                example = gr.Dropdown(
                    list(examples), value=first, label="Example article", elem_id="ml-example"
                )
                file = gr.File(
                    label=f".txt file (UTF-8, up to {max_upload_bytes // 1000} kB)",
                    file_types=[".txt"],
                    type="filepath",
                    height=120,
                    elem_id="ml-file",
                )
                button = gr.Button("Analyze", variant="primary", elem_id="ml-analyze")
                min_confidence = gr.Slider(
                    0.0,
                    1.0,
                    value=default_min_confidence,
                    step=0.05,
                    label="Minimum confidence (filters live)",
                    elem_id="ml-slider",
                )
        summary = gr.Markdown(lambda: f"Model: {model_label()}", elem_id="ml-summary")
        highlighted = gr.HighlightedText(
            label="Fragments by technique (overlaps: most confident)",
            color_map=COLOR_MAP,
            show_legend=True,
            elem_id="ml-highlights",
        )
        with gr.Row():
            traits = gr.Label(label="Traits (document confidence)", num_top_classes=6, elem_id="ml-traits")
            clickbait = gr.Label(label="Title clickbait meter", elem_id="ml-clickbait")
        counts = gr.Dataframe(
            headers=COUNT_HEADERS, label="Fragments per technique", interactive=False, elem_id="ml-counts"
        )
        details = gr.Dataframe(
            headers=DETAIL_HEADERS, label="Every fragment", interactive=False, wrap=True, elem_id="ml-details"
        )
        state = gr.State(None)
        pending = gr.State(new_pending())  # replaced by a fresh one (new client_id) on every analysis
        if submit_feedback is not None:
            _feedback_section(
                state,
                pending,
                text,
                min_confidence,
                set_verdict,
                select_fragment,
                add_fragment,
                send_feedback,
                pending_view,
            )

        shown = [highlighted, details, counts, traits, clickbait, summary]
        inputs = [text, min_confidence, title]
        analysed = [*shown, state, pending]
        button.click(run, inputs=inputs, outputs=analysed, api_name="analyze")
        min_confidence.change(
            refilter, inputs=[state, min_confidence], outputs=shown, api_name="filter", show_progress="hidden"
        )
        example.input(pick_example, inputs=example, outputs=[title, text], api_name="load_example").then(
            run, inputs=inputs, outputs=analysed, api_name=False
        )
        file.upload(upload, inputs=file, outputs=[text, title], api_name=False)
        # Show the first example analysed on arrival, so the first screen already explains itself.
        demo.load(run, inputs=inputs, outputs=analysed, api_name=False)
    return demo


def _feedback_section(
    state: gr.State,
    pending: gr.State,
    text: gr.Textbox,
    min_confidence: gr.Slider,
    set_verdict: Callable[..., Any],
    select_fragment: Callable[..., Any],
    add_fragment: Callable[..., Any],
    send_feedback: Callable[..., Any],
    pending_view: Callable[..., str],
) -> None:
    """Per-fragment verdicts, missed fragments, judgement and comment, and the send button."""
    with gr.Group(elem_id="ml-feedback"):
        gr.Markdown(
            "### Is MindLens right?\nConfirm or correct each fragment below, add one it "
            "missed (select it in the text box above), then send. Your feedback is stored "
            "with the text to review and improve the model.",
            padding=True,
        )

        @gr.render(
            inputs=[state, min_confidence, pending],
            triggers=[state.change, min_confidence.change],
            show_progress="hidden",
        )
        def span_controls(analysis: dict[str, Any] | None, threshold: float, choices: dict[str, Any]) -> None:
            if not analysis:
                gr.Markdown("Analyze a text to review its fragments.", padding=True)
                return
            spans = sorted(
                filter_result(analysis["result"], float(threshold))["spans"],
                key=lambda s: (s["start"], -s["confidence"]),
            )
            if not spans:
                gr.Markdown(f"No fragment at confidence ≥ {float(threshold):.2f}.", padding=True)
                return
            for i, span in enumerate(spans):
                key = span_key(span)
                fragment = span["text"] if len(span["text"]) <= 120 else span["text"][:117] + "…"
                verdict = gr.Dropdown(
                    verdict_choices(span["technique"]),
                    value=choices["verdicts"].get(key),
                    label=f"{i + 1}. {span['name']} ({span['confidence']:.2f}): “{fragment}” Right?",
                    key=f"verdict-{choices['client_id']}-{key}",
                    elem_id=f"ml-verdict-{i}",
                    elem_classes="ml-verdict",
                    filterable=False,
                )
                verdict.input(
                    lambda a, p, v, key=key: set_verdict(a, p, v, key),
                    inputs=[state, pending, verdict],
                    outputs=[pending, pending_md],
                    api_name=False,
                    show_progress="hidden",
                )

        with gr.Row(elem_classes="ml-span"):
            add_start = gr.Number(
                None, label="Missed fragment: start", precision=0, minimum=0, elem_id="ml-add-start"
            )
            add_end = gr.Number(None, label="end", precision=0, minimum=0, elem_id="ml-add-end")
            add_technique = gr.Dropdown(
                TECHNIQUE_CHOICES, value=None, label="Technique", elem_id="ml-add-technique"
            )
            add_button = gr.Button("Add fragment", elem_id="ml-add")
        pending_md = gr.Markdown("", elem_id="ml-feedback-pending", padding=True)
        judgement = gr.Radio(JUDGEMENTS, value=None, label="The whole text is…", elem_id="ml-judgement")
        comment = gr.Textbox(label="Comment (optional)", lines=2, max_lines=6, elem_id="ml-comment")
        send = gr.Button("Send feedback", variant="primary", elem_id="ml-send")
        ack = gr.Markdown("", elem_id="ml-feedback-ack", padding=True)

    text.select(
        select_fragment, inputs=text, outputs=[add_start, add_end], api_name=False, show_progress="hidden"
    )
    add_button.click(
        add_fragment,
        inputs=[state, pending, add_start, add_end, add_technique],
        outputs=[pending, pending_md],
        api_name="add_fragment",
    )
    send.click(
        send_feedback,
        inputs=[state, pending, judgement, comment],
        outputs=[ack, pending],
        api_name="feedback",
    )
    state.change(
        lambda a, p: (pending_view(a, p), ""),
        inputs=[state, pending],
        outputs=[pending_md, ack],
        api_name=False,
        show_progress="hidden",
    )
