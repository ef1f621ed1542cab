"""Prometheus metrics, one registry per app so several apps can live in one process (tests)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Known routes; anything else is folded into a few labels to keep cardinality bounded.
_ENDPOINTS = ("/analyze", "/analyze/batch", "/techniques", "/version", "/readyz", "/healthz",
              "/metrics", "/admin/reload", "/docs", "/redoc", "/openapi.json")


def endpoint_label(path: str) -> str:
    """A bounded label for a request path (the demo's many routes count as ``/demo``)."""
    if path in _ENDPOINTS:
        return path
    if path == "/demo" or path.startswith("/demo/"):
        return "/demo"
    return "other"


class Metrics:
    """All MindLens serving metrics, registered on a private ``CollectorRegistry``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mindlens_requests_total", "HTTP requests handled.",
            ["endpoint", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "mindlens_request_latency_seconds", "Time to answer an HTTP request.",
            ["endpoint"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.errors = Counter(
            "mindlens_errors_total", "Requests or operations that failed, by kind.",
            ["type"], registry=self.registry)
        self.predicted = Counter(
            "mindlens_predicted_techniques_total",
            "Sentences flagged with a technique (above the request's min_confidence).",
            ["technique"], registry=self.registry)
        self.model_info = Gauge(
            "mindlens_model_info", "The model being served (value is always 1).",
            ["version", "name"], registry=self.registry)
        self.reloads = Counter(
            "mindlens_model_reloads_total",
            "Champion reload attempts: changed, unchanged, no_champion or failure.",
            ["outcome"], registry=self.registry)
        self.feedback = Counter(
            "mindlens_feedback_received_total", "Feedback items accepted.",
            ["kind"], registry=self.registry)

    def set_model(self, name: str, version: str) -> None:
        """Point the info gauge at the model now served (old label sets are dropped)."""
        self.model_info.clear()
        self.model_info.labels(version=version, name=name).set(1)

    def count_predictions(self, sentences: list[dict], threshold: float = 0.0) -> None:
        """Count predicted techniques at or above ``threshold`` (the demo asks the model for
        everything and filters in the browser; only what the service would report counts)."""
        for sentence in sentences:
            for hit in sentence["techniques"]:
                if hit["confidence"] >= threshold:
                    self.predicted.labels(technique=hit["technique"]).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
