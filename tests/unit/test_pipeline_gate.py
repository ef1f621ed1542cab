"""The retrain gate: a candidate replaces the champion only if no gate metric drops beyond
the tolerance and it agrees with the reviewed feedback more often than the champion."""

from __future__ import annotations

import pytest

from mindlens.config import GateSettings
from mindlens.pipeline.gate import gate, lower_is_better

GATE = GateSettings(
    tolerance=0.01,
    metrics=["val_micro_f1", "val_flc_f1", "val_ece"],
    feedback_metric="feedback_agreement",
    require_feedback_improvement=True,
)
CHAMPION = {"val_micro_f1": 0.30, "val_flc_f1": 0.12, "val_ece": 0.05, "feedback_agreement": 0.40}


def _failed(decision) -> list[str]:
    return [c.metric for c in decision.checks if not c.ok]


def test_passes_within_tolerance_with_feedback_improvement():
    candidate = {"val_micro_f1": 0.295, "val_flc_f1": 0.13, "val_ece": 0.055, "feedback_agreement": 0.75}
    decision = gate(candidate, CHAMPION, GATE)
    assert decision.passed and _failed(decision) == []
    assert decision.reasons == [
        "every gate metric within tolerance",
        "feedback_agreement: 0.4000 -> 0.7500 (improved)",
    ]
    assert [c.metric for c in decision.checks] == [
        "val_micro_f1",
        "val_flc_f1",
        "val_ece",
        "feedback_agreement",
    ]


def test_a_drop_at_exactly_the_tolerance_passes():
    candidate = CHAMPION | {"val_micro_f1": 0.29, "feedback_agreement": 0.5}
    assert gate(candidate, CHAMPION, GATE).passed


def test_fails_on_a_drop_beyond_tolerance():
    candidate = CHAMPION | {"val_flc_f1": 0.10, "feedback_agreement": 0.9}
    decision = gate(candidate, CHAMPION, GATE)
    assert not decision.passed and _failed(decision) == ["val_flc_f1"]
    assert decision.reasons == ["val_flc_f1: 0.1200 -> 0.1000 (drop 0.0200, beyond tolerance 0.01)"]


def test_a_lower_is_better_metric_fails_when_it_rises():
    assert lower_is_better("val_ece") and lower_is_better("val_latency_p95_ms")
    assert not lower_is_better("val_flc_f1")
    candidate = CHAMPION | {"val_ece": 0.08, "feedback_agreement": 0.9}
    assert _failed(gate(candidate, CHAMPION, GATE)) == ["val_ece"]


def test_fails_without_feedback_improvement():
    candidate = CHAMPION | {"val_micro_f1": 0.35}  # better everywhere but feedback: equal
    decision = gate(candidate, CHAMPION, GATE)
    assert not decision.passed and _failed(decision) == ["feedback_agreement"]
    assert "no improvement on the feedback examples" in decision.reasons[0]


def test_matching_a_champion_that_already_agrees_on_all_feedback_passes():
    champion = CHAMPION | {"feedback_agreement": 1.0}
    decision = gate(champion | {"feedback_agreement": 1.0}, champion, GATE)
    assert decision.passed and "both agree on every example" in decision.checks[-1].reason
    assert not gate(champion | {"feedback_agreement": 0.9}, champion, GATE).passed


def test_fails_without_any_reviewed_feedback_when_improvement_is_required():
    candidate = {k: v for k, v in CHAMPION.items() if k != "feedback_agreement"}
    decision = gate(candidate, {k: v for k, v in candidate.items()}, GATE)
    assert not decision.passed
    assert decision.reasons == ["feedback_agreement: no reviewed feedback examples to measure it on"]


def test_feedback_improvement_can_be_made_optional():
    config = GATE.model_copy(update={"require_feedback_improvement": False})
    decision = gate(dict(CHAMPION), CHAMPION, config)
    assert decision.passed
    assert "(not required)" in decision.checks[-1].reason


def test_a_metric_the_candidate_lacks_fails_and_one_the_champion_lacks_is_skipped():
    candidate = {"val_flc_f1": 0.12, "val_ece": 0.05, "feedback_agreement": 0.9, "val_extra": 1.0}
    decision = gate(candidate, CHAMPION, GATE)
    assert _failed(decision) == ["val_micro_f1"]
    config = GATE.model_copy(update={"metrics": ["val_extra"]})
    skipped = gate(candidate, CHAMPION, config)
    assert skipped.passed and "skipped" in skipped.checks[0].reason


def test_no_champion_passes():
    decision = gate({"val_micro_f1": 0.1}, None, GATE)
    assert decision.passed and decision.reasons == ["no champion yet: nothing to compare with"]


@pytest.mark.parametrize("tolerance, passed", [(0.0, False), (0.05, True)])
def test_tolerance_comes_from_the_config(tolerance, passed):
    candidate = CHAMPION | {"val_micro_f1": 0.27, "feedback_agreement": 0.9}
    config = GATE.model_copy(update={"tolerance": tolerance})
    assert gate(candidate, CHAMPION, config).passed is passed


# --- the unseen-story metrics and their paired article-bootstrap noise ---------------------
NOISY = GateSettings(tolerance=0.01, metrics=["unseen_tc_micro_f1"], require_feedback_improvement=False)


def test_a_drop_within_the_paired_bootstrap_noise_passes():
    champion, candidate = {"unseen_tc_micro_f1": 0.50}, {"unseen_tc_micro_f1": 0.47}  # drop 0.03
    decision = gate(candidate, champion, NOISY, noise={"unseen_tc_micro_f1": 0.02})
    assert decision.passed  # 0.03 <= 0.01 + 1.645 * 0.02
    assert "within tolerance 0.01 + 1.645 × paired sd 0.0200" in decision.checks[0].reason


def test_a_drop_beyond_tolerance_and_noise_fails():
    champion, candidate = {"unseen_tc_micro_f1": 0.50}, {"unseen_tc_micro_f1": 0.40}
    decision = gate(candidate, champion, NOISY, noise={"unseen_tc_micro_f1": 0.02})
    assert not decision.passed and _failed(decision) == ["unseen_tc_micro_f1"]


def test_without_noise_or_with_noise_z_zero_the_plain_tolerance_rule_holds():
    champion, candidate = {"unseen_tc_micro_f1": 0.50}, {"unseen_tc_micro_f1": 0.47}
    assert not gate(candidate, champion, NOISY).passed
    plain = NOISY.model_copy(update={"noise_z": 0.0})
    assert not gate(candidate, champion, plain, noise={"unseen_tc_micro_f1": 0.02}).passed


def test_the_shipped_gate_scores_ptc_tasks_on_unseen_stories():
    from mindlens.config import get_settings

    metrics = get_settings().retrain.gate.metrics
    assert "unseen_tc_micro_f1" in metrics and "unseen_flc_f1" in metrics
    assert not [
        m for m in metrics if m.startswith("val_") and m.removeprefix("val_") in ("tc_micro_f1", "flc_f1")
    ]


def test_false_alarm_rates_and_costs_are_lower_is_better() -> None:
    from mindlens.pipeline.gate import lower_is_better

    for metric in (
        "val_ece",
        "val_latency_p95_ms",
        "curated_test_hard_negative_fp_rate",
        "curated_test_hard_negative_fragment_rate",
    ):
        assert lower_is_better(metric), metric
    assert not lower_is_better("unseen_flc_f1") and not lower_is_better("val_clickbait_f1")
