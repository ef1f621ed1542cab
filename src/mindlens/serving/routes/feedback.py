"""``POST /feedback`` (public, rate- and size-limited) and ``GET /feedback/{id}`` (admin).

Users confirm or correct a prediction (joined by ``request_id``) or give feedback on any
text; the answer comes only once the feedback is committed. The work is
``FeedbackService``'s (``mindlens.feedback``); failures map to codes in ``serving.errors``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from mindlens.feedback.schemas import FeedbackAck, FeedbackIn, FeedbackOut
from mindlens.serving.deps import FeedbackDep, FeedbackLimiterDep, require_admin
from mindlens.serving.errors import FeedbackNotFoundError, responses
from mindlens.serving.rate_limit import client_address
from mindlens.serving.schemas import ErrorResponse

router = APIRouter(tags=["feedback"])


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
        **responses(413, 422, 429, 503),
    },
)
def post_feedback(
    body: FeedbackIn, request: Request, response: Response, service: FeedbackDep, limiter: FeedbackLimiterDep
) -> FeedbackAck:
    """Confirm or correct a prediction (by request_id) or give feedback on any text:
    span corrections (confirm, add, remove, relabel), a whole-text judgement, a comment.
    Answered only once stored: 201 created, 200 for a replay of the same client_id."""
    limiter.check(client_address(request))
    record, created = service.submit(body)
    if not created:
        response.status_code = 200
    return FeedbackAck.from_record(record, created)


@router.get(
    "/feedback/{feedback_id}",
    response_model=FeedbackOut,
    dependencies=[Depends(require_admin)],
    responses=responses(401, 403, 404, 503),
)
def get_feedback(feedback_id: int, service: FeedbackDep) -> FeedbackOut:
    """One stored feedback item (the text as its sha256 and length). Admin key if configured."""
    if not 0 < feedback_id < 2**31:
        raise FeedbackNotFoundError(feedback_id)
    record = service.store().get(feedback_id)
    if record is None:
        raise FeedbackNotFoundError(feedback_id)
    return FeedbackOut.from_record(record)
