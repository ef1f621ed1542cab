"""What the API answered, kept in the feedback database so feedback joins its prediction.

Every analysed text with a request id becomes a ``PredictionRecord`` (hash and length of
the text, never the text; the served model; the spans it reported). ``FeedbackService``
looks them up by ``request_id`` to learn which model a correction is about, and the
review queue uses their spans as the model's pre-annotation.

Records are written by ``PredictionRecorder``, a background thread, so analysis never
waits for (or fails with) the feedback database: when the database is down, records
are dropped and counted, and the feedback about them is stored with the model unknown,
as for any request that was never recorded.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mindlens.feedback.models import utcnow

log = logging.getLogger(__name__)

SPAN_KEYS = ("start", "end", "technique", "confidence")


def text_sha256(text: str) -> str:
    """The hash kept of a text (here, in the prediction log and on feedback rows)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PredictionRecord:
    """One analysed text as feedback joins it (a plain value, safe to pass between threads)."""

    request_id: str
    endpoint: str
    text_sha256: str
    text_chars: int
    model_name: str | None
    model_version: str | None
    model_run_id: str | None
    spans: list[dict[str, Any]]
    document_score: float | None
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def from_result(
        cls, request_id: str, endpoint: str, text: str, result: dict[str, Any], min_confidence: float = 0.0
    ) -> PredictionRecord:
        """The record of an ``/analyze`` result: the spans it reported at ``min_confidence``."""
        model = result.get("model") or {}
        version = model.get("version")
        return cls(
            request_id=request_id,
            endpoint=endpoint,
            text_sha256=text_sha256(text),
            text_chars=len(text),
            model_name=model.get("name"),
            model_version=str(version) if version is not None else None,
            model_run_id=model.get("run_id"),
            spans=[
                {k: s[k] for k in SPAN_KEYS}
                for s in result.get("spans", [])
                if s["confidence"] >= min_confidence
            ],
            document_score=(result.get("document") or {}).get("score"),
        )

    @property
    def model(self) -> dict[str, Any]:
        return {"name": self.model_name, "version": self.model_version, "run_id": self.model_run_id}

    def analysis(self) -> dict[str, Any]:
        """The prediction in the shape of an ``/analyze`` result (spans and document score)."""
        return {"spans": self.spans, "document": {"score": self.document_score or 0.0}}


class PredictionRecorder:
    """Writes ``PredictionRecord``s in batches from a daemon thread; ``record`` never blocks.

    ``write`` stores one batch (raising on failure: the batch is dropped, logged once per
    outage and reported to ``on_failure`` with its size). At most ``max_pending`` records
    wait; more are dropped the same way. ``flush`` waits until what was recorded before it
    is written (or dropped), so a lookup right after an analysis finds it.
    """

    def __init__(
        self,
        write: Callable[[Sequence[PredictionRecord]], None],
        *,
        max_pending: int = 10_000,
        on_failure: Callable[[int], None] | None = None,
    ) -> None:
        self.write = write
        self.max_pending = max_pending
        self.on_failure = on_failure
        self._pending: list[PredictionRecord] = []
        self._recorded = 0  # records accepted so far
        self._settled = 0  # of those, written or dropped
        self._failing = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()

    def record(self, record: PredictionRecord) -> None:
        with self._cond:
            if len(self._pending) >= self.max_pending:
                self._failed(1, "too many predictions waiting to be written")
                return
            self._pending.append(record)
            self._recorded += 1
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="mindlens-predictions", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is written or dropped; False on timeout."""
        with self._cond:
            target = self._recorded
            return self._cond.wait_for(lambda: self._settled >= target, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, then stop the thread (``record`` starts a new one)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    self._thread = None
                    return
                batch, self._pending = self._pending, []
            try:
                self.write(batch)
            except Exception as err:
                with self._cond:
                    self._failed(len(batch), f"{type(err).__name__}: {err}")
            else:
                if self._failing:
                    log.info("predictions are written to the feedback database again")
                    self._failing = False
            with self._cond:
                self._settled += len(batch)
                self._cond.notify_all()

    def _failed(self, count: int, reason: str) -> None:
        if not self._failing:  # once per outage, not once per batch
            log.warning(
                "%d prediction(s) not recorded for the feedback join (%s); feedback about them "
                "is stored with the model unknown",
                count,
                reason,
            )
            self._failing = True
        if self.on_failure is not None:
            self.on_failure(count)
