"""From network outputs to character spans, in numpy only.

The PyTorch and the ONNX taggers share this code, so both give the same fragments:
token probabilities become runs of tokens per technique (``decode_spans``), runs from
overlapping windows are merged (``merge_spans``), then tidied for readers
(``tidy_spans``); the TC head's span logits are pooled here too (``tc_span_logits``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class FoundSpan:
    start: int
    end: int
    technique: str
    confidence: float
    # the TC head's second opinion: its probability for ``technique`` and its own best guess
    tc_confidence: float | None = None
    tc_technique: str | None = None


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def decode_spans(
    offsets: Sequence[tuple[int, int]],
    token_probs: np.ndarray,
    labels: Sequence[str],
    threshold: float,
    base: int = 0,
) -> list[FoundSpan]:
    """Maximal runs of content tokens at or above the threshold, per technique, as
    character spans (``base`` is added to every offset). Special, padding and context
    tokens have empty offsets and break runs."""
    spans: list[FoundSpan] = []
    for j, label in enumerate(labels):
        run: list[int] = []
        for i, (start, end) in enumerate(offsets):
            inside = end > start and token_probs[i, j] >= threshold
            if inside:
                run.append(i)
            if run and (not inside or i == len(offsets) - 1):
                spans.append(
                    FoundSpan(
                        base + offsets[run[0]][0],
                        base + offsets[run[-1]][1],
                        label,
                        float(token_probs[run, j].mean()),
                    )
                )
                run = []
    return spans


def merge_spans(spans: Sequence[FoundSpan]) -> list[FoundSpan]:
    """Join overlapping spans of one technique (from overlapping windows); keep the best confidence."""
    merged: list[FoundSpan] = []
    for span in sorted(spans, key=lambda s: (s.technique, s.start, s.end)):
        last = merged[-1] if merged else None
        if last and last.technique == span.technique and span.start <= last.end:
            merged[-1] = FoundSpan(
                last.start, max(last.end, span.end), span.technique, max(last.confidence, span.confidence)
            )
        else:
            merged.append(span)
    return sorted(merged, key=lambda s: (s.start, s.end, s.technique))


# Fragment clean-up after decoding (measured on PTC validation with V1: FLC F1 0.229 -> 0.256).
# Raw token runs stop inside words ("ex" of "expats"), split one phrase into pieces and keep
# lone function words ("the", "its"); readers see that as noise.
JOIN_GAP_CHARS = 25  # join same-technique fragments this close, unless a sentence break is between
MIN_SPAN_CHARS = 4  # drop fragments shorter than this (stripped); "evil", "lies" survive
_WORD = re.compile(r"\w")
_BREAK = re.compile(r"[.!?;]")


def tidy_spans(text: str, spans: Sequence[FoundSpan]) -> list[FoundSpan]:
    """Snap fragment edges to whole words, join close fragments of one technique, and drop
    fragments too short to mean anything."""

    def inside_word(i: int) -> bool:
        return 0 < i < len(text) and bool(_WORD.match(text[i - 1])) and bool(_WORD.match(text[i]))

    snapped = []
    for span in spans:
        start, end = span.start, span.end
        while inside_word(start):
            start -= 1
        while inside_word(end):
            end += 1
        snapped.append(replace(span, start=start, end=end))
    joined: list[FoundSpan] = []
    for span in sorted(snapped, key=lambda s: (s.technique, s.start, s.end)):
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.technique == span.technique
            and span.start - last.end <= JOIN_GAP_CHARS
            and not _BREAK.search(text[last.end : span.start])
        ):
            joined[-1] = replace(
                last, end=max(last.end, span.end), confidence=max(last.confidence, span.confidence)
            )
        else:
            joined.append(span)
    kept = [s for s in joined if len(text[s.start : s.end].strip()) >= MIN_SPAN_CHARS]
    return sorted(kept, key=lambda s: (s.start, s.end, s.technique))


def span_tokens(offsets: Sequence[tuple[int, int]] | np.ndarray, start: int, end: int) -> np.ndarray:
    """Indices of the content tokens sharing a character with ``[start, end)``."""
    bounds = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    ts, te = bounds[:, 0], bounds[:, 1]
    return np.flatnonzero((te > ts) & (ts < end) & (start < te))


def tc_span_logits(
    offsets: Sequence[tuple[int, int]],
    tc_token_logits: np.ndarray,
    tc_context_logits: np.ndarray,
    start: int,
    end: int,
) -> np.ndarray | None:
    """The TC head's logits for one span of one window: the mean of its tokens' span logits
    plus the window's context logits (the head is linear, so this equals running it on the
    span's mean hidden state). None when no token of the window lies in the span."""
    tokens = span_tokens(offsets, start, end)
    if not len(tokens):
        return None
    return tc_token_logits[tokens].mean(axis=0) + tc_context_logits
