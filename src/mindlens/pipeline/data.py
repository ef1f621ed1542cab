"""Data stages: fetch the public sources, build the processed dataset, test it, profile it.

The pipeline runs them one task each; the retrain job's ``rebuild_dataset`` chains the build
and the tests (every source, reviewed feedback included) before any training.
"""

from __future__ import annotations

import logging
from typing import Any

from mindlens.config import Settings, get_settings

log = logging.getLogger(__name__)

FEEDBACK_SOURCE = "feedback"  # the data source of reviewed user feedback


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


def profile_data(manifest_path: str, settings: Settings | None = None) -> dict[str, Any]:
    """Execute ``notebooks/data_profile.ipynb``; its report is logged to its own MLflow run."""
    from mindlens.notebooks import run_notebook

    run = run_notebook(settings or get_settings(), "data_profile", {"manifest_path": manifest_path})
    log.info("MLflow run_id=%s data profile report=%s", run.result.get("run_id"), run.html)
    return run.result | {"report_notebook": str(run.notebook), "report_html": str(run.html)}


def rebuild_dataset(max_documents: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Rebuild the processed dataset from every configured source (reviewed feedback
    included) and run the data tests; a failed test fails the job before any training."""
    settings = settings or get_settings()
    manifest = prepare_data(max_documents, settings)
    validate_data(manifest["manifest_path"], settings)
    documents = manifest["rows"]["documents"]
    feedback = sum(n for key, n in documents.items() if key.startswith(f"{FEEDBACK_SOURCE}/"))
    log.info("dataset %s: %d reviewed feedback document(s)", manifest["content_hash"][:12], feedback)
    return {
        "manifest_path": manifest["manifest_path"],
        "content_hash": manifest["content_hash"],
        "feedback_documents": feedback,
    }
