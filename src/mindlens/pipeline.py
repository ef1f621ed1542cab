"""The pipeline's stages as plain functions: the DAG's tasks and the CLI both call these.

Each takes and returns JSON-serialisable values (they travel as XComs between
Airflow workers) and reads its settings itself, so a task runs on any worker
that has the project and its configuration.
"""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import Settings, get_settings

log = logging.getLogger(__name__)


def prepare_data(max_articles: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Raw PTC -> processed sentence dataset; returns the manifest."""
    from dataclasses import asdict

    from mindlens.data.prepare import prepare_dataset

    manifest = prepare_dataset(settings or get_settings(), max_articles=max_articles)
    log.info("dataset %s rows=%s hash=%s", manifest.path, manifest.rows, manifest.content_hash)
    return asdict(manifest) | {"manifest_path": manifest.path.replace(".parquet", ".manifest.json")}


def train_with_notebook(manifest_path: str, overrides: dict[str, Any] | None = None,
                        settings: Settings | None = None) -> dict[str, Any]:
    """Run ``notebooks/train_baseline.ipynb``; the executed report is logged to the run."""
    from mindlens.notebooks import run_notebook

    run = run_notebook(settings or get_settings(), "train_baseline",
                       {"manifest_path": manifest_path, "overrides": overrides or {},
                        "run_name": "pipeline-train-baseline"})
    if not run.result.get("run_id"):
        raise RuntimeError(f"the training notebook reported no MLflow run ({run.notebook})")
    log.info("MLflow run_id=%s report=%s", run.result["run_id"], run.html)
    return run.result | {"report_notebook": str(run.notebook), "report_html": str(run.html)}


def register(run_id: str, model_uri: str, settings: Settings | None = None) -> dict[str, Any]:
    """New registry version; champion alias if it beats the current champion."""
    from mindlens.registry import register_if_better

    result = register_if_better(settings or get_settings(), run_id, model_uri)
    log.info("MLflow run_id=%s registered as v%s promoted=%s (%s)",
             run_id, result.version, result.promoted, result.reason)
    return result.as_dict()


def notify_reload(settings: Settings | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the running API to reload its champion; a stopped API is not an error."""
    import httpx

    settings = settings or get_settings()
    url = f"{settings.serving.url.rstrip('/')}/admin/reload"
    headers = {"X-API-Key": settings.serving.admin_token} if settings.serving.admin_token else {}
    try:
        response = httpx.post(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as err:
        log.warning("API not reachable at %s (%s); it loads the champion when it starts", url, err)
        return {"notified": False, "url": url, "reason": f"API not reachable: {err}"}
    if response.status_code >= 400:
        raise RuntimeError(f"reload at {url} answered {response.status_code}: {response.text[:300]}")
    return {"notified": True, "url": url, **response.json()}
