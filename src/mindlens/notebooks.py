"""Run a research notebook with papermill and keep its executed copy as the report.

The notebook writes a small JSON result (at least the MLflow ``run_id``) to
the ``result_path`` parameter; the executed ``.ipynb`` and its HTML rendering
are then logged to that run, so the report travels with the model.

The HTML is for reading: no code cells unless asked (the ``.ipynb`` keeps them), a header
saying which model, data and run it is about, a table of contents, and links to the other
reports logged to the same run (``mindlens.report_html``).
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mindlens.config import PROJECT_ROOT, RESOURCE_ROOT, Settings
from mindlens.report_html import RunReport, decorate, set_run_reports

log = logging.getLogger(__name__)
NOTEBOOK_DIR = RESOURCE_ROOT / "notebooks"
REPORTS_ARTIFACT_DIR = "reports"  # the run's artifact folder that holds its reports
NOT_KNOWN = "-"


class NotebookFailed(RuntimeError):
    """A notebook raised; the executed copy (with the traceback) is kept for reading."""


@dataclass
class NotebookRun:
    notebook: Path
    html: Path
    result: dict[str, Any]


def render_html(
    notebook: Path,
    *,
    include_code: bool = False,
    header: Mapping[str, str] | None = None,
    reports: list[RunReport] | None = None,
) -> Path:
    """Write ``<notebook>.html`` beside the notebook and return its path.

    Code cells are left out unless ``include_code`` (a reader wants the results; the
    ``.ipynb`` keeps the code). With a ``header`` the page starts with it, a table of
    contents and the run's other reports."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not include_code,
        exclude_input_prompt=not include_code,
        exclude_output_prompt=not include_code,
    )
    node = nbformat.read(notebook, as_version=4)
    if not include_code:  # a code cell without output (imports, parameters) would be a blank gap
        node.cells = [c for c in node.cells if c.cell_type != "code" or c.get("outputs")]
    body, _ = exporter.from_notebook_node(node)
    if header is not None:
        body = decorate(body, header, reports or [])
    html = notebook.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def report_header(
    name: str, parameters: Mapping[str, Any], result: Mapping[str, Any], run: Any = None
) -> dict[str, str]:
    """Report, model, data content hash, date and MLflow run of one executed notebook.

    The one place that knows where the notebooks leave these facts: their result file
    (``model``, ``data_content_hash``), their parameters (``model_uri``) and the tags and
    params of the MLflow run they logged to (``run``: an ``mlflow.entities.Run`` or None)."""
    tags: Mapping[str, str] = run.data.tags if run is not None else {}
    params: Mapping[str, str] = run.data.params if run is not None else {}

    def first(*values: Any) -> str:
        return next((str(v) for v in values if v not in (None, "")), NOT_KNOWN)

    named = f"{tags['model_name']} v{tags['model_version']}" if tags.get("model_name") else None
    uri = first(result.get("model_uri"), parameters.get("model_uri"), tags.get("model_uri"))
    champion = "the registry champion" if "model_uri" in parameters and uri == NOT_KNOWN else None
    model = first(
        result.get("model"),
        named,
        tags.get("error_analysis.model"),
        None if uri == NOT_KNOWN else uri,
        champion,
    )
    data = first(
        result.get("data_content_hash"),
        tags.get("data_content_hash"),
        tags.get("error_analysis.data_content_hash"),
        params.get("data_content_hash"),
    )
    if data == NOT_KNOWN and params.get("results_sha256"):  # the corpus report: its scored batch
        data = f"batch results sha256 {params['results_sha256']}"
    header = {"Report": name, "Model": model, "Data content hash": data}
    header["Date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header["MLflow run"] = first(result.get("run_id"))
    return header


def link_run_reports(client: Any, run_id: str, html: Path) -> list[RunReport]:
    """Give ``html`` and every HTML report already logged to ``run_id`` the list of the
    others, then log ``html``: earlier reports are downloaded, updated and logged again
    under the same name, so each report of the run links to all the others."""
    logged = [
        Path(a.path).name
        for a in client.list_artifacts(run_id, REPORTS_ARTIFACT_DIR)
        if a.path.endswith(".html") and Path(a.path).name != html.name
    ]
    names = sorted([*logged, html.name])

    def others(me: str) -> list[RunReport]:
        return [
            RunReport(_notebook_of(n), n, f"runs:/{run_id}/{REPORTS_ARTIFACT_DIR}/{n}")
            for n in names
            if n != me
        ]

    html.write_text(set_run_reports(html.read_text(encoding="utf-8"), others(html.name)), encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        for name in logged:
            path = Path(client.download_artifacts(run_id, f"{REPORTS_ARTIFACT_DIR}/{name}", tmp))
            path.write_text(set_run_reports(path.read_text(encoding="utf-8"), others(name)), encoding="utf-8")
            client.log_artifact(run_id, str(path), REPORTS_ARTIFACT_DIR)
    client.log_artifact(run_id, str(html), REPORTS_ARTIFACT_DIR)
    return others(html.name)


def _notebook_of(file: str) -> str:
    """``evaluate-20250101T120000-abc123.html`` -> ``evaluate`` (see the stamp in run_notebook)."""
    stem = Path(file).stem
    parts = stem.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else stem


def run_notebook(
    settings: Settings,
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    log_to_mlflow: bool = True,
    include_code: bool | None = None,
) -> NotebookRun:
    """Execute ``notebooks/<name>.ipynb`` with parameters into the reports folder.

    ``include_code``: keep the code cells in the HTML (default: ``reports.include_code``)."""
    import papermill

    source = NOTEBOOK_DIR / f"{name}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"no notebook {source}")
    code = settings.reports.include_code if include_code is None else include_code
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
        # the traceback is what a reader of a failed run needs: keep the code
        render_html(executed, include_code=True, header=report_header(name, params, {}))
        raise NotebookFailed(
            f"{name} failed in cell {err.cell_index}: {err.ename}: {err.evalue} (executed copy: {executed})"
        ) from None
    result = json.loads(result_path.read_text()) if result_path.is_file() else {}
    if not (log_to_mlflow and result.get("run_id")):
        html = render_html(executed, include_code=code, header=report_header(name, params, result))
        return NotebookRun(executed, html, result)
    import mlflow

    from mindlens.tracking import configure_mlflow

    configure_mlflow(settings)
    client = mlflow.MlflowClient()
    header = report_header(name, params, result, client.get_run(result["run_id"]))
    html = render_html(executed, include_code=code, header=header)
    client.log_artifact(result["run_id"], str(executed), REPORTS_ARTIFACT_DIR)
    link_run_reports(client, result["run_id"], html)
    return NotebookRun(executed, html, result)
