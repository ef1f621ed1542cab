"""Document-aware features for technique classification (TC) of a given fragment.

A fragment is ``(text, start, end)``: character offsets into the whole document. The
dense families here read the document around the fragment:

- ``repetition``: whether the fragment (lower-cased, words only, a light plural/possessive
  strip) or its content words occur elsewhere in the document, how often, before or after
  it, how far away (in sentences), in the title, and the longest repeated stretch.
- ``position``: title, paragraph, relative position, last sentence.
- ``shape``: length, capitalisation, ``!``/``?``, quote marks, how much of its sentence
  the fragment covers.
- ``heuristics``: the project's heuristic signals measured on the fragment.

Text families (TF-IDF) need the fragment's sentence with the fragment masked
(``context_text``) and its neighbouring sentences (``neighbour_text``); both come from
:class:`DocumentView`, which splits a document once and is shared by its fragments.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# The one place that reaches into the heuristics module (being split into a package):
# the package exports these names before and after that split.
from mindlens.features import SIGNAL_NAMES, signal_vector
from mindlens.preprocessing.sentences import split_sentences

FRAGMENT_MASK = "xxfragmentxx"
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_QUOTES = "\"'“”‘’«»"
_STOP = frozenset(ENGLISH_STOP_WORDS)


@dataclass(frozen=True)
class Fragment:
    """A fragment to classify: ``text[start:end]`` of the whole document ``text``."""

    text: str
    start: int
    end: int

    @property
    def span_text(self) -> str:
        return self.text[self.start : self.end]


def check_fragment(item: object) -> Fragment:
    """A :class:`Fragment` from a Fragment or a ``(text, start, end)`` tuple; ``ValueError``
    for an empty document or a span that is empty, blank or outside the text."""
    text: Any
    start: Any
    end: Any
    if isinstance(item, Fragment):
        text, start, end = item.text, item.start, item.end
    else:
        try:
            text, start, end = item  # type: ignore[misc]
        except (TypeError, ValueError):
            raise ValueError(f"a fragment is (text, start, end), got {type(item).__name__}") from None
    if not isinstance(text, str) or not text.strip():
        raise ValueError("fragment document text is empty")
    if isinstance(start, bool) or isinstance(end, bool):
        raise ValueError("fragment offsets must be integers")
    if not isinstance(start, (int, np.integer)) or not isinstance(end, (int, np.integer)):
        raise ValueError(f"fragment offsets must be integers, got {start!r}, {end!r}")
    if not 0 <= start < end <= len(text):
        raise ValueError(f"fragment span {start}-{end} is outside the text (length {len(text)}) or empty")
    if not text[start:end].strip():
        raise ValueError(f"fragment span {start}-{end} holds only whitespace")
    return Fragment(text, int(start), int(end))


def normalise_word(word: str) -> str:
    """Lower case, curly apostrophes straightened, possessive and plural ``s`` stripped."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


