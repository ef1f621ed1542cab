"""Derive sentence-level labels from character-offset spans."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mindlens.data.schema import Span
from mindlens.preprocessing.sentences import Sentence


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Half-open intervals share at least one character."""
    return a_start < b_end and b_start < a_end


def sentence_labels(sentences: Sequence[Sentence], spans: Iterable[Span]) -> list[set[str]]:
    """For each sentence, the techniques of every span that overlaps it."""
    labels: list[set[str]] = [set() for _ in sentences]
    for span in spans:
        for i, sentence in enumerate(sentences):
            if overlaps(sentence.start, sentence.end, span.start, span.end):
                labels[i].add(span.technique)
    return labels
