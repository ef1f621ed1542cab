"""Sentiment signals from VADER (its lexicon ships inside the vaderSentiment package).

Evidence: the words VADER's lexicon gives a valence, positive ones for
``sentiment_pos``, negative ones for ``sentiment_neg``, both for compound/intensity.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from mindlens.features.matching import Evidence, Measured, norm
from mindlens.preprocessing.tokens import Token


@lru_cache(maxsize=1)
def vader() -> Any:
    """The VADER analyzer, loaded once per process."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_signals(text: str, words: Sequence[Token]) -> Measured:
    """``sentiment_compound``, ``_pos``, ``_neg``, ``_neu`` and ``_intensity`` (|compound|)."""
    analyzer = vader()
    scores = analyzer.polarity_scores(text)
    pos_ev: Evidence = []
    neg_ev: Evidence = []
    for tok in words:
        valence = analyzer.lexicon.get(norm(tok.text))
        if valence:
            (pos_ev if valence > 0 else neg_ev).append((tok.start, tok.end, tok.text))
    compound = float(scores.get("compound", 0.0))
    return {
        "sentiment_compound": (compound, sorted(pos_ev + neg_ev)),
        "sentiment_pos": (float(scores.get("pos", 0.0)), pos_ev),
        "sentiment_neg": (float(scores.get("neg", 0.0)), neg_ev),
        "sentiment_neu": (float(scores.get("neu", 0.0)), []),
        "sentiment_intensity": (abs(compound), sorted(pos_ev + neg_ev)),
    }
