"""The Grafana dashboard, as code (grafanalib): ``deploy/grafana/dashboards/mindlens.json``
is generated from here (``mindlens monitoring dashboard``) and a test checks the committed
file equals the generated one, so panels and their PromQL change only through this module.

``PANELS`` is the single list of (title, queries) that the dashboard, the Prometheus
integration test and the README plots (``monitoring/plots.py``) all read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlens.config import PROJECT_ROOT

DASHBOARD_FILE = PROJECT_ROOT / "deploy" / "grafana" / "dashboards" / "mindlens.json"
DATASOURCE_UID = "mindlens-prometheus"  # provisioned in deploy/grafana/provisioning/datasources
UID = "mindlens-service"
_ANALYSIS = 'endpoint=~"/analyze|/analyze/batch|/demo"'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"  # timeseries | stat | table
    description: str = ""


def _p(quantile: float, metric: str, selector: str = "") -> str:
    inner = f"{{{selector}}}" if selector else ""
    return f"histogram_quantile({quantile}, sum by (le) (rate({metric}_bucket{inner}[5m])))"


PANELS: tuple[Panel, ...] = (
    Panel(
        "Served model",
        (Query("max by (name, version) (mindlens_model_info)", "{{name}} v{{version}}"),),
        kind="table",
        description="The champion being served (from mindlens_model_info).",
    ),
    Panel(
        "Drift (PSI vs. training reference)",
        (Query("max by (feature) (mindlens_drift_psi)", "{{feature}}"),),
        kind="stat",
        description="Population stability index of the recent window; >0.25 is drift.",
    ),
    Panel(
        "Requests per second by endpoint and status",
        (Query("sum by (endpoint, status) (rate(mindlens_requests_total[5m]))", "{{endpoint}} {{status}}"),),
        unit="reqps",
    ),
    Panel(
        "Request latency (end to end, analysis endpoints)",
        tuple(
            Query(_p(q, "mindlens_request_latency_seconds", _ANALYSIS), f"p{int(q * 100)}")
            for q in (0.5, 0.95, 0.99)
        ),
        unit="s",
    ),
    Panel(
        "Model latency (analysis only)",
        tuple(Query(_p(q, "mindlens_model_latency_seconds"), f"p{int(q * 100)}") for q in (0.5, 0.95)),
        unit="s",
    ),
    Panel(
        "Errors per second by type",
        (
            Query("sum by (type) (rate(mindlens_errors_total[5m]))", "{{type}}"),
            Query("mindlens:request_error_ratio:rate5m", "5xx ratio (recorded)"),
        ),
        unit="short",
    ),
    Panel(
        "Texts and characters analysed per second",
        (
            Query("sum(rate(mindlens_texts_analyzed_total[5m]))", "texts"),
            Query("sum(rate(mindlens_characters_analyzed_total[5m])) / 1000", "thousand characters"),
        ),
        unit="short",
    ),
    Panel(
        "Predicted techniques per second",
        (Query("sum by (technique) (rate(mindlens_predicted_techniques_total[5m]))", "{{technique}}"),),
        unit="short",
    ),
    Panel(
        "Share of predicted techniques (1h)",
        (
            Query(
                "sum by (technique) (increase(mindlens_predicted_techniques_total[1h])) "
                "/ scalar(sum(increase(mindlens_predicted_techniques_total[1h])))",
                "{{technique}}",
            ),
        ),
        unit="percentunit",
    ),
    Panel(
        "Predicted traits per second",
        (Query("sum by (trait) (rate(mindlens_predicted_traits_total[5m]))", "{{trait}}"),),
        unit="short",
    ),
    Panel(
        "Median technique confidence",
        (
            Query(
                "histogram_quantile(0.5, sum by (le, technique) "
                "(rate(mindlens_technique_confidence_bucket[15m])))",
                "{{technique}}",
            ),
        ),
        unit="percentunit",
    ),
    Panel(
        "Model reloads and feedback",
        (
            Query("sum by (outcome) (increase(mindlens_model_reloads_total[1h]))", "reload {{outcome}}"),
            Query(
                "sum by (kind) (increase(mindlens_feedback_received_total[1h])) or vector(0)",
                "feedback {{kind}}",
            ),
        ),
        unit="short",
    ),
    Panel(
        "Hours since the last successful DAG run",
        (
            Query("(time() - mindlens_pipeline_last_success_timestamp_seconds) / 3600", "{{dag_id}}"),
            Query("mindlens_pipeline_last_run_failed", "{{dag_id}} last run failed"),
        ),
        unit="short",
    ),
)


def expressions() -> list[str]:
    """Every PromQL expression of the dashboard."""
    return [q.expr for panel in PANELS for q in panel.queries]


def build() -> dict[str, Any]:
    """The dashboard as Grafana JSON (a plain dict, stable key order)."""
    from grafanalib import core as g
    from grafanalib._gen import DashboardEncoder

    datasource = {"type": "prometheus", "uid": DATASOURCE_UID}
    panels = []
    for i, spec in enumerate(PANELS):
        width, height = (8, 6) if spec.kind != "timeseries" else (12, 8)
        if i < 3:
            pos = g.GridPos(h=6, w=8, x=8 * i, y=0)
        else:
            j = i - 3
            pos = g.GridPos(h=height, w=width, x=12 * (j % 2), y=6 + height * (j // 2))
        targets = [
            g.Target(expr=q.expr, legendFormat=q.legend, refId=chr(ord("A") + k), datasource=datasource)
            for k, q in enumerate(spec.queries)
        ]
        common = dict(
            title=spec.title,
            description=spec.description,
            dataSource=datasource,
            targets=targets,
            gridPos=pos,
        )
        if spec.kind == "stat":
            panels.append(
                g.Stat(
                    **common,
                    format=spec.unit,
                    decimals=3,
                    reduceCalc="lastNotNull",
                    thresholds=[
                        g.Threshold("green", 0, 0.0),
                        g.Threshold("orange", 1, 0.1),
                        g.Threshold("red", 2, 0.25),
                    ],
                )
            )
        elif spec.kind == "table":
            targets[0].format, targets[0].instant = "table", True
            panels.append(g.Table(**common))
        else:
            panels.append(g.TimeSeries(**common, unit=spec.unit, legendDisplayMode="list"))
    dashboard = g.Dashboard(
        title="MindLens service",
        uid=UID,
        tags=["mindlens"],
        timezone="utc",
        refresh="30s",
        time=g.Time("now-6h", "now"),
        panels=panels,
        description="Traffic, latency, errors, predicted techniques, drift and the served model. "
        "Generated by src/mindlens/monitoring/dashboard.py; do not edit by hand.",
    ).auto_panel_ids()
    return json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder, sort_keys=True))


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def write(path: Path = DASHBOARD_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render())
    return path
