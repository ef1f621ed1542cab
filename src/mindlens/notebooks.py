"""Run a research notebook with papermill and keep its executed copy as the report.

The notebook writes a small JSON result (at least the MLflow ``run_id``) to
the ``result_path`` parameter; the executed ``.ipynb`` and its HTML rendering
are then logged to that run, so the report travels with the model.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlens.config import PROJECT_ROOT, RESOURCE_ROOT, Settings

log = logging.getLogger(__name__)
NOTEBOOK_DIR = RESOURCE_ROOT / "notebooks"


class NotebookFailed(RuntimeError):
    """A notebook raised; the executed copy (with the traceback) is kept for reading."""


@dataclass
class NotebookRun:
    notebook: Path
    html: Path
    result: dict[str, Any]


def render_html(notebook: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4))
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def run_notebook(
    settings: Settings, name: str, parameters: dict[str, Any] | None = None, *, log_to_mlflow: bool = True
) -> NotebookRun:
    """Execute ``notebooks/<name>.ipynb`` with parameters into the reports folder."""
    import papermill

    source = NOTEBOOK_DIR / f"{name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"no notebook {source}")
    out_dir = settings.paths.reports / name
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"  # unique across parallel workers
    executed = out_dir / f"{name}-{stamp}.ipynb"
    result_path = out_dir / f"{name}-{stamp}.result.json"
    params = dict(parameters or {}) | {"result_path": str(result_path)}
    log.info("executing %s -> %s", source, executed)
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=params,
            kernel_name="python3",
            cwd=str(PROJECT_ROOT),
            progress_bar=False,
            log_output=False,
        )
    except papermill.PapermillExecutionError as err:
        render_html(executed)
        raise NotebookFailed(
            f"{name} failed in cell {err.cell_index}: {err.ename}: {err.evalue} (executed copy: {executed})"
        ) from None
    html = render_html(executed)
    result = json.loads(result_path.read_text()) if result_path.is_file() else {}
    if log_to_mlflow and result.get("run_id"):
        import mlflow

        from mindlens.tracking import configure_mlflow

        configure_mlflow(settings)
        client = mlflow.MlflowClient()
        client.log_artifact(result["run_id"], str(executed), "reports")
        client.log_artifact(result["run_id"], str(html), "reports")
    return NotebookRun(executed, html, result)
