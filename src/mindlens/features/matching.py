"""Shared helpers of the signal modules: word tokens, lexicon matching with offsets, rates.

Evidence is a list of ``(start, end, text)`` spans into the analysed text; a signal
module returns ``{signal name: (value, evidence)}`` (``Measured``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from mindlens.preprocessing.tokens import Token

Evidence = list[tuple[int, int, str]]
Measured = dict[str, tuple[float, Evidence]]

_WORDLIKE = re.compile(r"\w")


def norm(word: str) -> str:
    """Lower case, curly apostrophe made straight (how the lexicons spell words)."""
    return word.lower().replace("’", "'")


def word_tokens(tokens: Sequence[Token]) -> list[Token]:
    """The tokens that hold a letter or digit (what "per token" counts)."""
    return [t for t in tokens if _WORDLIKE.match(t.text)]


_SUFFIXES = ("s", "es", "d", "ed", "ing", "ly")


def variants(word: str) -> Iterable[str]:
    """The word and a few de-inflected guesses, so 'slaughtered' finds 'slaughter'."""
    yield word
    if word.endswith(("ies", "ied")):
        yield word[:-3] + "y"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            yield stem
            if suffix == "ing":
                yield stem + "e"
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "slammed" -> "slam"
                yield stem[:-1]


def inflections(entry: str) -> set[str]:
    """Every word that ``variants`` can map back to ``entry`` (and a few that it cannot):
    the inverse of each of its rules, so lookups can be precomputed per lexicon."""
    forms = {entry}
    if not entry:
        return forms
    if entry.endswith("y"):  # "worries" -> "worry"
        forms.update((entry[:-1] + "ies", entry[:-1] + "ied"))
    if entry.endswith("e"):  # "hating" -> "hate"
        forms.add(entry[:-1] + "ing")
    for suffix in _SUFFIXES:  # "slams" -> "slam", "slammed" -> "slam"
        forms.update((entry + suffix, entry + entry[-1] + suffix))
    return forms


@lru_cache(maxsize=16)
def inflected_forms(lexicon: frozenset[str]) -> frozenset[str]:
    """The words with a form in ``lexicon`` (``any(f in lexicon for f in variants(w))``),
    built once per lexicon so matching a token is one set lookup, not a walk over variants."""
    candidates = {form for entry in lexicon for form in inflections(entry)}
    return frozenset(w for w in candidates if any(f in lexicon for f in variants(w)))


@lru_cache(maxsize=16)
def phrase_regex(lexicon: frozenset[str]) -> re.Pattern[str] | None:
    """One regex for the lexicon's multi-word entries (spaces or hyphens), longest first."""
    phrases = sorted((p for p in lexicon if re.search(r"[\s-]", p)), key=len, reverse=True)
    if not phrases:
        return None
    parts = [r"[\s\-–]+".join(map(re.escape, re.split(r"[\s-]+", p))) for p in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def match_lexicon(
    text: str,
    words: Sequence[Token],
    lexicon: frozenset[str],
    inflect: bool = True,
    normed: Sequence[str] | None = None,
) -> Evidence:
    """Spans of lexicon entries: phrases by regex, single words per token (``normed``: the
    words' ``norm`` forms when the caller has them already)."""
    hits: Evidence = []
    regex = phrase_regex(lexicon)
    if regex is not None:
        hits.extend((m.start(), m.end(), m.group()) for m in regex.finditer(text))
    covered = [(s, e) for s, e, _ in hits]
    forms = inflected_forms(lexicon) if inflect else lexicon
    for tok, w in zip(words, normed_words(words, normed), strict=True):
        if w in forms and not any(s <= tok.start and tok.end <= e for s, e in covered):
            hits.append((tok.start, tok.end, tok.text))
    return sorted(hits)


def normed_words(words: Sequence[Token], normed: Sequence[str] | None = None) -> Sequence[str]:
    """``norm`` of every word, or ``normed`` when the caller computed it once for all signals."""
    return [norm(t.text) for t in words] if normed is None else normed


def rate(count: float, total: int) -> float:
    """``count / total``, 0.0 when there is nothing to divide by."""
    return count / total if total else 0.0
