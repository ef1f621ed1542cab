"""User feedback on predictions: the durable store behind ``POST /feedback`` and the demo."""

from mindlens.feedback.schemas import Correction, FeedbackIn
from mindlens.feedback.store import (
    FeedbackConflictError,
    FeedbackError,
    FeedbackRecord,
    FeedbackStore,
    FeedbackUnavailableError,
)

__all__ = [
    "Correction",
    "FeedbackConflictError",
    "FeedbackError",
    "FeedbackIn",
    "FeedbackRecord",
    "FeedbackStore",
    "FeedbackUnavailableError",
]
