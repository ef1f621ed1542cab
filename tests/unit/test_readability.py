"""Readability signals (features.readability)."""

from __future__ import annotations

import math

from mindlens.features.readability import readability_tools, syllables
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


def test_syllables_match_pyphen():
    """``syllables`` redoes pyphen's pattern scan: the same points as ``Pyphen.positions``."""
    hyphenator, _ = readability_tools()
    words = (
        "a an the cat extraordinary parliamentary negotiation hyphenation administration's "
        "it’s naïve café ÜBER İstanbul 2019 covid-19 x xx abc rhythm strengths queueing "
        "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis "
        "slaughtered worries unbelievable"
    ).split()
    words += [w.upper() for w in words] + [w + "'s" for w in words]
    for word in words:
        assert syllables(word) == len(hyphenator.positions(word)) + 1, word
