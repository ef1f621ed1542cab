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

# candidate family -> its training notebook (the transformer families share one network class)
NOTEBOOKS = {
    "tfidf": "train_baseline",
    "span": "train_span",
    "tagger": "train_span",
    "sentence": "train_sentence",
    "tc": "train_tc",
    "clickbait": "train_clickbait",
    "multitask": "train_multitask",
}
FAMILIES = tuple(NOTEBOOKS)


def fetch_data(settings: Settings | None = None) -> dict[str, Any]:
    """Make sure every public source is in the data directory (download where missing)."""
    from mindlens.data.fetch import fetch

    settings = settings or get_settings()
    report = fetch(settings.data_dir, progress=False)
    log.info("%s", report.render())
    return {"data_dir": str(settings.data_dir), "files": dict(report.counts())}


def prepare_data(max_documents: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Raw sources -> processed tables; returns the manifest (and its path)."""
    from dataclasses import asdict

    from mindlens.data.dataset import MANIFEST
    from mindlens.data.prepare import prepare_dataset

    manifest = prepare_dataset(settings or get_settings(), max_documents=max_documents)
    log.info(
        "dataset %s hash=%s near-duplicates=%d",
        manifest.folder,
        manifest.content_hash,
        manifest.near_duplicates,
    )
    return asdict(manifest) | {"manifest_path": f"{manifest.folder}/{MANIFEST}"}


def validate_data(manifest_path: str, settings: Settings | None = None) -> dict[str, Any]:
    """Run the data tests; a failure raises with the readable report (fails the DAG run)."""
    from mindlens.data.validation import DataValidationError, validate_manifest

    report = validate_manifest(manifest_path)
    log.info("data validation:\n%s", report.render())
    if not report.ok:
        raise DataValidationError(report.render())
    return report.summary()


def candidates(
    conf: list[dict[str, Any]] | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The candidates to train: the run's conf if given, else the config's (validated)."""
    from mindlens.config import Candidate

    settings = settings or get_settings()
    chosen = [Candidate(**c) for c in conf] if conf else settings.train.candidates
    names = [c.name for c in chosen]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be unique: {names}")
    return [c.model_dump() for c in chosen]


def train_candidate(
    candidate: dict[str, Any], manifest_path: str, settings: Settings | None = None
) -> dict[str, Any]:
    """Train one candidate through its family's notebook (the report is logged to its run)."""
    from mindlens.notebooks import run_notebook

    settings = settings or get_settings()
    family, name = candidate["family"], candidate["name"]
    if family not in NOTEBOOKS:
        raise ValueError(
            f"candidate {name}: unknown family {family!r} (expected one of {', '.join(FAMILIES)})"
        )
    parameters = {"manifest_path": manifest_path, "run_name": name}
    parameters |= (
        {"overrides": candidate.get("params", {})}
        if family == "tfidf"
        else {"config": candidate.get("params", {}) | {"family": family}}
    )
    run = run_notebook(settings, NOTEBOOKS[family], parameters)
    if not run.result.get("run_id"):
        raise RuntimeError(f"candidate {name}: the notebook reported no MLflow run ({run.notebook})")
    log.info("candidate %s: MLflow run_id=%s report=%s", name, run.result["run_id"], run.html)
    return run.result | {
        "candidate": name,
        "report_notebook": str(run.notebook),
        "report_html": str(run.html),
    }


def select(results: list[dict[str, Any]], settings: Settings | None = None) -> dict[str, Any]:
    """Apply the selection rule of the config: best metric among candidates within the
    latency bound. Raises when no candidate qualifies."""
    rule = (settings or get_settings()).train.selection
    metric, split = rule.metric, rule.metric.split("_", 1)[0]
    qualified = []
    for result in results:
        latency = result["metrics"].get(f"{split}_latency_p95_ms")
        if rule.max_p95_latency_ms is not None and latency is not None and latency > rule.max_p95_latency_ms:
            log.info(
                "candidate %s excluded: p95 %.0f ms > %.0f ms",
                result["candidate"],
                latency,
                rule.max_p95_latency_ms,
            )
            continue
        if metric not in result["metrics"]:
            raise ValueError(f"candidate {result['candidate']} has no metric {metric}")
        qualified.append(result)
    if not qualified:
        raise ValueError(f"no candidate meets the selection rule ({rule.model_dump()})")
    best = max(qualified, key=lambda r: r["metrics"][metric])
    log.info(
        "selected %s: %s=%.4f among %s",
        best["candidate"],
        metric,
        best["metrics"][metric],
        [r["candidate"] for r in results],
    )
    return best | {
        "selection": {
            "metric": metric,
            "candidates": {r["candidate"]: r["metrics"].get(metric) for r in results},
        }
    }


def profile_data(manifest_path: str, settings: Settings | None = None) -> dict[str, Any]:
    """Execute ``notebooks/data_profile.ipynb``; its report is logged to its own MLflow run."""
    from mindlens.notebooks import run_notebook

    run = run_notebook(settings or get_settings(), "data_profile", {"manifest_path": manifest_path})
    log.info("MLflow run_id=%s data profile report=%s", run.result.get("run_id"), run.html)
    return run.result | {"report_notebook": str(run.notebook), "report_html": str(run.html)}


def evaluation_reports(
    model_uri: str | None, split: str = "val", run_id: str | None = None, settings: Settings | None = None
) -> dict[str, dict[str, Any]]:
    """Execute ``evaluate.ipynb`` and ``error_analysis.ipynb`` for a model; both reports
    (and their figures) are logged to ``run_id`` (the training run) or to runs of their own."""
    from mindlens.notebooks import run_notebook

    settings = settings or get_settings()
    results = {}
    for name in ("evaluate", "error_analysis"):
        run = run_notebook(settings, name, {"model_uri": model_uri, "split": split, "run_id": run_id})
        log.info("MLflow run_id=%s %s report=%s", run.result.get("run_id"), name, run.html)
        results[name] = run.result | {"report_notebook": str(run.notebook), "report_html": str(run.html)}
    return results


def register(run_id: str, model_uri: str, settings: Settings | None = None) -> dict[str, Any]:
    """New registry version; champion alias if it beats the current champion."""
    from mindlens.registry import register_if_better

    result = register_if_better(settings or get_settings(), run_id, model_uri)
    log.info(
        "MLflow run_id=%s registered as v%s promoted=%s (%s)",
        run_id,
        result.version,
        result.promoted,
        result.reason,
    )
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
