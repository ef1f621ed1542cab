"""The demo's page: the Gradio blocks and which event calls which callback.

``build_demo`` takes plain callables instead of the model store so the UI has no serving
dependencies and can be built (and tested) against any analyzer. The model runs once per
text at confidence 0; the full result stays in a ``gr.State`` and the confidence slider
re-filters it without calling the model.

With a ``submit_feedback`` callable (the app passes the code path of ``POST /feedback``),
every shown fragment gets a control to confirm, remove or relabel it; a missed fragment can
be added (select it in the text box), and a whole-text judgement and comment sent. Choices
wait in a ``gr.State`` until "Send feedback"; the acknowledgement names the stored feedback id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from mindlens_demo.callbacks import AnalyzeFn, AnalyzeUrlFn, Callbacks, SubmitFn
from mindlens_demo.corrections import JUDGEMENTS, TECHNIQUE_CHOICES, new_pending, span_key, verdict_choices
from mindlens_demo.inputs import MAX_UPLOAD_BYTES
from mindlens_demo.render import COLOR_MAP, COUNT_HEADERS, DETAIL_HEADERS, filter_result

TITLE = "MindLens: spot manipulation techniques"
EXPLANATION = (
    "Paste a news paragraph or a post, give a web page's address, upload a `.txt` file, or pick an "
    "example. MindLens marks "
    "the fragments that use a propaganda or manipulation technique (loaded language, slogans, "
    "appeals to fear, ...), each coloured by its technique. Scores are model confidences, not "
    "verdicts: read the flagged fragments yourself."
)
# Gradio breaks highlighted text anywhere (``word-break: break-all``); wrap at words instead.
# Injected with a gr.HTML block because mount_gradio_app, not Blocks, owns the page's css.
CSS = (
    "<style>#ml-highlights .text { word-break: normal; overflow-wrap: anywhere; }"
    " .ml-span { flex-wrap: wrap; } .ml-span > * { min-width: min(100%, 240px) !important; }"
    "</style>"
)


def build_demo(
    analyze: AnalyzeFn,
    model_label: Callable[[], str],
    *,
    default_min_confidence: float = 0.5,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    submit_feedback: SubmitFn | None = None,
    analyze_url: AnalyzeUrlFn | None = None,
) -> gr.Blocks:
    """The demo UI; ``analyze(text, min_confidence[, title=...])`` returns the /analyze body,
    ``analyze_url(url, min_confidence)`` the body for a web page (no URL box without it) and
    ``submit_feedback(body)`` stores a /feedback body (no feedback controls without it)."""
    on = Callbacks(
        analyze,
        model_label,
        max_upload_bytes=max_upload_bytes,
        submit_feedback=submit_feedback,
        analyze_url=analyze_url,
    )
    examples, first, with_title = on.examples, on.first, on.with_title

    with gr.Blocks(title="MindLens") as demo:
        gr.HTML(CSS, js_on_load=None)
        gr.Markdown(f"# {TITLE}\n{EXPLANATION}")
        if analyze_url is not None:
            with gr.Row():
                url = gr.Textbox(
                    label="Or a web page: MindLens fetches it and analyses its article",
                    placeholder="https://example.org/news/article",
                    scale=4,
                    elem_id="ml-url",
                )
                fetch = gr.Button("Fetch and analyze", scale=1, elem_id="ml-fetch")
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
            _feedback_section(on, state, pending, text, min_confidence)

        shown = [highlighted, details, counts, traits, clickbait, summary]
        inputs = [text, min_confidence, title]
        analysed = [*shown, state, pending]
        button.click(on.run, inputs=inputs, outputs=analysed, api_name="analyze")
        if analyze_url is not None:
            url_inputs = [url, min_confidence]
            url_outputs = [*analysed, text, title]
            fetch.click(on.run_url, inputs=url_inputs, outputs=url_outputs, api_name="analyze_url")
            url.submit(on.run_url, inputs=url_inputs, outputs=url_outputs, api_name=False)
        min_confidence.change(
            on.refilter,
            inputs=[state, min_confidence],
            outputs=shown,
            api_name="filter",
            show_progress="hidden",
        )
        example.input(on.pick_example, inputs=example, outputs=[title, text], api_name="load_example").then(
            on.run, inputs=inputs, outputs=analysed, api_name=False
        )
        file.upload(on.upload, inputs=file, outputs=[text, title], api_name=False)
        # Show the first example analysed on arrival, so the first screen already explains itself.
        demo.load(on.run, inputs=inputs, outputs=analysed, api_name=False)
    return demo


def _feedback_section(
    on: Callbacks, state: gr.State, pending: gr.State, text: gr.Textbox, min_confidence: gr.Slider
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
                    lambda a, p, v, key=key: on.set_verdict(a, p, v, key),
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
        on.select_fragment, inputs=text, outputs=[add_start, add_end], api_name=False, show_progress="hidden"
    )
    add_button.click(
        on.add_fragment,
        inputs=[state, pending, add_start, add_end, add_technique],
        outputs=[pending, pending_md],
        api_name="add_fragment",
    )
    send.click(
        on.send_feedback,
        inputs=[state, pending, judgement, comment],
        outputs=[ack, pending],
        api_name="feedback",
    )
    state.change(
        lambda a, p: (on.pending_view(a, p), ""),
        inputs=[state, pending],
        outputs=[pending_md, ack],
        api_name=False,
        show_progress="hidden",
    )
