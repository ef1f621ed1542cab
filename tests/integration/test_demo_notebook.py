"""``notebooks/demo.ipynb``, the newcomer's tour, executed by papermill in a real kernel
against the shipped V1, the running API (``live_server``), the test registry and its TF-IDF
baseline run (``champion_settings``), then rendered to HTML as the reports are."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "demo.ipynb"


def test_the_demo_notebook_runs_end_to_end(live_server: str, tmp_path: Path) -> None:
    import nbformat
    import papermill

    from mindlens.notebooks import render_html

    source = nbformat.read(NOTEBOOK, as_version=4)
    assert len(source.cells) == 10
    executed, result_path = tmp_path / "demo.ipynb", tmp_path / "demo.json"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        parameters={"api_url": live_server, "result_path": str(result_path)},
        kernel_name="python3",
        cwd=str(ROOT),
        progress_bar=False,
    )
    summary = json.loads(result_path.read_text())
    served = httpx.get(f"{live_server}/version", timeout=30).json()["model"]
    assert summary["api_model"]["version"] == served["version"]  # the API cell reached the server
    assert summary["fragments"] > 0 and summary["traits"]  # V1 finds the sample's name calling, slogans
    assert any("champion" in v["aliases"] for v in summary["registry_versions"])
    assert summary["compared"] == ["TF-IDF baseline", "V1 (shipped)"]
    examples = len(list((ROOT / "demo" / "examples").glob("*.txt")))
    assert summary["comparison_rows"] == 2 * examples and sum(summary["technique_counts"].values()) > 0

    cells = nbformat.read(executed, as_version=4).cells
    outputs = [output for cell in cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html_outputs = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("<mark" in h and "Fragments and evidence" in h for h in html_outputs)  # highlighted inline
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the technique plot
    html = render_html(executed, include_code=True)  # a tour of the library: its code is the point
    page = html.read_text(encoding="utf-8")
    assert "MindLens in ten cells" in page and "# 1. Analyse a text with the library" in page
