"""Empath category signals: emotion and theme words per token (``empath_<category>``).

Only Empath's bundled lexicon is read (``empath/data/categories.tsv``); nothing is
fetched. A token counts for a category if its exact form, else its first
de-inflected form that Empath knows, is listed there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from mindlens.features.matching import Evidence, Measured, inflections, normed_words, rate, variants
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


@lru_cache(maxsize=1)
def empath_forms() -> dict[str, tuple[str, ...]]:
    """word form -> its categories, for every form with a de-inflected form in the index.

    Empath lists some inflections but not others ("terrorist", not "terrorists"): the
    exact form wins, else the first de-inflected form it knows. Precomputed once, so a
    token costs one dict lookup instead of a walk over its variants.
    """
    index = empath_index()
    forms: dict[str, tuple[str, ...]] = {}
    for word in {form for entry in index for form in inflections(entry)}:
        known = next((f for f in variants(word) if f in index), None)
        if known is not None:
            forms[word] = index[known]
    return forms


def empath_signals(words: Sequence[Token], normed: Sequence[str] | None = None) -> Measured:
    """``empath_<category>`` for every category in ``EMPATH_CATEGORIES``: hits per token
    (``normed``: the words' ``norm`` forms when the caller has them already)."""
    forms = empath_forms()
    hits: dict[str, Evidence] = {c: [] for c in EMPATH_CATEGORIES}
    for tok, w in zip(words, normed_words(words, normed), strict=True):
        for category in forms.get(w, ()):
            hits[category].append((tok.start, tok.end, tok.text))
    return {f"empath_{c}": (rate(len(ev), len(words)), ev) for c, ev in hits.items()}
