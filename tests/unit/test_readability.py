"""Readability signals (features.readability)."""

from __future__ import annotations

import math

from mindlens.features.signals import compute_signals


def test_readability():
    simple = compute_signals("The cat sat. The dog ran far.")
    hard = compute_signals(
        "Notwithstanding considerable institutional opposition, the "
        "administration's comprehensive infrastructure legislation "
        "ultimately necessitated extraordinary parliamentary negotiation."
    )
    assert simple["avg_sentence_length"].value == 3.5
    assert simple["flesch_reading_ease"].value > hard["flesch_reading_ease"].value
    assert simple["flesch_kincaid_grade"].value < hard["flesch_kincaid_grade"].value
    assert all(math.isfinite(s.value) for s in hard.values())
