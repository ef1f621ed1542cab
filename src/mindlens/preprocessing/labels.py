"""Label shapes: sentence labels from character-offset spans, and multi-hot matrices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from mindlens.preprocessing.sentences import Sentence
from mindlens.schema import Span


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


def indicator(rows: Iterable[Iterable[str]], labels: Sequence[str]) -> np.ndarray:
    """Multi-hot [rows, labels] bool matrix; ids outside ``labels`` are ignored (a model is
    scored on the techniques it knows)."""
    column = {label: j for j, label in enumerate(labels)}
    rows = list(rows)
    out = np.zeros((len(rows), len(labels)), dtype=bool)
    for i, row in enumerate(rows):
        for label in row:
            if label in column:
                out[i, column[label]] = True
    return out
