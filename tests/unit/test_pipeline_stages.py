"""The pipeline and the retrain job compose the same stage functions (``mindlens.pipeline``);
the stages that decide without MLflow behave as the DAGs expect."""

from __future__ import annotations

import json

import pytest

from mindlens import pipeline, retrain
from mindlens.config import Settings
from mindlens.pipeline import data, deploy, selection, training


def test_the_retrain_job_composes_the_pipeline_stages():
    assert retrain.train_candidate is pipeline.train_candidate is training.train_candidate
    assert retrain.select is pipeline.select is selection.select
    assert retrain.redeploy is pipeline.redeploy is deploy.redeploy
    assert retrain.rebuild_dataset is data.rebuild_dataset


def test_candidates_come_from_the_job_section_unless_the_run_names_them(tmp_path):
    settings = Settings(state_dir=tmp_path)
    assert [c["name"] for c in training.candidates(None, settings)] == [
        c.name for c in settings.train.candidates
    ]
    assert [c["name"] for c in training.retrain_candidates(None, settings)] == [
        c.name for c in settings.retrain.candidates
    ]
    conf = [{"name": "only", "family": "tfidf"}]
    assert training.retrain_candidates(conf, settings) == [{"name": "only", "family": "tfidf", "params": {}}]
    with pytest.raises(ValueError, match="unique"):
        training.candidates(conf * 2, settings)


def test_select_applies_the_latency_bound(tmp_path):
    settings = Settings(state_dir=tmp_path, train={"selection": {"max_p95_latency_ms": 100}})
    results = [
        {"candidate": "fast", "metrics": {"cv_flc_f1": 0.2, "val_latency_p95_ms": 50}},
        {"candidate": "slow", "metrics": {"cv_flc_f1": 0.9, "val_latency_p95_ms": 500}},
    ]
    best = selection.select(results, settings)
    assert best["candidate"] == "fast"
    assert best["selection"]["excluded"] == {"slow": "p95 500 ms > 100 ms"}
    json.dumps(best)  # an XCom


def _candidate(name: str, family: str = "tfidf", **metrics: float) -> dict:
    return {"candidate": name, "family": family, "metrics": metrics}


def test_select_uses_the_protocol_metric_where_the_legacy_split_disagrees(tmp_path, caplog):
    settings = Settings(state_dir=tmp_path)
    assert settings.train.selection.metric == "cv_flc_f1"  # the shipped rule
    results = [
        _candidate("lucky", val_flc_f1=0.15, cv_flc_f1=0.08, cv_flc_f1_sd=0.01),
        _candidate("honest", val_flc_f1=0.12, cv_flc_f1=0.11, cv_flc_f1_sd=0.01),
        _candidate("minilm", family="span", val_flc_f1=0.30),  # a slow family: no CV
    ]
    with caplog.at_level("INFO", logger="mindlens.pipeline.selection"):
        best = selection.select(results, settings)
    assert best["candidate"] == "honest"
    assert best["selection"]["metric"] == "cv_flc_f1"
    assert best["selection"]["legacy"] == {"lucky": 0.15, "honest": 0.12, "minilm": 0.30}
    assert "minilm" in best["selection"]["excluded"] and "holdout" in best["selection"]["excluded"]["minilm"]
    assert "selected honest by cv_flc_f1=0.1100" in caplog.text
    assert "legacy split (val_flc_f1) would have selected lucky" in caplog.text
    json.dumps(best)


def test_select_with_only_slow_candidates_says_why(tmp_path):
    settings = Settings(state_dir=tmp_path)
    with pytest.raises(ValueError, match="minilm: no cv_flc_f1.*protocol holdout"):
        selection.select([_candidate("minilm", family="span", val_flc_f1=0.3)], settings)


def test_select_still_accepts_a_legacy_metric(tmp_path):
    settings = Settings(state_dir=tmp_path, train={"selection": {"metric": "val_flc_f1"}})
    results = [_candidate("a", val_flc_f1=0.15, cv_flc_f1=0.08), _candidate("b", val_flc_f1=0.12)]
    best = selection.select(results, settings)
    assert best["candidate"] == "a" and best["selection"]["metric"] == "val_flc_f1"
    with pytest.raises(ValueError, match="has no metric val_flc_f1"):
        selection.select([_candidate("c", cv_flc_f1=0.1)], settings)


