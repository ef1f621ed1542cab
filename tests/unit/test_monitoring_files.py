"""Monitoring files stay generated and consistent: the committed Grafana dashboard equals the
generated one, panels use the provisioned datasource, and the JSON log format carries the
request id, the access-line fields and no query string."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import yaml

from mindlens.config import PROJECT_ROOT
from mindlens.monitoring import dashboard
from mindlens.serving import request_id
from mindlens.serving.logging_setup import log_config


def test_committed_dashboard_equals_generated():
    assert dashboard.DASHBOARD_FILE.read_text() == dashboard.render(), (
        "stale dashboard: run `mindlens monitoring dashboard`"
    )


def test_dashboard_panels_use_the_provisioned_datasource_and_cover_the_issue():
    data = json.loads(dashboard.DASHBOARD_FILE.read_text())
    provisioned = yaml.safe_load(
        (PROJECT_ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]["uid"]
    exprs = [t["expr"] for p in data["panels"] for t in p["targets"]]
    assert exprs == dashboard.expressions()
    assert all(t["datasource"]["uid"] == provisioned for p in data["panels"] for t in p["targets"])
    for metric in (
        "mindlens_requests_total",
        "mindlens_request_latency_seconds",
        "mindlens_errors_total",
        "mindlens_predicted_techniques_total",
        "mindlens_drift_psi",
        "mindlens_model_info",
        "mindlens_model_latency_seconds",
        "mindlens_feedback_received_total",
    ):
        assert any(metric in e for e in exprs), metric


def _capture(fmt: str) -> tuple[io.StringIO, logging.Handler]:
    config = log_config(fmt)
    logging.config.dictConfig(config)
    handler = logging.getLogger().handlers[0]
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    return stream, handler


def test_json_access_line_has_request_id_duration_and_no_query_string():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        stream, _ = _capture("json")
        token = request_id.current.set("abc123")
        started = request_id.started.set(0.0)
        try:
            logging.getLogger("uvicorn.access").info(
                '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/techniques?q=secret", "1.1", 200
            )
            logging.getLogger("mindlens.test").info("hello %s", "world")
        finally:
            request_id.current.reset(token)
            request_id.started.reset(started)
        access, app_line = (json.loads(line) for line in stream.getvalue().splitlines())
        assert access["request_id"] == "abc123" and access["logger"] == "uvicorn.access"
        assert (access["method"], access["path"], access["status"]) == ("GET", "/techniques", 200)
        assert access["duration_ms"] > 0 and "secret" not in stream.getvalue()
        assert app_line["message"] == "hello world" and app_line["request_id"] == "abc123"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_text_format_names_the_request():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        stream, _ = _capture("text")
        logging.getLogger("mindlens.test").warning("plain")
        assert "[-] mindlens.test: plain" in stream.getvalue()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_compose_runs_prometheus_and_grafana_on_the_deploy_files():
    services = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    scrape = yaml.safe_load((PROJECT_ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["api:8000"]
    assert "api" in services and "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    provider = yaml.safe_load(
        (PROJECT_ROOT / "deploy/grafana/provisioning/dashboards/mindlens.yml").read_text()
    )["providers"][0]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in services["grafana"]["volumes"]