class DocumentView:
    """One document split once: sentences, paragraphs and normalised word tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        sentences = split_sentences(text)
        self.sent_bounds = [(s.start, s.end) for s in sentences] or [(0, len(text))]
        self.sent_starts = [b[0] for b in self.sent_bounds]
        # Paragraphs: runs of lines without a blank line between them (the title is the first).
        breaks = [m.end() for m in re.finditer(r"\n[ \t\r\f\v\ufeff\u00a0]*\n", text)]
        self.sent_para = [bisect_right(breaks, s) for s, _ in self.sent_bounds]
        title_end = text.find("\n")
        self.title_end = len(text) if title_end < 0 else title_end
        matches = list(_WORD.finditer(text))
        self.tok_starts = [m.start() for m in matches]
        self.tok_ends = [m.end() for m in matches]
        self.words = [normalise_word(m.group()) for m in matches]
        self.positions: dict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(self.words):
            self.positions[word].append(i)
        self.tok_sent = [max(0, bisect_right(self.sent_starts, s) - 1) for s in self.tok_starts]

    def sentence_range(self, start: int, end: int) -> tuple[int, int]:
        """First and last index of the sentences holding ``[start, end)``."""
        first = max(0, bisect_right(self.sent_starts, start) - 1)
        last = max(first, bisect_right(self.sent_starts, end - 1) - 1)
        return first, last

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        """Token indices ``[i0, i1)`` of the words overlapping ``[start, end)``."""
        i0 = bisect_right(self.tok_ends, start)
        i1 = bisect_left(self.tok_starts, end)
        return i0, max(i0, i1)

    def context_text(self, start: int, end: int) -> str:
        """The sentences holding the fragment, the fragment replaced by a mask word."""
        first, last = self.sentence_range(start, end)
        lo = min(start, self.sent_bounds[first][0])
        hi = max(end, self.sent_bounds[last][1])
        return f"{self.text[lo:start]} {FRAGMENT_MASK} {self.text[end:hi]}"

    def neighbour_text(self, start: int, end: int) -> str:
        """The sentence before and the sentence after those holding the fragment."""
        first, last = self.sentence_range(start, end)
        prev = self.text[slice(*self.sent_bounds[first - 1])] if first > 0 else ""
        nxt = self.text[slice(*self.sent_bounds[last + 1])] if last + 1 < len(self.sent_bounds) else ""
        return f"{prev}\n{nxt}"


def views(fragments: Sequence[Fragment]) -> list[DocumentView]:
    """A view per fragment, built once per distinct document."""
    cache: dict[str, DocumentView] = {}
    out = []
    for f in fragments:
        view = cache.get(f.text)
        if view is None:
            view = cache[f.text] = DocumentView(f.text)
        out.append(view)
    return out


# --- repetition -------------------------------------------------------------------------
REPETITION_NAMES: tuple[str, ...] = (
    "rep_exact_any",
    "rep_exact_log_count",
    "rep_exact_1",
    "rep_exact_2",
    "rep_exact_3_4",
    "rep_exact_5_plus",
    "rep_exact_before",
    "rep_exact_after",
    "rep_exact_nearness",
    "rep_exact_same_sentence",
    "rep_in_title",
    "rep_content_share",
    "rep_content_all",
    "rep_content_mean_log",
    "rep_content_max_log",
    "rep_content_min_log",
    "rep_head_log",
    "rep_longest_share",
    "rep_longest_log",
    "rep_no_words",
    "rep_doc_log_words",
)


def _occurrences(view: DocumentView, words: Sequence[str], i0: int, i1: int) -> list[int]:
    """Start indices of ``words`` in the document outside the fragment's own tokens."""
    n = len(words)
    out = []
    for p in view.positions.get(words[0], ()):
        if i0 - n < p < i1:  # overlaps the fragment itself
            continue
        if view.words[p : p + n] == list(words):
            out.append(p)
    return out


def _longest_repeat(view: DocumentView, i0: int, i1: int) -> int:
    """Length of the longest run of the fragment's words, with a content word, found elsewhere."""
    words = view.words
    best = 0
    for j in range(i0, i1):
        if words[j] in _STOP:  # a repeated run must hold a content word; start at one
            continue
        for p in view.positions.get(words[j], ()):
            if i0 - (i1 - j) < p < i1:
                continue
            k = 0
            while j + k < i1 and p + k < len(words) and words[p + k] == words[j + k]:
                k += 1
            best = max(best, k)
    return best


def repetition_features(view: DocumentView, start: int, end: int) -> list[float]:
    i0, i1 = view.token_range(start, end)
    words = view.words[i0:i1]
    doc_log = math.log1p(len(view.words))
    if not words:
        return [0.0] * (len(REPETITION_NAMES) - 2) + [1.0, doc_log]
    occ = _occurrences(view, words, i0, i1)
    count = len(occ)
    sent = view.tok_sent[i0]
    dist = min((abs(view.tok_sent[p] - sent) for p in occ), default=None)
    in_title = start >= view.title_end and any(view.tok_starts[p] < view.title_end for p in occ)
    content = [(j, w) for j, w in enumerate(words, i0) if w not in _STOP and len(w) > 1]
    counts = []
    for _, w in content:
        inside = sum(1 for p in view.positions[w] if i0 <= p < i1)
        counts.append(len(view.positions[w]) - inside)
    logs = [math.log1p(c) for c in counts]
    longest = _longest_repeat(view, i0, i1)
    return [
        float(count > 0),
        math.log1p(count),
        float(count == 1),
        float(count == 2),
        float(3 <= count <= 4),
        float(count >= 5),
        float(any(p < i0 for p in occ)),
        float(any(p >= i1 for p in occ)),
        0.0 if dist is None else 1.0 / (1.0 + dist),
        float(dist == 0),
        float(in_title),
        float(np.mean([c > 0 for c in counts])) if counts else 0.0,
        float(bool(counts) and min(counts) > 0),
        float(np.mean(logs)) if logs else 0.0,
        max(logs, default=0.0),
        min(logs, default=0.0),
        logs[-1] if logs else 0.0,
        longest / len(words),
        math.log1p(longest),
        0.0,
        doc_log,
    ]