def test_held_out_metrics_select_across_fast_and_slow_families(tmp_path):
    settings = Settings(state_dir=tmp_path, train={"selection": {"metric": "holdout_flc_f1"}})
    assert settings.train.selection.legacy_metric == "val_flc_f1"
    results = [_candidate("tfidf", holdout_flc_f1=0.09), _candidate("minilm", "span", holdout_flc_f1=0.2)]
    assert selection.select(results, settings)["candidate"] == "minilm"


def test_redeploy_only_when_the_champion_moved(tmp_path):
    settings = Settings(state_dir=tmp_path, serving={"api_url": "http://127.0.0.1:9"})  # nothing listens
    assert deploy.redeploy({"promoted": False}, settings) == {
        "notified": False,
        "reason": "champion unchanged",
    }
    answer = deploy.redeploy({"promoted": True}, settings)
    assert answer["notified"] is False and answer["reason"].startswith("API not reachable")


def test_a_failed_or_disabled_gate_promotes_nothing(tmp_path):
    settings = Settings(state_dir=tmp_path)
    failed = {"version": "4", "passed": False, "reasons": ["val_micro_f1: beyond tolerance"]}
    assert deploy.promote_if_passed(failed, settings=settings) == {
        "promoted": False,
        "version": "4",
        "reason": "gate failed: val_micro_f1: beyond tolerance",
    }
    passed = {"version": "4", "passed": True, "reasons": []}
    result = deploy.promote_if_passed(passed, allow=False, settings=settings)
    assert result["promoted"] is False and "disabled" in result["reason"]


# --- the training stage logs the protocol's figures -----------------------------------------
@pytest.fixture
def small_manifest(tmp_path):
    from test_protocol import LOADED, _corpus

    from mindlens.data.dataset import build_tables, write_dataset

    tables = build_tables([_corpus()], 0.25, seed=1)
    return write_dataset(tables, tmp_path / "data", label_spaces={"ptc": [t for _, t in LOADED]})


def _run(settings: Settings) -> str:
    from mindlens.tracking import configure_mlflow, mlflow_client

    experiment = configure_mlflow(settings)
    return mlflow_client(settings).create_run(experiment).info.run_id


def test_a_fast_candidate_is_cross_validated_onto_its_run(tmp_path, small_manifest, caplog):
    from mindlens.tracking import mlflow_client

    settings = Settings(state_dir=tmp_path, protocol={"k": 3, "similarity_threshold": 0.9})
    run_id = _run(settings)
    candidate = {"name": "tfidf", "family": "tfidf", "params": {"min_df": 1}}
    with caplog.at_level("INFO"):
        metrics = training.protocol_metrics(
            candidate, {"run_id": run_id, "model_uri": None}, small_manifest.folder, settings
        )
    assert metrics["cv_folds"] == 3
    assert {"cv_flc_f1", "cv_flc_f1_sd", "cv_tc_micro_f1", "cv_si_f1"} <= set(metrics)
    logged = mlflow_client(settings).get_run(run_id).data.metrics
    assert logged["cv_flc_f1"] == pytest.approx(metrics["cv_flc_f1"])
    assert "cv tfidf: fold 3/3" in caplog.text  # progress in the task log


def test_a_slow_candidate_gets_no_cv_and_the_log_says_why(tmp_path, small_manifest, caplog):
    settings = Settings(state_dir=tmp_path)
    with caplog.at_level("INFO"):
        metrics = training.protocol_metrics(
            {"name": "minilm", "family": "span"},
            {"run_id": "x", "model_uri": None},
            small_manifest.folder,
            settings,
        )
    assert metrics == {}
    assert "too slow for k-fold" in caplog.text and "protocol holdout" in caplog.text


def test_cv_in_the_training_stage_can_be_switched_off(tmp_path, small_manifest):
    settings = Settings(state_dir=tmp_path, protocol={"cv_candidates": False})
    candidate = {"name": "tfidf", "family": "tfidf"}
    assert training.protocol_metrics(candidate, {"run_id": "x"}, small_manifest.folder, settings) == {}


def test_a_sample_with_fewer_story_groups_than_k_gets_one_fold_per_group(tmp_path, small_manifest):
    settings = Settings(state_dir=tmp_path, protocol={"k": 10})  # 6 topics: 6 groups at 0.25
    run_id = _run(settings)
    candidate = {"name": "tfidf", "family": "tfidf", "params": {"min_df": 1}}
    metrics = training.protocol_metrics(candidate, {"run_id": run_id}, small_manifest.folder, settings)
    assert metrics["cv_folds"] == 6
