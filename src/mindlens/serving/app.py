"""The FastAPI app: analysis API, health, Prometheus metrics, admin reload, Gradio demo.

Bad input is always answered with a 4xx and a readable message; a 500 means a
bug and never shows a stack trace to the client.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlens import __version__, taxonomy
from mindlens.config import Settings, get_settings
from mindlens.feedback import FeedbackConflictError, FeedbackIn, FeedbackUnavailableError
from mindlens.monitoring.drift import Observation
from mindlens.monitoring.pipeline_status import status_path
from mindlens.serving.feedback_api import UNAVAILABLE as FEEDBACK_UNAVAILABLE
from mindlens.serving.feedback_api import (
    FeedbackMismatchError,
    FeedbackService,
    FeedbackTooLargeError,
    ack,
    feedback_router,
)
from mindlens.serving.metrics import CONTENT_TYPE, Metrics, endpoint_label
from mindlens.serving.model_store import NO_MODEL_MESSAGE, ModelStore, NoModelError
from mindlens.serving.prediction_log import PredictionLog
from mindlens.serving.request_id import RequestIdMiddleware
from mindlens.serving.request_id import current as current_request_id
from mindlens.serving.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    BatchRequest,
    BatchResponse,
    ErrorResponse,
    HealthResponse,
    ModelRef,
    ReloadResponse,
    TechniqueInfo,
    VersionResponse,
)

log = logging.getLogger(__name__)

DEMO_PATH = "/demo"
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Required for /admin/* when serving.admin_token is set."
)


class TextTooLongError(ValueError):
    """The text exceeds ``serving.max_text_chars`` (answered with 413)."""


# --- core operation shared by the API and the demo --------------------------------
def analyze_text(
    store: ModelStore,
    settings: Settings,
    text: str,
    min_confidence: float | None = None,
    title: str | None = None,
    *,
    prediction_log: PredictionLog | None = None,
    endpoint: str = "/analyze",
    record_threshold: float | None = None,
) -> dict[str, Any]:
    """Analyze with the served champion; raises NoModelError / TextTooLongError."""
    started = time.perf_counter()
    limit = settings.serving.max_text_chars
    if len(text) > limit:
        raise TextTooLongError(f"text is too long: {len(text)} characters received, the limit is {limit}")
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
    # Metrics and the log record what was reported (``record_threshold``: a caller that asks
    # for everything and filters itself, like the demo, names the threshold that counts).
    reported = result["min_confidence"] if record_threshold is None else record_threshold
    store.metrics.count_predictions(result["sentences"], reported)
    store.metrics.count_text(endpoint, len(text), model_seconds, result["document"].get("traits", {}))
    store.metrics.drift.observe(Observation.from_result(len(text), result.get("spans", []), reported))
    if prediction_log is not None:
        prediction_log.record(endpoint, text, result, min_confidence=reported)
    return result


# --- request metrics ----------------------------------------------------------------
class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI, so the demo's streams pass untouched)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_label(scope["path"])
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.requests.labels(endpoint=endpoint, method=scope["method"], status=str(status)).inc()
            self.metrics.latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)


# --- error handlers -------------------------------------------------------------------
def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def _summarise(errors: list[dict[str, Any]]) -> str:
    messages = []
    for err in errors:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            messages.append(
                f"request body is not valid JSON ({reason})" if reason else "request body is not valid JSON"
            )
        else:
            messages.append(f"{_loc(err.get('loc', ()))}: {err.get('msg', 'invalid')}")
    return "; ".join(messages) or "invalid request"


def _install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.errors.labels(type="validation").inc()
        errors = [
            {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content=jsonable_encoder({"detail": _summarise(list(exc.errors())), "errors": errors}),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels(type="unhandled").inc()
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal server error"})


@contextmanager
def _as_http_errors(metrics: Metrics) -> Iterator[None]:
    """Analysis failures the client can act on, as 4xx/503 with the reason (and counted)."""
    try:
        yield
    except TextTooLongError as err:
        metrics.errors.labels(type="payload_too_large").inc()
        raise HTTPException(413, str(err)) from None
    except NoModelError as err:
        metrics.errors.labels(type="no_model").inc()
        raise HTTPException(503, str(err)) from None


# --- app factory ----------------------------------------------------------------------
def create_app(settings: Settings | None = None, *, with_demo: bool = True) -> FastAPI:
    """Build the app; the champion is loaded and polling started in the lifespan."""
    settings = settings or get_settings()
    metrics = Metrics(
        settings.monitoring.drift_window, settings.monitoring.drift_min_texts, status_path(settings)
    )
    store = ModelStore(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.reload()
        store.start_polling()
        try:  # open (and migrate) the feedback store now; on failure /feedback retries and answers 503
            feedback.store()
        except FeedbackUnavailableError as err:
            log.warning("feedback store not available at start: %s", err)
        try:
            yield
        finally:
            store.stop_polling()
            feedback.close()

    app = FastAPI(
        title="MindLens API",
        version="0.1.0",
        description="Detects propaganda and manipulation techniques in text, sentence by "
        f"sentence. Interactive demo at [{DEMO_PATH}/]({DEMO_PATH}/).",
        lifespan=lifespan,
    )
    app.state.settings, app.state.store, app.state.metrics = settings, store, metrics
    predictions = PredictionLog(
        settings.paths.predictions_log if settings.serving.prediction_log else None,
        settings.serving.log_text,
    )
    app.state.prediction_log = predictions
    feedback = FeedbackService(settings, metrics, predictions.path)
    app.state.feedback = feedback
    if settings.serving.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.serving.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-request-id"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)  # outermost: every response carries X-Request-ID
    _install_error_handlers(app, metrics)

    def require_admin(key: str | None = Depends(_api_key)) -> None:
        token = settings.serving.admin_token
        if not token:
            return
        if not key:
            metrics.errors.labels(type="unauthorized").inc()
            raise HTTPException(401, "missing X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
        if not secrets.compare_digest(key.encode(), token.encode()):
            metrics.errors.labels(type="forbidden").inc()
            raise HTTPException(403, "invalid X-API-Key")

    @app.post(
        "/analyze",
        response_model=AnalyzeResponse,
        tags=["analysis"],
        responses={
            413: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
        },
    )
    def analyze(body: AnalyzeRequest) -> dict[str, Any]:
        """Split the text into sentences and score each for manipulation techniques."""
        with _as_http_errors(metrics):
            return analyze_text(
                store, settings, body.text, body.min_confidence, body.title, prediction_log=predictions
            )

    @app.post(
        "/analyze/batch",
        response_model=BatchResponse,
        tags=["analysis"],
        responses={
            413: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
        },
    )
    def analyze_batch(body: BatchRequest) -> dict[str, Any]:
        """Several texts in one call (at most ``serving.max_batch_texts``)."""
        limit = settings.serving.max_batch_texts
        if len(body.texts) > limit:
            metrics.errors.labels(type="payload_too_large").inc()
            raise HTTPException(413, f"too many texts: {len(body.texts)} received, the limit is {limit}")
        with _as_http_errors(metrics):
            return {
                "results": [
                    analyze_text(
                        store,
                        settings,
                        text,
                        body.min_confidence,
                        prediction_log=predictions,
                        endpoint="/analyze/batch",
                    )
                    for text in body.texts
                ]
            }

    @app.get("/techniques", response_model=list[TechniqueInfo], tags=["analysis"])
    def techniques() -> list[TechniqueInfo]:
        """Every technique MindLens knows, with its trait, definition, example and colour."""
        return [
            TechniqueInfo(
                id=t.id,
                name=t.name,
                trait=t.trait,
                trait_name=taxonomy.trait(t.trait).name,
                definition=t.definition,
                example=t.example,
                color=t.color,
            )
            for t in taxonomy.TECHNIQUES
        ]

    @app.get("/version", response_model=VersionResponse, tags=["ops"])
    def version() -> VersionResponse:
        """The app's version and the served model (name, registry version, semantic version)."""
        current = store.current
        if current is None:
            return VersionResponse(app=__version__)
        info = current.info
        return VersionResponse(
            app=__version__,
            semver=info.semver,
            model=ModelRef(name=info.name, version=info.version, run_id=info.run_id),
        )

    @app.get("/readyz", tags=["ops"], responses={503: {"model": ErrorResponse}})
    def readyz() -> dict[str, str]:
        """Readiness: 200 once a model is loaded, 503 before (load balancers wait for it)."""
        if store.current is None:
            raise HTTPException(503, NO_MODEL_MESSAGE)
        return {"status": "ready", "version": store.current.info.version}

    @app.get("/healthz", response_model=HealthResponse, tags=["ops"])
    def healthz() -> HealthResponse:
        """Liveness: 200 whenever the process serves, with the model version (or null)."""
        current = store.current
        if current is None:
            return HealthResponse(status="ok", model=None, version=None)
        info = current.info
        return HealthResponse(
            status="ok",
            version=info.version,
            model=ModelRef(name=info.name, version=info.version, run_id=info.run_id),
        )

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def prometheus_metrics() -> Response:
        """Prometheus exposition format."""
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @app.post(
        "/admin/reload",
        response_model=ReloadResponse,
        tags=["ops"],
        dependencies=[Depends(require_admin)],
        responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
    )
    def admin_reload() -> ReloadResponse:
        """Load the registry's champion now if it changed (the pipeline calls this)."""
        changed = store.reload()
        return ReloadResponse(
            reloaded=changed, version=store.version, error=None if changed else store.last_error
        )

    app.include_router(feedback_router(feedback, require_admin))

    if with_demo:
        _mount_demo(app, store, settings, predictions, feedback)
    return app