# --- position ---------------------------------------------------------------------------
POSITION_NAMES: tuple[str, ...] = (
    "pos_title",
    "pos_paragraph_1",
    "pos_paragraph_2",
    "pos_paragraph_3_plus",
    "pos_relative_char",
    "pos_relative_sentence",
    "pos_last_sentence",
)


def position_features(view: DocumentView, start: int, end: int) -> list[float]:
    first, _ = view.sentence_range(start, end)
    para = view.sent_para[first]
    n = len(view.sent_bounds)
    title = start < view.title_end
    return [
        float(title),
        float(not title and para <= 1),
        float(not title and para == 2),
        float(not title and para >= 3),
        start / max(1, len(view.text)),
        first / max(1, n - 1),
        float(first == n - 1),
    ]


# --- shape ------------------------------------------------------------------------------
SHAPE_NAMES: tuple[str, ...] = (
    "shape_log_chars",
    "shape_log_words",
    "shape_words_1",
    "shape_words_2",
    "shape_words_3_4",
    "shape_words_5_8",
    "shape_words_9_16",
    "shape_words_17_plus",
    "shape_capitalised_share",
    "shape_all_caps_share",
    "shape_exclamation",
    "shape_question",
    "shape_sentence_exclamation",
    "shape_sentence_question",
    "shape_quote_inside",
    "shape_quoted",
    "shape_sentence_coverage",
    "shape_starts_sentence",
    "shape_ends_sentence",
    "shape_digit",
)


def shape_features(view: DocumentView, start: int, end: int) -> list[float]:
    text = view.text
    span = text[start:end]
    words = _WORD.findall(span)
    n = len(words)
    first, last = view.sentence_range(start, end)
    s_lo, s_hi = view.sent_bounds[first][0], view.sent_bounds[last][1]
    sentence = text[min(start, s_lo) : max(end, s_hi)]
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    quoted = (any(q in before for q in _QUOTES) or span[:1] in _QUOTES) and (
        any(q in after for q in _QUOTES) or span[-1:] in _QUOTES
    )
    caps = sum(1 for w in words if w[:1].isupper())
    all_caps = sum(1 for w in words if len(w) > 1 and w.isupper())
    return [
        math.log1p(len(span)),
        math.log1p(n),
        float(n <= 1),
        float(n == 2),
        float(3 <= n <= 4),
        float(5 <= n <= 8),
        float(9 <= n <= 16),
        float(n >= 17),
        caps / n if n else 0.0,
        all_caps / n if n else 0.0,
        float("!" in span),
        float("?" in span),
        float("!" in sentence),
        float("?" in sentence),
        float(any(q in span for q in _QUOTES)),
        float(quoted),
        len(span.strip()) / max(1, len(sentence.strip())),
        float(start <= s_lo),
        float(end >= s_hi),
        float(any(ch.isdigit() for ch in span)),
    ]


# --- heuristics -------------------------------------------------------------------------
HEURISTIC_NAMES: tuple[str, ...] = tuple(f"heur_{name}" for name in SIGNAL_NAMES)


@lru_cache(maxsize=65536)
def _signals(text: str) -> tuple[float, ...]:
    values = signal_vector(text)
    return tuple(float(values[name]) for name in SIGNAL_NAMES)


def heuristic_features(view: DocumentView, start: int, end: int) -> list[float]:
    return list(_signals(view.text[start:end]))


DENSE_FAMILIES = {
    "repetition": (REPETITION_NAMES, repetition_features),
    "position": (POSITION_NAMES, position_features),
    "shape": (SHAPE_NAMES, shape_features),
    "heuristics": (HEURISTIC_NAMES, heuristic_features),
}


def dense_block(family: str, fragments: Sequence[Fragment], doc_views: Sequence[DocumentView]) -> np.ndarray:
    """[fragments, features] of one dense family (unscaled)."""
    names, compute = DENSE_FAMILIES[family]
    rows = [compute(v, f.start, f.end) for f, v in zip(fragments, doc_views, strict=True)]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))
