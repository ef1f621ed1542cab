"""User feedback on predictions: the durable store behind ``POST /feedback`` and the demo,
the predictions it joins to (by request id, in the same database), submitting it
(``FeedbackService``) and the review logic the Label Studio queue uses."""

from mindlens.feedback.predictions import PredictionRecord, PredictionRecorder
from mindlens.feedback.schemas import Correction, FeedbackAck, FeedbackIn, FeedbackOut
from mindlens.feedback.service import FeedbackMismatchError, FeedbackService, FeedbackTooLargeError
from mindlens.feedback.store import (
    FeedbackConflictError,
    FeedbackError,
    FeedbackRecord,
    FeedbackStore,
    FeedbackUnavailableError,
)

__all__ = [
    "Correction",
    "FeedbackAck",
    "FeedbackConflictError",
    "FeedbackError",
    "FeedbackIn",
    "FeedbackMismatchError",
    "FeedbackOut",
    "FeedbackRecord",
    "FeedbackService",
    "FeedbackStore",
    "FeedbackTooLargeError",
    "FeedbackUnavailableError",
    "PredictionRecord",
    "PredictionRecorder",
]
