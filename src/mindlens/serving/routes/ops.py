"""``/healthz``, ``/readyz``, ``/version`` and ``/metrics``: what operators and probes read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mindlens import __version__
from mindlens.serving.deps import FeedbackDep, MetricsDep, PredictionLogDep, StoreDep
from mindlens.serving.errors import NotReadyError, responses
from mindlens.serving.metrics import CONTENT_TYPE
from mindlens.serving.schemas import HealthResponse, ModelRef, ReadyResponse, VersionResponse

router = APIRouter(tags=["ops"])


@router.get("/version", response_model=VersionResponse)
def version(store: StoreDep) -> VersionResponse:
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


@router.get("/readyz", response_model=ReadyResponse, responses=responses(503))
def readyz(store: StoreDep, prediction_log: PredictionLogDep, feedback: FeedbackDep) -> ReadyResponse:
    """Readiness: 200 once a model is loaded, 503 before (load balancers wait for it) saying
    why: no champion registered yet, or the champion is unreadable. A 200 is ``degraded``
    (with the problems) while analyses go on but something failed: a refused champion version
    (corrupt artifacts; the last good one serves), prediction-log writes, the feedback store."""
    current = store.current
    if current is None:
        raise NotReadyError(store.unavailable_reason())
    problems = [p for p in (store.problem, prediction_log.problem) if p]
    if feedback.unavailable:
        problems.append("the feedback store is unavailable; POST /feedback answers 503")
    return ReadyResponse(
        status="degraded" if problems else "ready", version=current.info.version, problems=problems
    )


@router.get("/healthz", response_model=HealthResponse)
def healthz(store: StoreDep) -> HealthResponse:
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


@router.get("/metrics", response_class=Response)
def prometheus_metrics(metrics: MetricsDep) -> Response:
    """Prometheus exposition format."""
    return Response(metrics.render(), media_type=CONTENT_TYPE)
