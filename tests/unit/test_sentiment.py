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


def test_one_sentence_scores_as_vader_does() -> None:
    from mindlens.features.sentiment import polarity, vader

    for text in (
        "These traitors will destroy our great nation! :)",
        "The food was not bad at all, but the service was AWFUL!!",
        "The meeting was moved to Thursday.",
    ):
        assert polarity(text) == vader().polarity_scores(text)


def test_vader_rules_stay_inside_their_sentence() -> None:
    """Each sentence gets VADER's rules on its own, and the valences of all sentences are
    scored together: a "but" no longer halves every valence before it in the article
    (whole-text VADER did, and cost time quadratic in the article's length)."""
    from mindlens.features.sentiment import polarity, sentence_valences, vader

    first, second = "What a wonderful, brilliant day.", "It rained, but we stayed happy."
    article = f"{first} {second}"
    valences = sentence_valences(first) + sentence_valences(second)
    assert polarity(article) == vader().score_valence(valences, article)
    assert polarity(article)["compound"] > vader().polarity_scores(article)["compound"] > 0
