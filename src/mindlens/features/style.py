"""Style signals from rules: passive voice, superlatives, exclamation and question
marks, shouting in capitals.

Passive voice: a form of be/get (am, is, are, was, were, be, been, being, get, got,
...), up to three fillers (-ly adverbs, "not", "also", "already", ..., or further
be-forms as in "is being"), then a past participle (regular -ed minus a stop-list,
or an irregular form). Participial adjectives of state ("He is interested in
music", "She was tired") count only with a "by" agent, since they describe a
state rather than hide who acted. Intransitive participles ("gone", "fallen")
are not listed: "he is gone" is not passive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mindlens.features import lexicons as lx
from mindlens.features.matching import Evidence, Measured, norm, normed_words, rate
from mindlens.preprocessing.tokens import Token, tokenize

_AUXILIARIES = lx.BE_FORMS | lx.GET_FORMS
_ADJ_SUFFIXES = (
    "ous",
    "ful",
    "ive",
    "able",
    "ible",
    "al",
    "ic",
    "ent",
    "ant",
    "less",
    "ing",
    "ed",
    "ish",
    "ly",
)
_PLAIN_ADJECTIVES = frozenset(
    {
        "popular",
        "common",
        "similar",
        "familiar",
        "clear",
        "corrupt",
        "evil",
        "extreme",
        "intense",
        "severe",
        "secure",
        "wanted",
        "hated",
    }
)


def _is_filler(word: str) -> bool:
    return word in lx.PASSIVE_ADVERBS or (len(word) > 3 and word.endswith("ly") and word.isalpha())


def _is_participle(tokens: Sequence[Token], j: int) -> bool:
    word = norm(tokens[j].text)
    if word in lx.STATIVE_PARTICIPLES:
        return j + 1 < len(tokens) and norm(tokens[j + 1].text) == "by"
    if word in lx.IRREGULAR_PARTICIPLES:
        return True
    return word.endswith("ed") and len(word) >= 4 and word.isalpha() and word not in lx.NOT_PARTICIPLES


def passive_spans(text: str, tokens: Sequence[Token] | None = None) -> Evidence:
    """Spans from the auxiliary to the participle of each passive clause.

    Punctuation tokens break a candidate, so a clause never spans a comma.
    """
    tokens = tokenize(text) if tokens is None else tokens
    spans: Evidence = []
    i = 0
    while i < len(tokens):
        if norm(tokens[i].text) in _AUXILIARIES:
            j = i + 1
            while j < len(tokens) and j - i <= 3 and _is_filler(norm(tokens[j].text)):
                j += 1
            if j < len(tokens) and j - i <= 4 and _is_participle(tokens, j):
                start, end = tokens[i].start, tokens[j].end
                spans.append((start, end, text[start:end]))
                i = j + 1
                continue
        i += 1
    return spans


def superlative_spans(text: str, words: Sequence[Token], normed: Sequence[str] | None = None) -> Evidence:
    """-est words (minus a stop-list), irregular superlatives, and most/least + adjective."""
    normed = normed_words(words, normed)
    spans: Evidence = []
    for k, (tok, w) in enumerate(zip(words, normed, strict=True)):
        if w in ("most", "least") and k + 1 < len(words):
            nxt = words[k + 1]
            n = normed[k + 1]
            adjacent = not text[tok.end : nxt.start].strip()
            if adjacent and n.isalpha() and (n in _PLAIN_ADJECTIVES or n.endswith(_ADJ_SUFFIXES)):
                spans.append((tok.start, nxt.end, text[tok.start : nxt.end]))
        elif w in lx.IRREGULAR_SUPERLATIVES or (
            len(w) >= 5 and w.endswith("est") and w.isalpha() and w not in lx.NOT_SUPERLATIVES
        ):
            spans.append((tok.start, tok.end, tok.text))
    return spans


def _all_caps(words: Sequence[Token]) -> Evidence:
    return [
        (t.start, t.end, t.text)
        for t in words
        if t.text.isupper() and sum(c.isalpha() for c in t.text) >= 2 and t.text.upper() not in lx.ACRONYMS
    ]


def _punctuation(text: str, char: str) -> Evidence:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(re.escape(char) + "+", text)]


def style_signals(
    text: str,
    tokens: Sequence[Token],
    words: Sequence[Token],
    n_sentences: int,
    normed: Sequence[str] | None = None,
) -> Measured:
    """``passive_ratio``, ``superlatives``, ``exclamation_rate``, ``question_rate``, ``all_caps_rate``
    (``normed``: the words' ``norm`` forms when the caller has them already)."""
    passive = passive_spans(text, tokens)
    superlatives = superlative_spans(text, words, normed)
    caps = _all_caps(words)
    return {
        "passive_ratio": (rate(len(passive), n_sentences), passive),
        "superlatives": (rate(len(superlatives), len(words)), superlatives),
        "exclamation_rate": (rate(text.count("!"), n_sentences), _punctuation(text, "!")),
        "question_rate": (rate(text.count("?"), n_sentences), _punctuation(text, "?")),
        "all_caps_rate": (rate(len(caps), len(words)), caps),
    }
