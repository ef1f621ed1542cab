"""The batch-scoring DAG: parses without heavy imports, has the expected shape, and a run over
a small corpus scores two mapped chunks with the shipped champion, merges them into one
Parquet with its manifest and executes the corpus report (logged to MLflow, HTML beside the
results); a run without its parameters fails in ``plan`` saying what is missing."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import data_dir, needs_ptc

TASKS = {"plan", "score", "merge", "report"}


def test_dag_imports_with_expected_shape(dagbag):
    assert not {k: v for k, v in dagbag.import_errors.items() if "mindlens_batch_score" in k}
    dag = dagbag.dags.get("mindlens_batch_score")
    assert dag is not None
    assert {t.task_id for t in dag.tasks} == TASKS
    assert dag.get_task("score").upstream_task_ids == {"plan"}
    assert dag.get_task("merge").upstream_task_ids == {"score"}
    assert dag.get_task("report").upstream_task_ids == {"merge"}
    assert set(dag.params) == {"input_path", "output_dir", "chunk_size", "max_documents"}


def test_no_heavy_imports_at_parse_time(heavy_imports):
    modules = ("mlflow", "pyarrow", "papermill", "mindlens.batch", "mindlens.models")
    assert heavy_imports("mindlens_batch_score", modules) == []


@pytest.mark.slow
@needs_ptc
def test_run_scores_chunks_merges_and_reports(
    airflow_db, dagbag, task_states, shipped_state, monkeypatch, tmp_path
):
    import mlflow

    from mindlens.config import Settings, reset_settings_cache
    from mindlens.training.release import file_sha256

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(shipped_state))
    reset_settings_cache()
    articles = sorted((data_dir() / "ptc-semeval2020-task11" / "datasets" / "train-articles").glob("*.txt"))
    corpus = tmp_path / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as handle:
        for i, path in enumerate(articles[:5]):
            record = {
                "id": path.stem,
                "text": path.read_text(encoding="utf-8")[:600],
                "source": ["a", "b"][i % 2],
                "date": f"2021-0{1 + i % 2}-03",
            }
            handle.write(json.dumps(record) + "\n")
    out = tmp_path / "scored"
    dag = dagbag.dags["mindlens_batch_score"]
    conf = {"input_path": str(corpus), "output_dir": str(out), "chunk_size": 2, "max_documents": 4}

    run = dag.test(run_conf=conf)
    assert run.state == "success"
    assert task_states(run) == {t: "success" for t in TASKS}
    mapped = [ti for ti in run.get_task_instances() if ti.task_id == "score"]
    assert sorted(ti.map_index for ti in mapped) == [0, 1]

    manifest = json.loads((out / "manifest.json").read_text())
    results = pd.read_parquet(out / "results.parquet")
    assert results["id"].tolist() == [p.stem for p in articles[:4]]
    assert manifest["input"]["max_documents"] == 4 and manifest["counts"]["documents"] == 4
    assert manifest["output"]["sha256"] == file_sha256(out / "results.parquet")
    assert [c["index"] for c in manifest["timings"]["chunks"]] == [0, 1]
    assert all(c["load_s"] > 0 for c in manifest["timings"]["chunks"])  # each task loads the model
    assert (out / "report.html").stat().st_size > 10_000
    page = (out / "report.html").read_text(encoding="utf-8")  # a report: header, contents, no code
    assert "<th>Report</th><td>corpus_report</td>" in page and "results sha256" in page
    assert f"v{manifest['model']['version']}</td>" in page
    assert '<a href="#Corpus-statistics">Corpus statistics</a>' in page and "pd.read_parquet(" not in page
    assert "pd.read_parquet(" in (out / "report.ipynb").read_text()
    executed = json.loads((out / "report.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []

    settings = Settings(state_dir=shipped_state)
    client = mlflow.MlflowClient(settings.mlflow.tracking_uri)
    experiment = client.get_experiment_by_name(settings.mlflow.experiment)
    [latest] = client.search_runs(
        [experiment.experiment_id],
        "tags.notebook = 'corpus_report'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    assert latest.data.metrics["documents"] == 4
    assert latest.data.tags["model_version"] == manifest["model"]["version"]
    artifacts = {
        a.path for folder in ("reports", "corpus") for a in client.list_artifacts(latest.info.run_id, folder)
    }
    assert {
        "corpus/manifest.json",
        "corpus/technique_frequencies.png",
        "corpus/traits_per_source.png",
        "corpus/traits_per_month.png",
    } <= artifacts
    assert any(a.endswith(".html") for a in artifacts) and any(a.endswith(".ipynb") for a in artifacts)


@pytest.mark.slow
def test_run_without_parameters_fails_in_plan(airflow_db, dagbag, task_states):
    # explicit blanks: dag.test() keeps an earlier run's conf in the (module-shared) DAG's params
    run = dagbag.dags["mindlens_batch_score"].test(run_conf={"input_path": "", "output_dir": " "})
    assert run.state == "failed"
    assert task_states(run)["plan"] == "failed"
