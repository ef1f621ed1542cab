"""What each demo event does: analyse (through the ``analyze`` callable), re-filter, load an
example or an upload, and compose and send feedback (through ``submit_feedback``).

The callables are the demo's only way to the model and the feedback store (``service``
binds them to MindLens); reader-facing problems become Gradio warnings, never errors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from mindlens import taxonomy
from mindlens.serving.admission import OverloadedError
from mindlens_demo.corrections import (
    ack_message,
    corrections_from,
    feedback_payload,
    new_pending,
    pending_summary,
    utf16_to_index,
)
from mindlens_demo.inputs import MAX_UPLOAD_BYTES, load_examples, read_upload
from mindlens_demo.render import Outputs, empty_outputs, render, shown_outputs

AnalyzeFn = Callable[..., dict[str, Any]]  # (text, min_confidence[, title=...]) -> /analyze body
AnalyzeUrlFn = Callable[[str, float], dict[str, Any]]  # (url, min_confidence) -> body with source
SubmitFn = Callable[[dict[str, Any]], dict[str, Any]]  # POST /feedback body -> acknowledgement


def accepts_title(analyze: AnalyzeFn) -> bool:
    """True if ``analyze`` takes a ``title`` keyword (or ``**kwargs``)."""
    return _accepts(analyze, "title")


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def _client(fn: Callable[..., Any], request: gr.Request | None) -> dict[str, Any]:
    """``client=`` the browser's address for an operation that takes it (the API's
    per-address limits apply to the demo too), else nothing."""
    if not _accepts(fn, "client"):
        return {}
    return {"client": request.client.host if request is not None and request.client else None}


class Callbacks:
    """The demo's event handlers, bound to the service callables and the examples."""

    def __init__(
        self,
        analyze: AnalyzeFn,
        model_label: Callable[[], str],
        *,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        submit_feedback: SubmitFn | None = None,
        analyze_url: AnalyzeUrlFn | None = None,
    ) -> None:
        self.analyze = analyze
        self.analyze_url = analyze_url
        self.model_label = model_label
        self.max_upload_bytes = max_upload_bytes
        self.submit_feedback = submit_feedback
        self.examples = load_examples()
        self.first = next(iter(self.examples))
        self.with_title = accepts_title(analyze)

    # --- analysing ------------------------------------------------------------------------
    def run(
        self,
        text: str,
        min_confidence: float,
        title: str = "",
        request: gr.Request | None = None,  # Gradio passes it: the browser's address
    ) -> Outputs:
        text = text or ""
        if not text.strip():
            gr.Warning("Please enter some text to analyze.")
            return (*empty_outputs(f"Model: {self.model_label()}"), None, new_pending())
        try:
            extra: dict[str, Any] = {"title": title.strip() or None} if self.with_title else {}
            extra |= _client(self.analyze, request)
            full = self.analyze(text, 0.0, **extra)
        except (ValueError, LookupError, OverloadedError) as err:  # too long, no model, busy: say so
            gr.Warning(str(err))
            return (*empty_outputs(f"Model: {self.model_label()}", text), None, new_pending())
        model = full.get("model") or {}
        label = f"{model.get('name', '?')} v{model.get('version', '?')}" if model else self.model_label()
        state = {"text": text, "result": full, "model": label}
        return (*shown_outputs(render(text, full, float(min_confidence), label)), state, new_pending())

    def run_url(self, url: str, min_confidence: float, request: gr.Request | None = None) -> tuple[Any, ...]:
        """Fetch and analyse a web page; the text and title boxes then hold what was analysed
        (the page's extracted article), so re-filtering and feedback work on it as on a text."""
        url = (url or "").strip()
        if self.analyze_url is None or not url:
            gr.Warning("Please enter the address of a web page (https://...).")
            return (*(gr.skip() for _ in range(8)), gr.skip(), gr.skip())
        try:
            full = self.analyze_url(url, 0.0, **_client(self.analyze_url, request))
        except (ValueError, LookupError, OverloadedError) as err:  # bad URL, no article, busy: say so
            gr.Warning(str(err))
            return (*(gr.skip() for _ in range(8)), gr.skip(), gr.skip())
        source = full["source"]
        text, title = source["text"], source.get("title") or ""
        model = full.get("model") or {}
        label = f"{model.get('name', '?')} v{model.get('version', '?')}" if model else self.model_label()
        state = {"text": text, "result": full, "model": label}
        shown = shown_outputs(render(text, full, float(min_confidence), label))
        return (*shown, state, new_pending(), text, title)

    def refilter(self, state: dict[str, Any] | None, min_confidence: float) -> Outputs:
        if not state:
            return tuple(gr.skip() for _ in range(6))
        return shown_outputs(render(state["text"], state["result"], float(min_confidence), state["model"]))

    # --- inputs ---------------------------------------------------------------------------
    def pick_example(self, name: str) -> tuple[str, str]:
        return "", self.examples.get(name) or self.examples[self.first]

    def upload(self, path: str | None) -> tuple[Any, Any]:
        if not path:
            return gr.skip(), gr.skip()
        try:
            content = read_upload(path, self.max_upload_bytes)
        except (ValueError, OSError) as err:
            gr.Warning(str(err))
            return gr.skip(), gr.skip()
        return content, ""

    # --- feedback (used only with submit_feedback) -----------------------------------------
    def pending_view(self, state: dict[str, Any] | None, pending: dict[str, Any]) -> str:
        if not state:
            return ""
        return pending_summary(state["text"], corrections_from(pending, state["result"].get("spans", [])))

    def set_verdict(
        self, state: dict[str, Any] | None, pending: dict[str, Any], verdict: str | None, key: str
    ) -> tuple[dict[str, Any], str]:
        pending = {**pending, "verdicts": {**pending["verdicts"], key: verdict}}
        return pending, self.pending_view(state, pending)

    def select_fragment(self, current: str, evt: gr.SelectData) -> tuple[Any, Any]:
        index = evt.index if isinstance(evt.index, (list, tuple)) and len(evt.index) == 2 else None
        if index is None or index[0] == index[1]:
            return gr.skip(), gr.skip()
        # The browser counts UTF-16 units; offsets here (and in /analyze) count code points.
        return utf16_to_index(current or "", int(index[0])), utf16_to_index(current or "", int(index[1]))

    def add_fragment(
        self,
        state: dict[str, Any] | None,
        pending: dict[str, Any],
        start: float | None,
        end: float | None,
        technique: str | None,
    ) -> tuple[dict[str, Any], str]:
        def refuse(message: str) -> tuple[dict[str, Any], str]:
            gr.Warning(message)
            return pending, f"⚠️ {message}\n\n{self.pending_view(state, pending)}"

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
        return pending, self.pending_view(state, pending)

    def send_feedback(
        self,
        state: dict[str, Any] | None,
        pending: dict[str, Any],
        judgement: str | None,
        comment: str | None,
        request: gr.Request | None = None,  # Gradio passes it: the browser's address
    ) -> tuple[str, dict[str, Any]]:
        if not state or self.submit_feedback is None:
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
            ack = self.submit_feedback(payload, **_client(self.submit_feedback, request))
        except ValueError as err:
            gr.Warning(str(err))
            return f"⚠️ Not stored: {err}", pending
        return ack_message(ack), {**pending, "sent": content}
