"""``POST /feedback``: users confirm or correct a prediction; stored durably, acknowledged after commit.

``FeedbackService.submit`` is the one code path for the API and the demo: size
limits (413), the join to the prediction log by request id (the text must be the
one analysed: 422 otherwise), then ``FeedbackStore.add`` (idempotent on
``client_id``: 201 new, 200 replay, 409 reuse with other content). The store is
opened lazily and reopened after a failure, so a database outage answers 503
for feedback while analysis keeps working.

Feedback is public like ``/analyze`` (no API key), so it is bounded: text,
corrections and comment sizes, and a per-client-address rate limit
(``feedback.rate_limit_per_minute``). Reading stored feedback back
(``GET /feedback/{id}``) needs the admin key when ``serving.admin_token`` is set.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from mindlens.config import Settings
from mindlens.feedback.schemas import FeedbackAck, FeedbackIn, FeedbackOut
from mindlens.feedback.store import (
    FeedbackConflictError,
    FeedbackRecord,
    FeedbackStore,
    FeedbackUnavailableError,
    text_sha256,
)
from mindlens.serving.metrics import Metrics
from mindlens.serving.rate_limit import RateLimiter
from mindlens.serving.schemas import ErrorResponse

log = logging.getLogger(__name__)

UNAVAILABLE = "the feedback store is unavailable right now; nothing was stored, please try again later"
PREDICTION_LOG_SCAN_BYTES = 64 * 1024 * 1024  # how far back a request id is looked up
REOPEN_AFTER_S = 5.0  # after a failed open, answer 503 at once for this long (no thread pile-up)


class FeedbackTooLargeError(ValueError):
    """Text, corrections or comment over the configured limit (413)."""


class FeedbackMismatchError(ValueError):
    """The text is not the one analysed under ``request_id`` (422)."""


# --- the prediction log join ------------------------------------------------------------
def find_predictions(
    path: Path | None, request_id: str, max_bytes: int = PREDICTION_LOG_SCAN_BYTES
) -> list[dict[str, Any]]:
    """Prediction-log entries with ``request_id`` (a batch logs several), newest first.

    Reads the log backwards in blocks, at most ``max_bytes`` from its end, so a
    lookup costs little however long the log has grown.
    """
    if path is None or not path.is_file():
        return []
    needle = request_id.encode()
    found: list[dict[str, Any]] = []
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        position = end = handle.tell()
        carry = b""
        while position > 0 and end - position < max_bytes:
            size = min(1 << 20, position)
            position -= size
            handle.seek(position)
            block = handle.read(size) + carry
            lines = block.split(b"\n")
            carry = lines.pop(0) if position > 0 else b""  # maybe a partial line: keep for the next block
            for line in reversed(lines):
                if needle in line:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if entry.get("request_id") == request_id:
                        found.append(entry)
            if found and position > 0 and needle not in carry:
                break  # a request's lines are written together: no older ones further back
    return found


# --- the core operation shared by the API and the demo ------------------------------------
class FeedbackService:
    """Opens the store on first use (migrating it) and submits feedback through it."""

    def __init__(self, settings: Settings, metrics: Metrics, prediction_log_path: Path | None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.prediction_log_path = prediction_log_path
        self._store: FeedbackStore | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

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

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

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
        """(name, version) of the model that analysed this text under ``request_id``, if logged."""
        if item.request_id is None:
            return None, None
        entries = find_predictions(self.prediction_log_path, item.request_id)
        if not entries:
            return None, None  # an old or unlogged request: keep the id, the model is unknown
        digest = text_sha256(item.text)
        for entry in entries:
            if entry.get("text_sha256") == digest:
                model = entry.get("model") or {}
                return model.get("name"), (str(model["version"]) if model.get("version") else None)
        raise FeedbackMismatchError(
            f"text does not match the text analysed under request_id {item.request_id!r}; "
            "send the same text, or leave out request_id for feedback on a free text"
        )

    def submit(
        self, item: FeedbackIn, *, model: tuple[str | None, str | None] | None = None
    ) -> tuple[FeedbackRecord, bool]:
        """Validate limits, join the prediction, store; returns (record, created) after commit."""
        self.check_limits(item)
        name, version = self.model_of(item)
        if name is None and model is not None:
            name, version = model
        record, created = self.store().add(item, model_name=name, model_version=version)
        if created:
            kind = "corrections" if record.corrections else ("judgement" if record.judgement else "comment")
            self.metrics.feedback.labels(kind=kind).inc()
        return record, created


def ack(record: FeedbackRecord, created: bool) -> FeedbackAck:
    model = (
        {"name": record.model_name or "", "version": record.model_version or ""}
        if record.model_name or record.model_version
        else None
    )
    return FeedbackAck(
        id=record.id,
        client_id=record.client_id,
        created=created,
        status=record.status,
        request_id=record.request_id,
        model=model,
        created_at=record.created_at.isoformat(),
        corrections=len(record.corrections),
    )


# --- HTTP -----------------------------------------------------------------------------------
@contextmanager
def feedback_http_errors(metrics: Metrics) -> Iterator[None]:
    """The service's failures as 4xx/503 with the reason (and counted); never a stack trace."""
    try:
        yield
    except FeedbackTooLargeError as err:
        metrics.errors.labels(type="payload_too_large").inc()
        raise HTTPException(413, str(err)) from None
    except FeedbackMismatchError as err:
        metrics.errors.labels(type="validation").inc()
        raise HTTPException(422, str(err)) from None
    except FeedbackConflictError as err:
        metrics.errors.labels(type="feedback_conflict").inc()
        raise HTTPException(409, str(err)) from None
    except FeedbackUnavailableError:
        metrics.errors.labels(type="feedback_unavailable").inc()
        raise HTTPException(503, UNAVAILABLE, headers={"Retry-After": "30"}) from None


