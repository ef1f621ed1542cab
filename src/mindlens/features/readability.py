"""Readability signals: Flesch reading ease, Flesch-Kincaid grade, words per sentence.

textstat is used only for its bundled pyphen syllable counter and its English Flesch
constants, because textstat 0.7.13's English syllable path calls
``nltk.download("cmudict")`` when the corpus is missing: syllables here are pyphen's
hyphenation points + 1, the estimate textstat itself falls back to.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from mindlens.features.matching import Measured, normed_words
from mindlens.preprocessing.tokens import Token

NAMES = ("flesch_reading_ease", "flesch_kincaid_grade", "avg_sentence_length")


@lru_cache(maxsize=1)
def readability_tools() -> tuple[Any, dict[str, float]]:
    """textstat's pyphen hyphenator and English Flesch constants (no cmudict, no network)."""
    from textstat.backend.utils import get_pyphen
    from textstat.backend.utils.constants import LANG_CONFIGS

    return get_pyphen("en_US"), dict(LANG_CONFIGS["en"])


@lru_cache(maxsize=65536)
def syllables(word: str) -> int:
    """The estimate textstat itself falls back to without cmudict: hyphenation points + 1."""
    hyphenator, _ = readability_tools()
    return len(hyphenator.positions(word)) + 1


def readability_signals(
    words: Sequence[Token], n_sentences: int, normed: Sequence[str] | None = None
) -> Measured:
    """The three readability signals; zeros without words or sentences. No evidence spans."""
    if not words or not n_sentences:
        return {n: (0.0, []) for n in NAMES}
    _, cfg = readability_tools()
    n_syllables = sum(map(syllables, normed_words(words, normed)))
    wps = len(words) / n_sentences
    spw = n_syllables / len(words)
    fre = cfg["fre_base"] - cfg["fre_sentence_length"] * wps - cfg["fre_syll_per_word"] * spw
    fk = 0.39 * wps + 11.8 * spw - 15.59
    return {
        "flesch_reading_ease": (fre, []),
        "flesch_kincaid_grade": (fk, []),
        "avg_sentence_length": (wps, []),
    }
