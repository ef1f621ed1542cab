"""VADER sentiment signals (features.sentiment)."""

from __future__ import annotations

import pytest

from mindlens.features.signals import compute_signals


def test_vader_positive_versus_negative():
    pos = compute_signals("I love this wonderful, happy day.")
    neg = compute_signals("This is a horrible, disgusting disaster.")
    assert pos["sentiment_compound"].value > 0.5 > -0.5 > neg["sentiment_compound"].value
    assert pos["sentiment_pos"].value > pos["sentiment_neg"].value
    assert neg["sentiment_neg"].value > neg["sentiment_pos"].value
    for s in (pos, neg):
        assert s["sentiment_intensity"].value == pytest.approx(abs(s["sentiment_compound"].value))
    assert "horrible" in [m for _, _, m in neg["sentiment_neg"].evidence]
