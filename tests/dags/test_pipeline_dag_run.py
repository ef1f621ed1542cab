"""End to end: the pipeline DAG on a small real slice of PTC, with ``dag.test()``."""

from pathlib import Path

import pytest
from conftest import needs_ptc

pytestmark = [needs_ptc, pytest.mark.slow]


def test_pipeline_runs_end_to_end(airflow_db, dagbag, tmp_path, monkeypatch):
    # A registry of its own, so this run must create the first champion.
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MINDLENS_SERVING__API_URL", "http://127.0.0.1:9")  # nothing listens
    from mindlens.config import get_settings, reset_settings_cache
    from mindlens.registry import champion_info

    reset_settings_cache()
    dag = dagbag.dags["mindlens_pipeline"]
    candidates = [
        {"name": "tfidf", "family": "tfidf"},
        {"name": "tfidf-heuristics", "family": "tfidf", "params": {"use_signals": True}},
    ]
    run = dag.test(run_conf={"max_documents": 16, "candidates": candidates})
    assert run.state == "success"

    settings = get_settings()
    champion = champion_info(settings)
    assert champion.version == "1" and champion.metric is not None

    executed = list((tmp_path / "reports" / "train_baseline").glob("*.ipynb"))
    assert len(executed) == 2  # one per mapped candidate
    assert executed[0].with_suffix(".html").is_file()

    import mlflow

    client = mlflow.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(champion.run_id, "reports")}
    assert (
        len([p for p in artifacts if p.endswith(".ipynb")]) == 3
    )  # its training, evaluation, error analysis
    pages = {
        Path(html).name: Path(client.download_artifacts(champion.run_id, html, str(tmp_path))).read_text(
            "utf-8"
        )
        for html in artifacts
        if html.endswith(".html")
    }
    assert len(pages) == 3
    for name, page in pages.items():  # each names its model and data, links to the other two
        assert f"<th>MLflow run</th><td>{champion.run_id}</td>" in page
        assert "<th>Data content hash</th><td>-</td>" not in page and "mindlens-toc" in page
        assert [other for other in pages if f'<a href="{other}">' in page] == [o for o in pages if o != name]
    evaluate_page = next(page for name, page in pages.items() if name.startswith("evaluate-"))
    assert "evaluate_analyzer(" not in evaluate_page  # no code cells
    names = {
        r.info.run_name
        for r in client.search_runs(
            [client.get_run(champion.run_id).info.experiment_id], "tags.model_family = 'tfidf_ovr'"
        )
    }
    assert names == {"tfidf", "tfidf-heuristics"}
    candidates_runs = client.search_runs(
        [client.get_run(champion.run_id).info.experiment_id], "tags.model_family = 'tfidf_ovr'"
    )
    rule = settings.train.selection
    eligible = [
        r
        for r in candidates_runs
        if r.data.metrics["val_latency_p95_ms"] <= (rule.max_p95_latency_ms or float("inf"))
    ]
    best = max(r.data.metrics[rule.metric] for r in eligible)
    assert champion.metric == pytest.approx(best)  # the selection rule picked the champion
    profile = list((tmp_path / "reports" / "data_profile").glob("*.ipynb"))
    assert len(profile) == 1 and profile[0].with_suffix(".html").is_file()
    profile_runs = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.notebook = 'data_profile'"
    )
    assert len(profile_runs) == 1
    profile_run = profile_runs.iloc[0]["run_id"]
    assert f"reports/{profile[0].name}" in {a.path for a in client.list_artifacts(profile_run, "reports")}

    run_data = client.get_run(champion.run_id).data
    assert run_data.params["data_content_hash"] == run_data.tags["data_content_hash"]
    assert run_data.metrics["data_rows.sentences.ptc.train"] > 0
    assert run_data.tags["model_family"] == "tfidf_ovr"
    assert run_data.tags["mlflow.source.git.commit"]
    assert run_data.params["config.data.seed"] == "13"
    for metric in (
        "val_micro_f1",
        "val_slc_f1",
        "val_si_f1",
        "val_tc_micro_f1",
        "val_flc_f1",
        "val_semeval2021_micro_f1",
        "val_logic_macro_f1",
        "val_clickbait_roc_auc",
        "val_ece",
        "train_micro_f1",
    ):
        assert metric in run_data.metrics, metric
    evaluation = {a.path for a in client.list_artifacts(champion.run_id, "evaluation")}
    assert "evaluation/val_confusion_matrix.png" in evaluation
    assert "evaluation/reliability_val.png" in evaluation
    for notebook in ("evaluate", "error_analysis"):
        assert len(list((tmp_path / "reports" / notebook).glob("*.ipynb"))) == 2, notebook
