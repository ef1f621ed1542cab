"""The FastAPI app factory: analysis API, health, Prometheus metrics, admin reload, feedback,
and the installed UI plugins (the Gradio demo at /demo).

``create_app(settings)`` builds the shared objects once and keeps them in ``app.state``
(routes get them through ``serving.deps``), adds the middleware, the error handlers
(``serving.errors``) and the routers (``serving.routes``), and mounts the UI plugins
(``serving.plugins``). Bad input is always answered with a 4xx and a readable message; a
500 means a bug and never shows a stack trace to the client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mindlens.config import Settings, get_settings
from mindlens.feedback.service import FeedbackService
from mindlens.feedback.store import FeedbackUnavailableError
from mindlens.monitoring.pipeline_status import status_path
from mindlens.serving import errors, openapi
from mindlens.serving.analysis import AnalysisService
from mindlens.serving.metrics import Metrics, MetricsMiddleware
from mindlens.serving.model_store import ModelStore
from mindlens.serving.plugins import ServingContext, mount_ui_plugins
from mindlens.serving.prediction_log import PredictionLog
from mindlens.serving.rate_limit import RateLimiter
from mindlens.serving.request_id import RequestIdMiddleware
from mindlens.serving.routes import ROUTERS

log = logging.getLogger(__name__)

DESCRIPTION = "Detects propaganda and manipulation techniques in text, sentence by sentence."


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the champion and start polling the registry; open (and migrate) the feedback
    store, which on failure answers 503 for feedback and retries later; start the first
    pipeline run when ``serve --first-pipeline`` put one in ``app.state.first_pipeline`` (and
    end it here: uvicorn re-raises SIGTERM after the shutdown, so nothing after it runs)."""
    store: ModelStore = app.state.store
    feedback: FeedbackService = app.state.feedback
    first_pipeline = getattr(app.state, "first_pipeline", None)
    store.reload()
    store.start_polling()
    try:
        feedback.store()
    except FeedbackUnavailableError as err:
        log.warning("feedback store not available at start: %s", err)
    if first_pipeline is not None:
        first_pipeline.start()
    try:
        yield
    finally:
        if first_pipeline is not None:
            first_pipeline.stop()
        store.stop_polling()
        feedback.close()
        app.state.prediction_log.close()


def create_app(settings: Settings | None = None, *, with_ui: bool = True) -> FastAPI:
    """Build the app; the champion is loaded and polling started in the lifespan.
    ``with_ui=False`` leaves the UI plugins out (the API alone)."""
    settings = settings or get_settings()
    metrics = Metrics(
        settings.monitoring.drift_window, settings.monitoring.drift_min_texts, status_path(settings)
    )
    store = ModelStore(settings, metrics)
    serving = settings.serving
    prediction_log = PredictionLog(
        settings.paths.predictions_log if serving.prediction_log else None,
        serving.log_text,
        max_bytes=int(serving.prediction_log_max_mb * 2**20),
        max_age_s=serving.prediction_log_max_age_h * 3600,
        backups=serving.prediction_log_backups,
        on_error=lambda: metrics.errors.labels(type="prediction_log").inc(),
    )
    feedback = FeedbackService(
        settings,
        on_created=lambda kind: metrics.feedback.labels(kind=kind).inc(),
        on_record_failure=lambda count: metrics.errors.labels(type="prediction_record").inc(count),
        record_predictions=settings.serving.prediction_log,
    )
    analysis = AnalysisService(store, settings, prediction_log, feedback)
    store.busy = lambda: analysis.admission.running  # the batcher waits only for running analyses

    app = FastAPI(title="MindLens API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.store = store
    app.state.prediction_log = prediction_log
    app.state.feedback = feedback
    app.state.feedback_limiter = RateLimiter(settings.feedback.rate_limit_per_minute, "feedback")
    app.state.analysis = analysis

    if settings.serving.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.serving.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-request-id"],
        )
    app.add_middleware(errors.UnhandledErrorMiddleware)  # innermost: a 500 is counted and gets an id
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)  # outermost: every response carries X-Request-ID
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app, settings)

    app.state.ui = (
        mount_ui_plugins(
            app,
            ServingContext(
                settings=settings,
                analysis=analysis,
                feedback=feedback,
                feedback_limiter=app.state.feedback_limiter,
            ),
        )
        if with_ui
        else {}
    )
    return app
