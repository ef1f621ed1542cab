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
        {"candidate": "fast", "metrics": {"val_flc_f1": 0.2, "val_latency_p95_ms": 50}},
        {"candidate": "slow", "metrics": {"val_flc_f1": 0.9, "val_latency_p95_ms": 500}},
    ]
    best = selection.select(results, settings)
    assert best["candidate"] == "fast"
    json.dumps(best)  # an XCom


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
