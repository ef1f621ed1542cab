"""``/healthz``, ``/readyz``, ``/version`` and ``/metrics``: what operators and probes read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mindlens import __version__
from mindlens.serving.deps import MetricsDep, StoreDep
from mindlens.serving.errors import NotReadyError, responses
from mindlens.serving.metrics import CONTENT_TYPE
from mindlens.serving.model_store import NO_MODEL_MESSAGE
from mindlens.serving.schemas import HealthResponse, ModelRef, VersionResponse

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


@router.get("/readyz", responses=responses(503))
def readyz(store: StoreDep) -> dict[str, str]:
    """Readiness: 200 once a model is loaded, 503 before (load balancers wait for it)."""
    current = store.current
    if current is None:
        raise NotReadyError(NO_MODEL_MESSAGE)
    return {"status": "ready", "version": current.info.version}


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
