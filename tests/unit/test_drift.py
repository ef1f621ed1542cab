"""Drift: PSI, the rolling window, its gauges, references and the pipeline status file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mindlens.monitoring.drift import (
    CATEGORIES,
    NONE,
    DriftWindow,
    Observation,
    Reference,
    length_bucket,
    psi,
)
from mindlens.monitoring.pipeline_status import read_status, record_run
from mindlens.serving.metrics import Metrics


def test_psi_is_zero_for_equal_distributions_and_grows_with_the_shift():
    ref = {"a": 50, "b": 50}
    assert psi(ref, {"a": 5, "b": 5}) == pytest.approx(0.0)
    small, large = psi(ref, {"a": 55, "b": 45}), psi(ref, {"a": 90, "b": 10})
    assert 0 < small < 0.1 < 0.25 < large
    expected = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
    assert large == pytest.approx(expected)
    assert math.isfinite(psi(ref, {"c": 3}))  # unseen category: smoothed, not infinite
    assert math.isnan(psi({}, {"a": 1}))


def test_length_buckets_cover_every_length_once():
    assert length_bucket(0) == "0-49" and length_bucket(49) == "0-49"
    assert length_bucket(50) == "50-99" and length_bucket(10000) == "10000+"
    assert {length_bucket(n) for n in range(0, 12000, 7)} == set(CATEGORIES["input_length"])


def test_observation_counts_nothing_reported_as_none():
    spans = [{"technique": "slogans", "confidence": 0.9}, {"technique": "doubt", "confidence": 0.2}]
    assert Observation.from_result(10, spans, 0.5).techniques == ("slogans",)
    ref = Reference.from_observations([Observation((), 10), Observation(("slogans",), 300)])
    assert ref.counts["techniques"] == {NONE: 1, "slogans": 1}
    assert ref.counts["input_length"] == {"0-49": 1, "200-499": 1}


def test_reference_round_trips(tmp_path: Path):
    ref = Reference.from_observations([Observation(("doubt",), 120)], source="test", min_confidence=0.5)
    loaded = Reference.load(ref.save(tmp_path / "r.json"))
    assert (loaded.counts, loaded.texts, loaded.source) == (ref.counts, 1, "test")


def test_window_needs_a_reference_and_enough_texts_and_restarts_on_a_new_model():
    window = DriftWindow(size=4, min_texts=2)
    window.observe(Observation(("doubt",), 100))
    assert window.psi() is None
    window.set_reference(Reference.from_observations([Observation(("doubt",), 100)] * 3))
    assert len(window) == 0 and window.psi() is None
    for _ in range(6):
        window.observe(Observation(("doubt",), 100))
    assert len(window) == 4
    assert window.psi() == {"techniques": pytest.approx(0), "input_length": pytest.approx(0)}
    window.observe(Observation((), 20000))
    assert window.psi()["techniques"] > 0.25


def test_metrics_export_drift_and_pipeline_status(tmp_path: Path):
    status = tmp_path / "dag_runs.json"
    metrics = Metrics(drift_window=10, drift_min_texts=1, pipeline_status=status)
    get = metrics.registry.get_sample_value
    assert get("mindlens_drift_psi", {"feature": "techniques"}) is None
    metrics.drift.set_reference(Reference.from_observations([Observation(("doubt",), 100)]))
    metrics.drift.observe(Observation(("slogans",), 100))
    assert get("mindlens_drift_psi", {"feature": "techniques"}) > 1
    assert get("mindlens_drift_psi", {"feature": "input_length"}) == pytest.approx(0)
    assert get("mindlens_drift_window_texts") == 1

    record_run(status, "mindlens_pipeline", "success", "r1", end=100.0)
    record_run(status, "mindlens_pipeline", "failed", "r2", end=200.0)
    assert read_status(status)["mindlens_pipeline"]["last_success"] == 100.0
    labels = {"dag_id": "mindlens_pipeline"}
    assert get("mindlens_pipeline_last_run_failed", labels) == 1
    assert get("mindlens_pipeline_last_success_timestamp_seconds", labels) == 100.0
    assert get("mindlens_pipeline_last_run_timestamp_seconds", labels) == 200.0
