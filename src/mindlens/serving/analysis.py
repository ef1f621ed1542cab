"""Analysing texts with the served champion: the one code path of ``/analyze``,
``/analyze/batch`` and the UI plugins (the Gradio demo).

An analysis is counted in the metrics and the drift window, written to the prediction log
(monitoring reads it) and recorded in the feedback database under its request id (feedback
joins it there). Failures the client can act on are domain errors (``TextTooLongError``,
``BatchTooLargeError``, ``BadTextError``, ``NoModelError``, and for a URL the ``UrlSourceError``s
of ``url_source``); ``serving.errors`` turns them into HTTP answers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mindlens.config import Settings
from mindlens.monitoring.drift import Observation
from mindlens.preprocessing.hygiene import check_text
from mindlens.serving.admission import Admission, DeadlineExceededError
from mindlens.serving.model_store import ModelStore
from mindlens.serving.prediction_log import PredictionLog
from mindlens.serving.rate_limit import RateLimiter
from mindlens.serving.request_id import current as current_request_id
from mindlens.serving.url_source import fetch_article

if TYPE_CHECKING:
    from mindlens.feedback.service import FeedbackService


# texts at least this long teach the per-character cost (a short text's time is mostly the
# fixed cost of a request, which would inflate the estimate of a batch of long ones)
LEARN_FROM_CHARS = 2000


class TextTooLongError(ValueError):
    """The text exceeds ``serving.max_text_chars``."""


class BatchTooLargeError(ValueError):
    """More texts than ``serving.max_batch_texts`` in one batch."""


class BatchTooSlowError(BatchTooLargeError):
    """A batch whose estimated analysis time exceeds ``serving.max_request_s`` (413: split it)."""


def analyze_text(
    store: ModelStore,
    settings: Settings,
    text: str,
    min_confidence: float | None = None,
    title: str | None = None,
    *,
    prediction_log: PredictionLog | None = None,
    feedback: FeedbackService | None = None,
    endpoint: str = "/analyze",
    record_threshold: float | None = None,
) -> dict[str, Any]:
    """Analyze with the served champion; raises NoModelError / TextTooLongError / BadTextError
    (a lone surrogate or a control character: the schemas refuse them first, the demo here)."""
    started = time.perf_counter()
    limit = settings.serving.max_text_chars
    if len(text) > limit:
        raise TextTooLongError(f"text is too long: {len(text)} characters received, the limit is {limit}")
    check_text(text, "text")
    if title is not None:
        check_text(title, "title")
    loaded = store.require()  # one snapshot: analyzer and info always match
    model_started = time.perf_counter()
    result = loaded.analyzer.analyze(
        text, min_confidence=min_confidence, title=title, quoted_weight=settings.serving.quoted_weight
    )
    model_seconds = time.perf_counter() - model_started
    info = loaded.info
    result["model"] = {"name": info.name, "version": info.version, "run_id": info.run_id}
    result["timings_ms"] = {
        **result.get("timings_ms", {}),
        "total": round((time.perf_counter() - started) * 1000, 2),
    }
    # Metrics, the log and the feedback join record what was reported (``record_threshold``:
    # a caller that asks for everything and filters itself, like the demo, names the
    # threshold that counts).
    reported = result["min_confidence"] if record_threshold is None else record_threshold
    store.metrics.count_predictions(result["sentences"], reported)
    store.metrics.count_text(endpoint, len(text), model_seconds, result["document"].get("traits", {}))
    store.metrics.drift.observe(Observation.from_result(len(text), result.get("spans", []), reported))
    if prediction_log is not None:
        prediction_log.record(endpoint, text, result, min_confidence=reported)
    if feedback is not None:  # in the background: never fails or delays the analysis
        feedback.record_prediction(current_request_id.get(), endpoint, text, result, reported)
    return result


class AnalysisService:
    """``analyze_text`` bound to what the app serves with; what routes and UI plugins call."""

    def __init__(
        self,
        store: ModelStore,
        settings: Settings,
        prediction_log: PredictionLog | None = None,
        feedback: FeedbackService | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.prediction_log = prediction_log
        self.feedback = feedback
        serving = settings.serving
        self.admission = Admission(
            serving.max_concurrent_analyses, serving.max_queued_analyses, serving.max_queue_wait_s
        )
        self.limiter = RateLimiter(serving.analyze_rate_limit_per_minute, "analysis")
        # seconds of analysis per character, a moving average over recent long texts (wall
        # time, so it grows when the cores are contended): the batch deadline's estimate
        self.seconds_per_char: float | None = None

    def analyze(
        self,
        text: str,
        min_confidence: float | None = None,
        title: str | None = None,
        *,
        endpoint: str = "/analyze",
        record_threshold: float | None = None,
        request_id: str | None = None,
        client: str | None = None,
    ) -> dict[str, Any]:
        """One text. ``request_id`` names the analysis when it is not an HTTP request of its
        own (a UI event): it is logged and recorded under that id for feedback to join.
        ``client`` (the caller's address) counts against the per-address limit (429)."""
        if client is not None:
            self.limiter.check(client)
        token = current_request_id.set(request_id) if request_id is not None else None
        try:
            with self.admission.admit(work_s=self.estimated_seconds([text])):
                return self._analyze(text, min_confidence, title, endpoint, record_threshold)
        finally:
            if token is not None:
                current_request_id.reset(token)

    def _analyze(
        self,
        text: str,
        min_confidence: float | None,
        title: str | None,
        endpoint: str,
        record_threshold: float | None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        result = analyze_text(
            self.store,
            self.settings,
            text,
            min_confidence,
            title,
            prediction_log=self.prediction_log,
            feedback=self.feedback,
            endpoint=endpoint,
            record_threshold=record_threshold,
        )
        if len(text) >= LEARN_FROM_CHARS:
            rate = (time.perf_counter() - started) / len(text)
            known = self.seconds_per_char
            self.seconds_per_char = rate if known is None else 0.9 * known + 0.1 * rate
        return result

    def analyze_url(
        self,
        url: str,
        min_confidence: float | None = None,
        title: str | None = None,
        *,
        endpoint: str = "/analyze",
        record_threshold: float | None = None,
        request_id: str | None = None,
        client: str | None = None,
    ) -> dict[str, Any]:
        """Fetch ``url``, extract its article and analyse it like a text (``title``, if given,
        replaces the page's). The answer's ``source`` says where the text came from and holds
        the analysed text (the offsets index it). Raises ``UrlSourceError`` (url_source) and
        what ``analyze`` raises; the fetch waits for no analysis slot. ``client`` counts against
        the per-address limit before anything is fetched."""
        if client is not None:
            self.limiter.check(client)
        article = fetch_article(url, self.settings.url_fetch)
        limit = self.settings.serving.max_text_chars
        if len(article.text) > limit:
            raise TextTooLongError(
                f"the article at {article.final_url} is too long: {len(article.text)} characters, "
                f"the limit is {limit}"
            )
        result = self.analyze(
            article.text,
            min_confidence,
            title or article.title,
            endpoint=endpoint,
            record_threshold=record_threshold,
            request_id=request_id,
        )
        result["source"] = article.source()
        return result

    def estimated_seconds(self, texts: list[str]) -> float | None:
        """How long analysing ``texts`` one after another should take (None: nothing measured yet)."""
        known = self.seconds_per_char
        return None if known is None else known * sum(len(text) for text in texts)

    def analyze_batch(
        self, texts: list[str], min_confidence: float | None = None, *, client: str | None = None
    ) -> list[dict[str, Any]]:
        """Several texts under one request id (at most ``serving.max_batch_texts``), done
        within ``serving.max_request_s``: refused up front when the estimate says it cannot
        be, stopped between texts when it runs past. ``client`` counts every text."""
        started = time.monotonic()
        serving = self.settings.serving
        if len(texts) > serving.max_batch_texts:
            raise BatchTooLargeError(
                f"too many texts: {len(texts)} received, the limit is {serving.max_batch_texts}"
            )
        estimate = self.estimated_seconds(texts)
        if estimate is not None and estimate > serving.max_request_s:
            raise BatchTooSlowError(
                f"this batch would take about {estimate:.0f} s, over the {serving.max_request_s:g} s "
                "limit of a request; send fewer or shorter texts per request"
            )
        if client is not None:
            self.limiter.check(client, len(texts))
        deadline = started + serving.max_request_s
        results: list[dict[str, Any]] = []
        with self.admission.admit(len(texts), estimate):  # a batch costs its size, admitted whole
            for text in texts:
                if time.monotonic() > deadline:
                    raise DeadlineExceededError(
                        f"the batch ran past the {serving.max_request_s:g} s limit of a request after "
                        f"{len(results)} of {len(texts)} texts; retry with fewer texts",
                        retry_after_s=max(1, round(serving.max_queue_wait_s / 2)),
                    )
                results.append(self._analyze(text, min_confidence, None, "/analyze/batch", None))
        return results

    def model_label(self) -> str:
        """``name vVERSION`` of the served model, or why there is none."""
        current = self.store.current
        if current is None:
            return "no champion model registered yet"
        return f"{current.info.name} v{current.info.version}"