def feedback_router(service: FeedbackService, require_admin: Callable[..., None]) -> APIRouter:
    """``POST /feedback`` (public, rate- and size-limited) and ``GET /feedback/{id}`` (admin)."""
    router = APIRouter(tags=["feedback"])
    metrics = service.metrics
    limiter = RateLimiter(service.settings.feedback.rate_limit_per_minute, "feedback")

    @router.post(
        "/feedback",
        status_code=201,
        response_model=FeedbackAck,
        responses={
            200: {
                "model": FeedbackAck,
                "description": "A replay: this client_id is already stored with the same content.",
            },
            409: {"model": ErrorResponse, "description": "client_id reused for other content."},
            413: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
            429: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
        },
    )
    def post_feedback(body: FeedbackIn, request: Request, response: Response) -> FeedbackAck:
        """Confirm or correct a prediction (by request_id) or give feedback on any text:
        span corrections (confirm, add, remove, relabel), a whole-text judgement, a comment.
        Answered only once stored: 201 created, 200 for a replay of the same client_id."""
        wait = limiter.retry_after(request.client.host if request.client else "unknown")
        if wait > 0:
            metrics.errors.labels(type="rate_limited").inc()
            raise HTTPException(
                429,
                f"too many feedback requests from this address; retry in {wait:.0f} s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        with feedback_http_errors(metrics):
            record, created = service.submit(body)
        if not created:
            response.status_code = 200
        return ack(record, created)

    @router.get(
        "/feedback/{feedback_id}",
        response_model=FeedbackOut,
        dependencies=[Depends(require_admin)],
        responses={
            401: {"model": ErrorResponse},
            403: {"model": ErrorResponse},
            404: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
        },
    )
    def get_feedback(feedback_id: int) -> FeedbackOut:
        """One stored feedback item (the text as its sha256 and length). Admin key if configured."""
        if not 0 < feedback_id < 2**31:
            raise HTTPException(404, f"no feedback with id {feedback_id}")
        with feedback_http_errors(metrics):
            record = service.store().get(feedback_id)
        if record is None:
            raise HTTPException(404, f"no feedback with id {feedback_id}")
        data = record.to_dict()
        data["text_chars"] = len(data.pop("text"))
        return FeedbackOut(**data)

    return router
