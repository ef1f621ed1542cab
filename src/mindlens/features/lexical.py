"""Signals from the word lists in ``lexicons``: loaded words, absolutes, clickbait cues."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mindlens.features import lexicons as lx
from mindlens.features.matching import Evidence, Measured, match_lexicon, normed_words, rate
from mindlens.preprocessing.sentences import Sentence
from mindlens.preprocessing.tokens import Token

_CLICKBAIT = re.compile("|".join(f"(?:{p})" for p in lx.CLICKBAIT_PATTERNS), re.IGNORECASE)
_NUMBER = re.compile(r"^\d[\d,.]*$")


def loaded_words(text: str, words: Sequence[Token], normed: Sequence[str] | None = None) -> Measured:
    """``loaded_words``: emotionally loaded words and phrases (inflections too) per token."""
    loaded = match_lexicon(text, words, lx.LOADED_WORDS, normed=normed)
    return {"loaded_words": (rate(len(loaded), len(words)), loaded)}


def absolutes(text: str, words: Sequence[Token], normed: Sequence[str] | None = None) -> Measured:
    """``absolutes``: all-or-nothing words and phrases (exact forms) per token."""
    found = match_lexicon(text, words, lx.ABSOLUTES, inflect=False, normed=normed)
    return {"absolutes": (rate(len(found), len(words)), found)}


def clickbait_signals(
    text: str,
    words: Sequence[Token],
    sentences: Sequence[Sentence],
    normed: Sequence[str] | None = None,
) -> Measured:
    """The five ``clickbait_*`` signals: hyperbolic words, phrases, second person,
    a headline ending in ? or !, a number opening the text."""
    normed = normed_words(words, normed)
    phrases = [(m.start(), m.end(), m.group()) for m in _CLICKBAIT.finditer(text)]
    you = [(t.start, t.end, t.text) for t, w in zip(words, normed, strict=True) if w in lx.SECOND_PERSON]
    headline: Evidence = []
    if sentences:
        first = sentences[0]
        stripped = first.text.rstrip("\"'”’)] ")
        if stripped and stripped[-1] in "?!":
            end = first.start + len(stripped)
            headline = [(end - 1, end, stripped[-1])]
    opener: Evidence = []
    if words and (_NUMBER.match(words[0].text) or normed[0] in lx.NUMBER_WORDS):
        opener = [(words[0].start, words[0].end, words[0].text)]
    hyperbolic = match_lexicon(text, words, lx.HYPERBOLIC_WORDS, normed=normed)
    return {
        "clickbait_hyperbolic": (rate(len(hyperbolic), len(words)), hyperbolic),
        "clickbait_phrases": (rate(len(phrases), len(sentences)), phrases),
        "clickbait_second_person": (rate(len(you), len(words)), you),
        "clickbait_headline_punct": (float(bool(headline)), headline),
        "clickbait_starts_with_number": (float(bool(opener)), opener),
    }
