"""The demo's way into MindLens: the operations behind ``/analyze`` and ``POST /feedback``,
taken from the ``ServingContext`` serving hands its UI plugins.

Each demo analysis gets its own request id (the demo's Gradio calls are not /analyze
requests), so the feedback sent on it joins the recorded prediction and model version.
Feedback problems come back as ``ValueError`` with the reason the API would give.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from mindlens.feedback import FeedbackAck, FeedbackError, FeedbackIn
from mindlens.feedback.service import FeedbackMismatchError, FeedbackTooLargeError
from mindlens.serving.errors import public_message, summarise
from mindlens.serving.plugins import ServingContext
from mindlens.serving.rate_limit import RateLimitedError

ENDPOINT = "/demo"  # the metrics' and the prediction log's endpoint label for demo analyses


class DemoService:
    """``analyze``, ``submit_feedback`` and ``model_label`` as ``build_demo`` wants them."""

    def __init__(self, context: ServingContext) -> None:
        self.context = context

    @property
    def has_feedback(self) -> bool:
        return self.context.feedback is not None

    def analyze(
        self, text: str, min_confidence: float, title: str | None = None, client: str | None = None
    ) -> dict[str, Any]:
        """/analyze's code path; metrics and logs count what the API would report by default.
        ``client`` (the browser's address) counts against the API's per-address analysis limit
        (an unknown address shares one budget); over it, ValueError with the API's reason."""
        return self._as_demo(
            lambda **common: self.context.analysis.analyze(text, min_confidence, title, **common), client
        )

    def analyze_url(self, url: str, min_confidence: float, client: str | None = None) -> dict[str, Any]:
        """/analyze with a ``url``: fetch the page, extract its article and analyse it; the
        result's ``source`` holds the analysed text (the demo shows and corrects that text).
        ValueError (the API's 4xx reason) for a page that cannot be used or an address over
        its limit."""
        return self._as_demo(
            lambda **common: self.context.analysis.analyze_url(url, min_confidence, **common), client
        )

    def _as_demo(self, call: Callable[..., dict[str, Any]], client: str | None) -> dict[str, Any]:
        """Run an analysis as the demo's: its own request id (returned with the result, for
        feedback to join), the demo's endpoint label, the API's default recording threshold
        and the caller's address; a rate limit comes back as ValueError."""
        request_id = uuid.uuid4().hex
        try:
            result = call(
                endpoint=ENDPOINT,
                record_threshold=self.context.settings.serving.min_confidence,
                request_id=request_id,
                client=client or "unknown",
            )
        except RateLimitedError as err:
            raise ValueError(public_message(err)) from None
        return {**result, "request_id": request_id}

    def submit_feedback(self, payload: dict[str, Any], client: str | None = None) -> dict[str, Any]:
        """POST /feedback in-process: the acknowledgement, or ValueError with the API's reason.
        ``client`` (the browser's address) counts against POST /feedback's per-address limit,
        the same budget as the API's (an unknown address shares one budget)."""
        feedback = self.context.feedback
        if feedback is None:
            raise ValueError("feedback is not available in this demo")
        limiter = self.context.feedback_limiter
        if limiter is not None:
            try:
                limiter.check(client or "unknown")
            except RateLimitedError as err:
                raise ValueError(public_message(err)) from None
        try:
            item = FeedbackIn.model_validate(payload)
        except ValidationError as err:
            raise ValueError(summarise(err.errors())) from None
        try:
            record, created = feedback.submit(item)
        except (FeedbackError, FeedbackTooLargeError, FeedbackMismatchError) as err:
            raise ValueError(public_message(err)) from None
        return FeedbackAck.from_record(record, created).model_dump()

    def model_label(self) -> str:
        return self.context.analysis.model_label()
