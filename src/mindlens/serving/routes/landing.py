"""``GET /``: the page a person opening the server first sees.

What MindLens is, the model it serves, links to the demo, the API docs and the operators'
endpoints, and where the companion UIs (MLflow, Airflow, Label Studio, Grafana) run when the
settings know it (``links``; MLflow from an http tracking URI, Label Studio once configured).
Plain HTML, no script, every value escaped.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mindlens import __version__
from mindlens.config import Settings
from mindlens.serving.deps import SettingsDep, StoreDep
from mindlens.serving.model_store import ModelStore

router = APIRouter(tags=["ops"])

SUMMARY = (
    "MindLens reads a text (a news article, a post, a headline) and shows where and how it tries to "
    "manipulate the reader: the sentences and fragments that use a propaganda or persuasion "
    "technique (loaded language, name calling, appeals to fear, slogans, ...), rolled up into "
    "reader-facing traits, each with a confidence. Scores are model confidences, not verdicts."
)
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}code{background:#f3f3f3;padding:0 .2em}"
    "dt{font-weight:600}dd{margin:0 0 .5rem 1rem}.muted{color:#666}"
)


def companion_links(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, url, what it is) of each companion UI whose address is known."""
    links = settings.links
    tracking = settings.mlflow.tracking_uri or ""
    mlflow = links.mlflow_ui or (tracking if tracking.startswith(("http://", "https://")) else None)
    label_studio = links.label_studio_ui or (
        settings.label_studio.url if settings.label_studio.configured else None
    )
    known = [
        ("MLflow", mlflow, "experiment runs, reports and the model registry (champion alias)"),
        ("Airflow", links.airflow_ui, "the pipeline, label-sync, retrain and monitoring DAGs"),
        ("Label Studio", label_studio, "curated examples and user feedback under review"),
        ("Grafana", links.grafana_ui, "service and drift dashboards"),
    ]
    return [(name, url, what) for name, url, what in known if url]


def _model_html(store: ModelStore) -> str:
    current = store.current
    if current is None:
        return f'<p class="muted">No model is served yet: {escape(store.unavailable_reason())}</p>'
    info = current.info
    semver = f" (release {escape(info.semver)})" if info.semver else ""
    return (
        f"<p>Serving <strong>{escape(info.name)}</strong> version <strong>{escape(info.version)}</strong>"
        f"{semver}.</p>"
    )


def render_landing(settings: Settings, store: ModelStore, ui_paths: dict[str, str]) -> str:
    """The landing page's HTML."""
    here = [
        (f"{path.rstrip('/')}/", f"{name}: the interactive demo" if name == "demo" else name)
        for name, path in sorted(ui_paths.items())
        if path
    ]
    here += [
        ("/docs", "API docs (OpenAPI): POST /analyze with a text or a url, /analyze/batch, /feedback"),
        ("/techniques", "the techniques and traits MindLens knows"),
        ("/version", "app and model version (JSON)"),
        ("/healthz", "liveness"),
        ("/readyz", "readiness (503 until a model is loaded)"),
        ("/metrics", "Prometheus metrics"),
    ]
    items = "".join(
        f'<li><a href="{escape(href)}">{escape(href)}</a>: {escape(what)}</li>' for href, what in here
    )
    companions = companion_links(settings)
    if companions:
        elsewhere = "".join(
            f'<dt>{escape(name)}</dt><dd><a href="{escape(url)}">{escape(url)}</a>: {escape(what)}</dd>'
            for name, url, what in companions
        )
        elsewhere_html = f"<h2>Around it</h2><dl>{elsewhere}</dl>"
    else:
        elsewhere_html = ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>MindLens</title><style>{STYLE}</style></head><body>"
        f"<h1>MindLens</h1><p>{escape(SUMMARY)}</p>"
        f"<h2>Model</h2>{_model_html(store)}"
        f"<h2>Here</h2><ul>{items}</ul>"
        f"{elsewhere_html}"
        f'<p class="muted">MindLens {escape(__version__)}</p></body></html>'
    )


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
def landing(request: Request, settings: SettingsDep, store: StoreDep) -> HTMLResponse:
    """The landing page (HTML; HEAD answers its headers alone)."""
    ui_paths: dict[str, str] = getattr(request.app.state, "ui", {}) or {}
    return HTMLResponse(render_landing(settings, store, ui_paths))
