"""Readability signals: Flesch reading ease, Flesch-Kincaid grade, words per sentence.

textstat is used only for its bundled pyphen syllable counter and its English Flesch
constants, because textstat 0.7.13's English syllable path calls
``nltk.download("cmudict")`` when the corpus is missing: syllables here are pyphen's
hyphenation points + 1, the estimate textstat itself falls back to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Hyphenation:
    """pyphen's hyphenation patterns plus every prefix of them, so the scan in
    ``syllables`` can stop at the first substring that no pattern starts with."""

    patterns: dict[str, tuple[int, tuple[int, ...]]]  # pattern -> (offset, values)
    prefixes: frozenset[str]
    maxlen: int
    left: int  # pyphen's minimum letters before the first and after the last point
    right: int


@lru_cache(maxsize=1)
def hyphenation() -> Hyphenation:
    """The patterns of textstat's pyphen hyphenator, read once per process."""
    hyphenator, _ = readability_tools()
    patterns = {
        key: (offset, tuple(map(int, values))) for key, (offset, values) in hyphenator.hd.patterns.items()
    }
    prefixes = frozenset(key[:n] for key in patterns for n in range(1, len(key) + 1))
    return Hyphenation(patterns, prefixes, hyphenator.hd.maxlen, hyphenator.left, hyphenator.right)


@lru_cache(maxsize=65536)
def syllables(word: str) -> int:
    """The estimate textstat itself falls back to without cmudict: hyphenation points + 1.

    The points are pyphen's (``Pyphen.positions``: Liang's pattern scan, then the
    left/right margins), computed here because pyphen tries every substring up to the
    longest pattern from each letter, where stopping at the first substring that no
    pattern starts with gives the same points three times faster: most words of an
    article are new to the cache.
    """
    hyph = hyphenation()
    pointed = f".{word.lower()}."
    references = [0] * (len(pointed) + 1)
    for i in range(len(pointed) - 1):
        for j in range(i + 1, min(i + hyph.maxlen, len(pointed)) + 1):
            piece = pointed[i:j]
            if piece not in hyph.prefixes:
                break
            pattern = hyph.patterns.get(piece)
            if pattern is not None:
                offset, values = pattern
                for k, value in enumerate(values, i + offset):
                    references[k] = max(references[k], value)
    right = len(word) - hyph.right
    return sum(1 for i, ref in enumerate(references) if ref % 2 and hyph.left <= i - 1 <= right) + 1


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
