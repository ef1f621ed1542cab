"""Empath category signals: emotion and theme words per token (``empath_<category>``).

Only Empath's bundled lexicon is read (``empath/data/categories.tsv``); nothing is
fetched. A token counts for a category if its exact form, else its first
de-inflected form that Empath knows, is listed there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from mindlens.features.matching import Evidence, Measured, norm, rate, variants
from mindlens.preprocessing.tokens import Token

EMPATH_CATEGORIES: tuple[str, ...] = (
    "anger",
    "fear",
    "hate",
    "violence",
    "negative_emotion",
    "positive_emotion",
    "aggression",
    "shame",
    "war",
    "terrorism",
    "crime",
    "power",
    "pride",
    "nervousness",
    "heroic",
    "independence",
    "deception",
    "ridicule",
    "disgust",
)


@lru_cache(maxsize=1)
def empath_index() -> dict[str, tuple[str, ...]]:
    """word -> the selected Empath categories it belongs to (Empath's bundled lexicon only)."""
    from empath import Empath

    cats = Empath().cats
    missing = [c for c in EMPATH_CATEGORIES if c not in cats]
    if missing:
        raise KeyError(f"Empath lexicon lacks categories {missing}")
    index: dict[str, list[str]] = {}
    for category in EMPATH_CATEGORIES:
        for word in set(cats[category]):
            index.setdefault(word.lower(), []).append(category)
    return {word: tuple(c) for word, c in index.items()}


def empath_signals(words: Sequence[Token]) -> Measured:
    """``empath_<category>`` for every category in ``EMPATH_CATEGORIES``: hits per token."""
    index = empath_index()
    hits: dict[str, Evidence] = {c: [] for c in EMPATH_CATEGORIES}
    for tok in words:
        # Empath lists some inflections but not others ("terrorist", not "terrorists"):
        # the exact form wins, else the first de-inflected form it knows.
        forms = (f for f in variants(norm(tok.text)) if f in index)
        for category in index.get(next(forms, ""), ()):
            hits[category].append((tok.start, tok.end, tok.text))
    return {f"empath_{c}": (rate(len(ev), len(words)), ev) for c, ev in hits.items()}