def _mount_demo(
    app: FastAPI,
    store: ModelStore,
    settings: Settings,
    predictions: PredictionLog | None = None,
    feedback: FeedbackService | None = None,
) -> None:
    """Mount the Gradio demo at /demo; it calls the same code paths as /analyze and /feedback."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from mindlens_demo.app import build_demo

    def analyze(text: str, min_confidence: float, title: str | None = None) -> dict[str, Any]:
        # Each demo analysis gets its own request id, so its feedback joins the prediction log.
        request_id = uuid.uuid4().hex
        token = current_request_id.set(request_id)
        try:
            result = analyze_text(
                store,
                settings,
                text,
                min_confidence,
                title,
                prediction_log=predictions,
                endpoint="/demo",
                record_threshold=settings.serving.min_confidence,
            )
        finally:
            current_request_id.reset(token)
        return {**result, "request_id": request_id}

    def submit_feedback(payload: dict[str, Any]) -> dict[str, Any]:
        """POST /feedback in-process; ValueError with the reason the API would give."""
        if feedback is None:
            raise ValueError("feedback is not available in this demo")
        try:
            item = FeedbackIn.model_validate(payload)
        except ValidationError as err:
            raise ValueError(_summarise(list(err.errors()))) from None
        try:
            record, created = feedback.submit(item)
        except (FeedbackConflictError, FeedbackTooLargeError, FeedbackMismatchError) as err:
            raise ValueError(str(err)) from None
        except FeedbackUnavailableError:
            raise ValueError(FEEDBACK_UNAVAILABLE) from None
        return ack(record, created).model_dump()

    def model_label() -> str:
        current = store.current
        if current is None:
            return "no champion model registered yet"
        return f"{current.info.name} v{current.info.version}"

    demo = build_demo(
        analyze,
        model_label,
        default_min_confidence=settings.serving.min_confidence,
        submit_feedback=submit_feedback if feedback is not None else None,
    )
    gr.mount_gradio_app(app, demo, path=DEMO_PATH, max_file_size="1mb")
