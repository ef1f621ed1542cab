"""Sentiment signals from VADER (its lexicon ships inside the vaderSentiment package).

Evidence: the words VADER's lexicon gives a valence, positive ones for
``sentiment_pos``, negative ones for ``sentiment_neg``, both for compound/intensity.

VADER reads one sentence at a time here and the word valences of all sentences are
scored together: ``polarity_scores`` on a whole article costs time quadratic in its
length (it re-lowercases every word for each word: 50 ms at 2,400 words) and lets one
"but" halve every valence before it in the whole article, where VADER's rules are
meant for a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from mindlens.features.matching import Evidence, Measured, normed_words
from mindlens.preprocessing.sentences import Sentence, split_sentences
from mindlens.preprocessing.tokens import Token


@lru_cache(maxsize=1)
def vader() -> Any:
    """The VADER analyzer, loaded once per process."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentence_valences(sentence: str) -> list[float]:
    """VADER's word valences for one sentence: ``polarity_scores`` up to, not including,
    its scoring step (emoji descriptions, boosters, negations, the "but" rule)."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    analyzer = vader()
    text = sentence
    if not analyzer.emojis.keys().isdisjoint(sentence):  # rare: skip the walk when none
        text = ""
        prev_space = True
        for char in sentence:
            if char in analyzer.emojis:
                text += ("" if prev_space else " ") + analyzer.emojis[char]
                prev_space = False
            else:
                text += char
                prev_space = char == " "
    sentitext = SentiText(text.strip())
    words = sentitext.words_and_emoticons
    lexicon = analyzer.lexicon
    valences: list[float] = []
    for i, item in enumerate(words):
        lowered = item.lower()
        if (
            lowered not in lexicon  # VADER would append the 0 it is given, without the call
            or lowered in BOOSTER_DICT
            or (lowered == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of")
        ):
            valences.append(0)
            continue
        valences = analyzer.sentiment_valence(0, sentitext, item, i, valences)
    return list(analyzer._but_check(words, valences))


def polarity(text: str, sentences: Sequence[Sentence] | None = None) -> dict[str, float]:
    """VADER's ``polarity_scores`` of ``text`` with its rules applied per sentence: the
    valences of every sentence, scored together with the text's punctuation emphasis."""
    sentences = split_sentences(text) if sentences is None else sentences
    valences = [v for sentence in sentences for v in sentence_valences(sentence.text)]
    return dict(vader().score_valence(valences, text))


def sentiment_signals(
    text: str,
    words: Sequence[Token],
    sentences: Sequence[Sentence] | None = None,
    normed: Sequence[str] | None = None,
) -> Measured:
    """``sentiment_compound``, ``_pos``, ``_neg``, ``_neu`` and ``_intensity`` (|compound|);
    ``sentences`` of ``text`` and ``normed`` words when the caller has them already."""
    lexicon = vader().lexicon
    scores = polarity(text, sentences)
    pos_ev: Evidence = []
    neg_ev: Evidence = []
    for tok, w in zip(words, normed_words(words, normed), strict=True):
        valence = lexicon.get(w)
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
