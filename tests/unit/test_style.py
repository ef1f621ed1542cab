"""Style signals (features.style): passive voice, superlatives, punctuation, capitals."""

from __future__ import annotations

import pytest

from mindlens.features.signals import Signal, compute_signals


def _sig(text: str, name: str) -> Signal:
    return compute_signals(text)[name]


def _matched(text: str, name: str) -> list[str]:
    return [m for _, _, m in _sig(text, name).evidence]


@pytest.mark.parametrize(
    "text, spans",
    [
        ("The bill was passed by the senate.", ["was passed"]),
        ("The senate passed the bill.", []),
        ("She has been given a warning", ["been given"]),
        # Decision: a participial adjective of state is not passive on its own ...
        ("He is interested in music", []),
        # ... but it is with a "by" agent.
        ("He was surprised by the attack.", ["was surprised"]),
        ("Mistakes were made, and measures are being taken.", ["were made", "are being taken"]),
        ("They were not even told about it.", ["were not even told"]),
        ("He got fired on Monday.", ["got fired"]),
        ("The truth is naked and the flag is red.", []),
        ("He is gone.", []),
        ("John's given name is Jack.", []),
    ],
)
def test_passive_voice_detector(text, spans):
    assert _matched(text, "passive_ratio") == spans


def test_passive_ratio_is_passives_per_sentence():
    assert _sig("The bill was passed. The senate met.", "passive_ratio").value == 0.5
    assert _sig("Mistakes were made, and measures are being taken.", "passive_ratio").value == 2.0


@pytest.mark.parametrize(
    "text, hits",
    [
        ("the greatest ever", ["greatest"]),
        ("the best test", []),  # "best" is stop-listed as too idiomatic; "test" is not -est
        ("an honest interest in the forest", []),
        ("the most dangerous man alive", ["most dangerous"]),
        ("most people agree", []),
        ("the worst and the biggest", ["worst", "biggest"]),
    ],
)
def test_superlatives(text, hits):
    assert _matched(text, "superlatives") == hits


def test_superlative_rate_is_per_word_token():
    # 3 word tokens, the full stop does not count
    assert _sig("The greatest ever.", "superlatives").value == pytest.approx(1 / 3)


def test_all_caps_excludes_acronyms_and_single_letters():
    assert _sig("The FBI and NATO met in the US. I agree.", "all_caps_rate").value == 0.0
    text = "This is a DISGRACE and a TOTAL LIE"
    assert _matched(text, "all_caps_rate") == ["DISGRACE", "TOTAL", "LIE"]
    assert _sig(text, "all_caps_rate").value == pytest.approx(3 / 8)


def test_exclamation_and_question_rates_are_per_sentence():
    signals = compute_signals("Stop! Now!! Why?")
    assert signals["exclamation_rate"].value == pytest.approx(3 / 3)
    assert signals["question_rate"].value == pytest.approx(1 / 3)
    assert [m for _, _, m in signals["exclamation_rate"].evidence] == ["!", "!!"]
