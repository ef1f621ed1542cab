"""Submitting feedback: the one code path of ``POST /feedback`` and the UI plugins.

``FeedbackService.submit`` checks the size limits (``FeedbackTooLargeError``), joins the
feedback to its prediction by ``request_id`` in the database (the text must be the one
analysed: ``FeedbackMismatchError`` otherwise), then ``FeedbackStore.add`` (idempotent on
``client_id``; ``FeedbackConflictError`` for a reused one with other content). The store
is opened lazily and reopened after a failure, so a database outage makes feedback
unavailable (``FeedbackUnavailableError``) while analysis keeps working. The service also
records what the API answered (``record_prediction``), in the background.

HTTP status codes for these errors are the serving layer's business (``serving.errors``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from mindlens.config import Settings
from mindlens.feedback.predictions import PredictionRecord, PredictionRecorder, text_sha256
from mindlens.feedback.schemas import FeedbackIn
from mindlens.feedback.store import FeedbackRecord, FeedbackStore, FeedbackUnavailableError

log = logging.getLogger(__name__)

REOPEN_AFTER_S = 5.0  # after a failed open, fail at once for this long (no thread pile-up)
JOIN_WAIT_S = 5.0  # how long a lookup waits for predictions still being written
NO_REQUEST = "-"  # the request id outside a request: nothing to join on


class FeedbackTooLargeError(ValueError):
    """Text, corrections or comment over the configured limit."""


class FeedbackMismatchError(ValueError):
    """The text is not the one analysed under ``request_id``."""


def feedback_kind(record: FeedbackRecord) -> str:
    """What a feedback item mainly is: ``corrections``, ``judgement`` or ``comment``."""
    return "corrections" if record.corrections else ("judgement" if record.judgement else "comment")


class FeedbackService:
    """Opens the store on first use (migrating it), submits feedback and records predictions.

    ``on_created(kind)`` is told about every newly stored item, ``on_record_failure(n)``
    about predictions that could not be recorded (the serving layer counts both).
    ``record_predictions=False`` records none (``serving.prediction_log`` off): feedback
    then never learns its model, as before predictions were kept in the database.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        on_created: Callable[[str], None] | None = None,
        on_record_failure: Callable[[int], None] | None = None,
        record_predictions: bool = True,
    ) -> None:
        self.settings = settings
        self.on_created = on_created
        self.record_predictions = record_predictions
        self.recorder = PredictionRecorder(self._write_predictions, on_failure=on_record_failure)
        self._store: FeedbackStore | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    # --- the store ------------------------------------------------------------------------
    def store(self) -> FeedbackStore:
        """The open store; raises FeedbackUnavailableError, and tries again once
        ``REOPEN_AFTER_S`` has passed (so an outage does not tie up a thread per request)."""
        store = self._store
        if store is not None:
            return store
        with self._lock:
            if self._store is not None:
                return self._store
            if self._failed_at is not None and time.monotonic() - self._failed_at < REOPEN_AFTER_S:
                raise FeedbackUnavailableError("the feedback database failed to open moments ago")
            try:
                self._store = FeedbackStore(str(self.settings.feedback.database_url))
            except FeedbackUnavailableError:
                self._failed_at = time.monotonic()
                raise
            self._failed_at = None
            log.info("feedback store open: %r", self._store)
            return self._store

    @property
    def unavailable(self) -> bool:
        """True while the store failed to open (``POST /feedback`` answers 503; ``/readyz``
        reports it as degraded)."""
        return self._store is None and self._failed_at is not None

    def close(self) -> None:
        """Write the predictions still pending, then close the store."""
        self.recorder.close()
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # --- predictions ------------------------------------------------------------------------
    def record_prediction(
        self, request_id: str, endpoint: str, text: str, result: dict[str, Any], min_confidence: float = 0.0
    ) -> None:
        """Keep what was answered under ``request_id`` for the feedback join (never raises,
        never waits for the database)."""
        if not self.record_predictions or not request_id or request_id == NO_REQUEST:
            return
        try:
            record = PredictionRecord.from_result(request_id, endpoint, text, result, min_confidence)
        except (KeyError, TypeError, ValueError) as err:  # a result without the usual shape
            log.warning("prediction not recorded for the feedback join: %s: %s", type(err).__name__, err)
            return
        self.recorder.record(record)

    def _write_predictions(self, records: Sequence[PredictionRecord]) -> None:
        self.store().add_predictions(records)

    def prediction_for(self, request_id: str, text: str) -> PredictionRecord | None:
        """The prediction of ``text`` answered under ``request_id``; None when none was
        recorded (an old, unrecorded or unknown request); FeedbackMismatchError when the
        request analysed other texts only."""
        self.recorder.flush(JOIN_WAIT_S)  # an analysis a moment ago may still be on its way
        found = self.store().predictions(request_id)
        if not found:
            return None
        digest = text_sha256(text)
        for prediction in found:
            if prediction.text_sha256 == digest:
                return prediction
        raise FeedbackMismatchError(
            f"text does not match the text analysed under request_id {request_id!r}; "
            "send the same text, or leave out request_id for feedback on a free text"
        )

    # --- feedback ---------------------------------------------------------------------------
    def check_limits(self, item: FeedbackIn) -> None:
        limits = self.settings
        problems = [
            ("text", len(item.text), limits.serving.max_text_chars, "characters"),
            ("corrections", len(item.corrections), limits.feedback.max_corrections, "corrections"),
            ("comment", len(item.comment or ""), limits.feedback.max_comment_chars, "characters"),
        ]
        for field, size, limit, unit in problems:
            if size > limit:
                raise FeedbackTooLargeError(
                    f"{field} is too long: {size} {unit} received, the limit is {limit}"
                )

    def model_of(self, item: FeedbackIn) -> tuple[str | None, str | None]:
        """(name, version) of the model that analysed this text under ``request_id``, if recorded."""
        if item.request_id is None:
            return None, None
        prediction = self.prediction_for(item.request_id, item.text)
        if prediction is None:
            return None, None  # an old or unrecorded request: keep the id, the model is unknown
        return prediction.model_name, prediction.model_version or None

    def submit(self, item: FeedbackIn) -> tuple[FeedbackRecord, bool]:
        """Validate limits, join the prediction, store; returns (record, created) after commit."""
        self.check_limits(item)
        name, version = self.model_of(item)
        record, created = self.store().add(item, model_name=name, model_version=version)
        if created and self.on_created is not None:
            self.on_created(feedback_kind(record))
        return record, created
