"""The HTML reports read as reports: no code unless asked, a header, a table of contents and
links between the reports of one MLflow run (a real nbconvert, a real MLflow store)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from mindlens.notebooks import link_run_reports, render_html, report_header
from mindlens.report_html import RunReport, decorate, headings, set_run_reports, table_of_contents

CODE = "secret_marker = 40 + 2\nprint('the printed result', secret_marker)"
HEADER = {"Report": "evaluate", "Model": "mindlens-analyzer v3", "Data content hash": "abc123"}


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Evaluation report\n\nWhat this is."),
        v4.new_markdown_cell("## Main metrics"),
        v4.new_code_cell(
            CODE, outputs=[v4.new_output("stream", name="stdout", text="the printed result 42\n")]
        ),
        v4.new_code_cell("import json  # no output", outputs=[]),
        v4.new_markdown_cell("### Per technique & trait"),
    ]
    path = tmp_path / "evaluate-20260101T000000-abcdef.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_html_has_results_header_and_contents_but_no_code(notebook: Path) -> None:
    before = notebook.read_bytes()
    html = render_html(notebook, header=HEADER).read_text(encoding="utf-8")
    assert "the printed result 42" in html  # outputs stay
    assert "secret_marker" not in html and "jp-InputArea-editor" not in html.split("</style>")[-1]
    assert notebook.read_bytes() == before  # the .ipynb keeps its code
    assert html.count('class="jp-Cell jp-CodeCell') == 1  # the silent cell leaves no gap
    for key, value in HEADER.items():
        assert f"<th>{key}</th><td>{value}</td>" in html
    assert '<a href="#Main-metrics">Main metrics</a>' in html
    assert '<a href="#Per-technique-&amp;-trait">Per technique &amp; trait</a>' in html
    assert html.index("mindlens-report-header") < html.index("What this is.")  # at the top


def test_code_is_kept_when_asked(notebook: Path) -> None:
    html = render_html(notebook, include_code=True).read_text(encoding="utf-8")
    assert "secret_marker" in html and "# no output" in html
    assert "mindlens-report-header" not in html  # no header given


def test_headings_and_toc_skip_the_title() -> None:
    body = '<h1 id="T">T<a class="anchor-link" href="#T">¶</a></h1><h2 id="A-b">A <em>b</em></h2><h4 id="x">x</h4>'
    assert [(h.level, h.anchor, h.text) for h in headings(body)] == [(1, "T", "T"), (2, "A-b", "A b")]
    assert table_of_contents(body).count("<li") == 1
    assert table_of_contents("<p>no headings</p>") == ""


def test_run_reports_are_replaced_in_place() -> None:
    page = decorate("<html><body><main><p>x</p></main></body></html>", HEADER)
    assert "Other reports of this run" not in page
    linked = set_run_reports(page, [RunReport("drift_report", "d.html", "runs:/r/reports/d.html")])
    assert '<a href="d.html">drift_report</a>' in linked and "runs:/r/reports/d.html" in linked
    assert set_run_reports(linked, []) == page  # replaced, not appended
    assert set_run_reports("<p>plain</p>", []) == "<p>plain</p>"


def test_the_header_gathers_model_data_and_run_from_result_params_and_run() -> None:
    run = SimpleNamespace(
        data=SimpleNamespace(tags={"model_name": "mindlens-analyzer", "model_version": "4"}, params={})
    )
    header = report_header("drift_report", {}, {"run_id": "r1"}, run)
    assert header["Model"] == "mindlens-analyzer v4" and header["MLflow run"] == "r1"
    assert header["Data content hash"] == "-" and header["Date"].endswith("UTC")
    evaluated = report_header(
        "evaluate", {"model_uri": None}, {"model": "m v2", "data_content_hash": "h", "run_id": "r"}
    )
    assert (evaluated["Model"], evaluated["Data content hash"]) == ("m v2", "h")
    assert report_header("error_analysis", {"model_uri": None}, {})["Model"] == "the registry champion"
    trained = SimpleNamespace(data=SimpleNamespace(tags={"data_content_hash": "d"}, params={}))
    assert report_header("train_baseline", {}, {"model_uri": "runs:/x/analyzer"}, trained)["Model"] == (
        "runs:/x/analyzer"
    )


def test_each_report_of_a_run_links_to_the_others(
    notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from mindlens.config import get_settings, reset_settings_cache
    from mindlens.tracking import configure_mlflow

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path / "state"))
    reset_settings_cache()
    experiment = configure_mlflow(get_settings())
    client = mlflow.MlflowClient()
    run_id = client.create_run(experiment).info.run_id
    first = render_html(notebook, header=HEADER)
    assert link_run_reports(client, run_id, first) == []  # alone so far
    second_nb = notebook.with_name("error_analysis-20260101T000100-123456.ipynb")
    second_nb.write_bytes(notebook.read_bytes())
    second = render_html(second_nb, header=HEADER)
    assert link_run_reports(client, run_id, second) == [
        RunReport("evaluate", first.name, f"runs:/{run_id}/reports/{first.name}")
    ]
    logged = {
        Path(a.path).name: Path(client.download_artifacts(run_id, a.path, str(tmp_path))).read_text("utf-8")
        for a in client.list_artifacts(run_id, "reports")
    }
    assert set(logged) == {first.name, second.name}
    assert f'<a href="{second.name}">error_analysis</a>' in logged[first.name]  # updated afterwards
    assert f'<a href="{first.name}">evaluate</a>' in logged[second.name]
    assert f'href="{first.name}"' not in logged[first.name]  # not a link to itself
