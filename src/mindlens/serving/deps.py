"""What routes depend on: the app's shared objects (built once by ``create_app`` and kept
in ``app.state``) as FastAPI dependencies, and the admin-key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from mindlens.config import Settings
from mindlens.feedback.service import FeedbackService
from mindlens.serving.analysis import AnalysisService
from mindlens.serving.errors import AdminDisabledError, InvalidAPIKeyError, MissingAPIKeyError
from mindlens.serving.metrics import Metrics
from mindlens.serving.model_store import ModelStore
from mindlens.serving.prediction_log import PredictionLog
from mindlens.serving.rate_limit import RateLimiter


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _store(request: Request) -> ModelStore:
    return request.app.state.store


def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def _analysis(request: Request) -> AnalysisService:
    return request.app.state.analysis


def _feedback(request: Request) -> FeedbackService:
    return request.app.state.feedback


def _feedback_limiter(request: Request) -> RateLimiter:
    return request.app.state.feedback_limiter


def _prediction_log(request: Request) -> PredictionLog:
    return request.app.state.prediction_log


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[ModelStore, Depends(_store)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
AnalysisDep = Annotated[AnalysisService, Depends(_analysis)]
FeedbackDep = Annotated[FeedbackService, Depends(_feedback)]
FeedbackLimiterDep = Annotated[RateLimiter, Depends(_feedback_limiter)]
PredictionLogDep = Annotated[PredictionLog, Depends(_prediction_log)]

_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="The admin token (MINDLENS_SERVING__ADMIN_TOKEN, or the file `mindlens serve` generates "
    "in the state folder): required for /admin/* and GET /feedback/{id}.",
)

ADMIN_DISABLED = (
    "admin endpoints are closed: this server has no admin token configured "
    "(set MINDLENS_SERVING__ADMIN_TOKEN, or start it with `mindlens serve`, which generates one)"
)


def require_admin(settings: SettingsDep, key: str | None = Depends(_api_key)) -> None:
    """Admin routes need ``X-API-Key`` equal to ``serving.admin_token``; without a configured
    token they are closed to everyone (403), never open."""
    token = settings.serving.admin_token
    if not token:
        raise AdminDisabledError(ADMIN_DISABLED)
    if not key:
        raise MissingAPIKeyError("missing X-API-Key header")
    if not secrets.compare_digest(key.encode(), token.encode()):
        raise InvalidAPIKeyError("invalid X-API-Key")
