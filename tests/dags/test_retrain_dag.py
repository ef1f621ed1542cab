"""The retrain DAG: parses without heavy imports, has the expected shape, and runs end to end
with ``dag.test()`` on a small real slice: the gate keeps the champion when the candidate
drops on the fixed sets, and promotes it when the configured tolerance allows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import needs_ptc

TASKS = {
    "rebuild_dataset",
    "candidates",
    "train",
    "select",
    "evaluate",
    "register",
    "decide",
    "promote",
    "redeploy",
}
FEEDBACK = [
    {
        "id": "fb-1",
        "text": "They are traitors and cowards, all of them!",
        "origin": "feedback",
        "spans": [{"start": 9, "end": 28, "technique": "name_calling"}],
    },
    {
        "id": "fb-2",
        "text": "The committee meets on Tuesday at noon.",
        "no_technique": True,
        "origin": "feedback",
    },
]


def test_dag_imports_with_expected_shape(dagbag):
    assert dagbag.import_errors == {}
    dag = dagbag.dags["mindlens_retrain"]
    assert {t.task_id for t in dag.tasks} == TASKS
    assert dag.get_task("train").upstream_task_ids == {"rebuild_dataset", "candidates"}
    assert dag.get_task("evaluate").upstream_task_ids == {"select", "rebuild_dataset"}
    assert dag.get_task("register").upstream_task_ids == {"evaluate"}
    assert dag.get_task("decide").upstream_task_ids == {"evaluate", "register"}
    assert dag.get_task("promote").upstream_task_ids == {"decide"}
    assert dag.get_task("redeploy").upstream_task_ids == {"promote"}
    assert dag.schedule is None and dag.max_active_runs == 1
    assert set(dag.params) == {"max_documents", "candidates", "reason", "promote"}


def test_no_heavy_imports_at_parse_time(heavy_imports):
    modules = ("mlflow", "sklearn", "papermill", "mindlens.retrain", "mindlens.pipeline", "mindlens.training")
    assert heavy_imports("mindlens_retrain", modules) == []


def _decision(client, run_id: str) -> dict:
    import mlflow

    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="decision.json")
    return json.loads(Path(path).read_text())


@needs_ptc
@pytest.mark.slow
def test_retrain_gates_then_promotes(dagbag, task_states, tmp_path, monkeypatch):
    from airflow.utils import db

    from mindlens.config import get_settings, reset_settings_cache
    from mindlens.data.prepare import prepare_dataset
    from mindlens.data.sources import curated
    from mindlens.registry import champion_info, list_versions, register_if_better
    from mindlens.training.baseline import train_baseline

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MINDLENS_SERVING__API_URL", "http://127.0.0.1:9")  # nothing listens
    reset_settings_cache()
    settings = get_settings()
    prepare_dataset(settings, max_documents=12, sources=["ptc"])
    first = train_baseline(settings, run_name="champion")
    register_if_better(settings, first.run_id, first.model_uri)
    curated.write_jsonl(tmp_path / "labels" / "feedback" / "0123456789abcdef.jsonl", FEEDBACK)
    db.resetdb()
    dag = dagbag.dags["mindlens_retrain"]

    # A strict gate (no drop tolerated, no noise allowance) with the legacy val_micro_f1 beside
    # the unseen-story metrics: adding curated data costs this tiny model a little on the PTC
    # validation slice, so the new version stays challenger. (On a 12-article slice only a
    # couple of val articles have an unseen story, and both models agree on them: the shipped
    # gate would pass.)
    monkeypatch.setenv(
        "MINDLENS_RETRAIN__GATE__METRICS", '["val_micro_f1", "unseen_tc_micro_f1", "unseen_si_f1"]'
    )
    monkeypatch.setenv("MINDLENS_RETRAIN__GATE__TOLERANCE", "0.0")
    monkeypatch.setenv("MINDLENS_RETRAIN__GATE__NOISE_Z", "0.0")
    reset_settings_cache()
    run = dag.test(run_conf={"max_documents": 12, "reason": "test"})
    states = task_states(run)
    assert run.state == "success", states
    assert champion_info(settings).version == "1"
    rows = {r["version"]: r for r in list_versions(settings)}
    assert rows["2"]["aliases"] == ["challenger"] and rows["2"]["semver"] == "1.1.0"
    assert "2 reviewed feedback text(s)" in rows["2"]["changelog"]

    import mlflow

    client = mlflow.MlflowClient()
    version = client.get_model_version(settings.mlflow.registered_model, "2")
    assert version.tags["gate"] == "failed" and "beyond tolerance" in version.tags["gate_reasons"]
    retrain_run = client.get_run(version.tags["retrain_run_id"])
    assert retrain_run.data.tags["gate"] == "failed" and retrain_run.data.tags["promoted"] == "false"
    assert retrain_run.data.tags["retrain.reason"] == "test"
    metrics = retrain_run.data.metrics
    assert metrics["candidate.feedback_agreement"] > metrics["champion.feedback_agreement"]
    assert metrics["candidate.feedback_documents"] == 2
    decision = _decision(client, retrain_run.info.run_id)
    assert decision["decision"] == "failed" and decision["reasons"]
    assert {c["metric"] for c in decision["checks"]} >= {
        "val_micro_f1",
        "unseen_tc_micro_f1",
        "feedback_agreement",
    }
    assert metrics["candidate.unseen_articles"] == metrics["champion.unseen_articles"] > 0
    assert "unseen_tc_micro_f1" in decision["paired_sd"]  # same article draws for both models

    # A gate that tolerates the drop: the next version passes, becomes champion, and the
    # redeploy call is made (nothing listens here, which is not an error).
    monkeypatch.setenv("MINDLENS_RETRAIN__GATE__TOLERANCE", "1.0")
    reset_settings_cache()
    run = dag.test(run_conf={"max_documents": 12})
    assert run.state == "success", task_states(run)
    champion = champion_info(get_settings())
    assert champion.version == "3" and champion.semver == "1.2.0"
    version = client.get_model_version(settings.mlflow.registered_model, "3")
    assert sorted(version.aliases) == ["challenger", "champion"]
    assert version.tags["gate"] == "passed" and version.tags["previous_champion"] == "1"
    assert _decision(client, version.tags["retrain_run_id"])["passed"] is True
