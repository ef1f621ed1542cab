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


def variants(word: str) -> Iterable[str]:
    """The word and a few de-inflected guesses, so 'slaughtered' finds 'slaughter'."""
    yield word
    if word.endswith(("ies", "ied")):
        yield word[:-3] + "y"
    for suffix in ("s", "es", "d", "ed", "ing", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            yield stem
            if suffix == "ing":
                yield stem + "e"
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "slammed" -> "slam"
                yield stem[:-1]


@lru_cache(maxsize=16)
def phrase_regex(lexicon: frozenset[str]) -> re.Pattern[str] | None:
    """One regex for the lexicon's multi-word entries (spaces or hyphens), longest first."""
    phrases = sorted((p for p in lexicon if re.search(r"[\s-]", p)), key=len, reverse=True)
    if not phrases:
        return None
    parts = [r"[\s\-–]+".join(map(re.escape, re.split(r"[\s-]+", p))) for p in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def match_lexicon(
    text: str, words: Sequence[Token], lexicon: frozenset[str], inflect: bool = True
) -> Evidence:
    """Spans of lexicon entries: phrases by regex, single words per token."""
    hits: Evidence = []
    regex = phrase_regex(lexicon)
    if regex is not None:
        hits.extend((m.start(), m.end(), m.group()) for m in regex.finditer(text))
    covered = [(s, e) for s, e, _ in hits]
    for tok in words:
        w = norm(tok.text)
        forms = variants(w) if inflect else (w,)
        inside_phrase = any(s <= tok.start and tok.end <= e for s, e in covered)
        if not inside_phrase and any(f in lexicon for f in forms):
            hits.append((tok.start, tok.end, tok.text))
    return sorted(hits)


def rate(count: float, total: int) -> float:
    """``count / total``, 0.0 when there is nothing to divide by."""
    return count / total if total else 0.0
