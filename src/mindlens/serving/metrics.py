"""Prometheus metrics, one registry per app so several apps can live in one process (tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlens import taxonomy
from mindlens.monitoring.drift import FEATURES, DriftWindow

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Known routes; anything else is folded into a few labels to keep cardinality bounded.
_ENDPOINTS = (
    "/analyze",
    "/analyze/batch",
    "/feedback",
    "/techniques",
    "/version",
    "/readyz",
    "/healthz",
    "/metrics",
    "/admin/reload",
    "/docs",
    "/redoc",
    "/openapi.json",
)


def endpoint_label(path: str) -> str:
    """A bounded label for a request path (the demo's many routes count as ``/demo``)."""
    if path in _ENDPOINTS:
        return path
    if path == "/demo" or path.startswith("/demo/"):
        return "/demo"
    return "other"


_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_CONFIDENCE = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class DriftCollector(Collector):
    """``mindlens_drift_psi{feature}``, computed from the rolling window at scrape time (absent
    until there is a reference and ``monitoring.drift_min_texts`` texts)."""

    def __init__(self, window: DriftWindow) -> None:
        self.window = window

    def collect(self) -> Iterator[Metric]:
        texts = GaugeMetricFamily(
            "mindlens_drift_window_texts", "Texts in the rolling drift window (since the model was loaded)."
        )
        texts.add_metric([], len(self.window))
        yield texts
        reference = self.window.reference
        ref = GaugeMetricFamily(
            "mindlens_drift_reference_texts",
            "Validation texts behind the served model's drift reference (0: none).",
        )
        ref.add_metric([], reference.texts if reference else 0)
        yield ref
        values = self.window.psi()
        gauge = GaugeMetricFamily(
            "mindlens_drift_psi",
            "Population stability index of the recent window against the model's reference (>0.25: drift).",
            labels=["feature"],
        )
        if values:  # None without a reference
            for feature in FEATURES:
                gauge.add_metric([feature], values[feature])
        yield gauge


class PipelineStatusCollector(Collector):
    """The last run of each Airflow DAG, read at scrape time from the status file the Airflow
    listener (``plugins/mindlens_run_status.py``) writes in the state folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def collect(self) -> Iterator[Metric]:
        from mindlens.monitoring.pipeline_status import read_status

        finished = GaugeMetricFamily(
            "mindlens_pipeline_last_run_timestamp_seconds",
            "End of the last finished run of a DAG (Unix time).",
            labels=["dag_id"],
        )
        success = GaugeMetricFamily(
            "mindlens_pipeline_last_success_timestamp_seconds",
            "End of the last successful run of a DAG (Unix time).",
            labels=["dag_id"],
        )
        failed = GaugeMetricFamily(
            "mindlens_pipeline_last_run_failed",
            "1 if the last finished run of a DAG failed.",
            labels=["dag_id"],
        )
        for dag_id, run in sorted(read_status(self.path).items()):
            finished.add_metric([dag_id], run["end"])
            failed.add_metric([dag_id], 0.0 if run["state"] == "success" else 1.0)
            if run.get("last_success") is not None:
                success.add_metric([dag_id], run["last_success"])
        yield from (finished, success, failed)


class Metrics:
    """All MindLens serving metrics, registered on a private ``CollectorRegistry``."""

    def __init__(
        self, drift_window: int = 200, drift_min_texts: int = 30, pipeline_status: Path | None = None
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mindlens_requests_total",
            "HTTP requests handled.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mindlens_request_latency_seconds",
            "Time to answer an HTTP request.",
            ["endpoint"],
            registry=self.registry,
            buckets=_SECONDS,
        )
        self.model_latency = Histogram(
            "mindlens_model_latency_seconds",
            "Time the model takes for one text (analysis only).",
            ["endpoint"],
            registry=self.registry,
            buckets=_SECONDS,
        )
        self.texts = Counter(
            "mindlens_texts_analyzed_total", "Texts analysed.", ["endpoint"], registry=self.registry
        )
        self.characters = Counter(
            "mindlens_characters_analyzed_total",
            "Characters of the texts analysed.",
            ["endpoint"],
            registry=self.registry,
        )
        self.errors = Counter(
            "mindlens_errors_total",
            "Requests or operations that failed, by kind.",
            ["type"],
            registry=self.registry,
        )
        self.errors.labels(type="overloaded").inc(
            0
        )  # exported at 0: its alert has a series before the first 503
        self.predicted = Counter(
            "mindlens_predicted_techniques_total",
            "Sentences flagged with a technique (above the request's min_confidence).",
            ["technique"],
            registry=self.registry,
        )
        self.confidence = Histogram(
            "mindlens_technique_confidence",
            "Confidence of the techniques reported on sentences.",
            ["technique"],
            registry=self.registry,
            buckets=_CONFIDENCE,
        )
        self.traits = Counter(
            "mindlens_predicted_traits_total",
            "Sentences flagged with a trait (via its techniques, above min_confidence).",
            ["trait"],
            registry=self.registry,
        )
        self.trait_score = Histogram(
            "mindlens_trait_score",
            "Document-level trait scores, one observation per text and trait.",
            ["trait"],
            registry=self.registry,
            buckets=_CONFIDENCE,
        )
        self.model_info = Gauge(
            "mindlens_model_info",
            "The model being served (value is always 1).",
            ["version", "name"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "mindlens_model_reloads_total",
            "Champion reload attempts: changed, unchanged, no_champion or failure.",
            ["outcome"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "mindlens_feedback_received_total", "Feedback items accepted.", ["kind"], registry=self.registry
        )
        self.batch_windows = Histogram(
            "mindlens_inference_batch_windows",
            "Windows per network call of the dynamic batcher.",
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64),
        )
        self.batch_requests = Histogram(
            "mindlens_inference_batch_requests",
            "Requests whose windows shared one network call (dynamic batching).",
            registry=self.registry,
            buckets=(1, 2, 3, 4, 6, 8, 16),
        )
        self.batch_wait = Histogram(
            "mindlens_inference_queue_seconds",
            "Time the oldest window of a network call waited for an inference worker.",
            registry=self.registry,
            buckets=_SECONDS,
        )
        self.drift = DriftWindow(drift_window, drift_min_texts)
        self.registry.register(DriftCollector(self.drift))
        if pipeline_status is not None:
            self.registry.register(PipelineStatusCollector(pipeline_status))

    def set_model(self, name: str, version: str) -> None:
        """Point the info gauge at the model now served (old label sets are dropped)."""
        self.model_info.clear()
        self.model_info.labels(version=version, name=name).set(1)

    def observe_batch(self, windows: int, requests: int, waited_s: float) -> None:
        """One network call of the dynamic batcher."""
        self.batch_windows.observe(windows)
        self.batch_requests.observe(requests)
        self.batch_wait.observe(waited_s)

    def count_predictions(self, sentences: list[dict], threshold: float = 0.0) -> None:
        """Count predicted techniques at or above ``threshold`` (the demo asks the model for
        everything and filters in the browser; only what the service would report counts)."""
        for sentence in sentences:
            traits = set()
            for hit in sentence["techniques"]:
                if hit["confidence"] >= threshold:
                    self.predicted.labels(technique=hit["technique"]).inc()
                    self.confidence.labels(technique=hit["technique"]).observe(hit["confidence"])
                    traits.add(hit.get("trait") or taxonomy.technique(hit["technique"]).trait)
            for trait in traits:
                self.traits.labels(trait=trait).inc()

    def count_text(
        self, endpoint: str, chars: int, model_seconds: float, trait_scores: dict[str, float]
    ) -> None:
        """One analysed text: volume, model-only latency and its document trait scores."""
        self.texts.labels(endpoint=endpoint).inc()
        self.characters.labels(endpoint=endpoint).inc(chars)
        self.model_latency.labels(endpoint=endpoint).observe(model_seconds)
        for trait, score in trait_scores.items():
            self.trait_score.labels(trait=trait).observe(score)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI, so the UI plugins' streams pass untouched)."""

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
