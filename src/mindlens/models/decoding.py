"""From network outputs to character spans, in numpy only.

The PyTorch and the ONNX taggers share this code, so both give the same fragments:
token probabilities become runs of tokens per technique (``decode_windows``), runs from
overlapping windows are merged (``merge_spans``), then tidied for readers
(``tidy_spans``); the TC head's span logits are pooled here too (``tc_span_logits``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace

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


@dataclass(frozen=True)
class Decoding:
    """How token probabilities become fragments, per technique (a missing technique keeps the
    tagger's single ``token_threshold`` and plain thresholding).

    Chosen after training on articles the network never saw (``mindlens registry
    tune-decoding``), because one global threshold suits no technique: Loaded language is
    frequent and short, Flag-waving rare and long.

    - ``thresholds``: a token is inside a fragment when its probability reaches this;
    - ``switch_costs``: Viterbi decoding over inside/outside tokens, with this cost (in
      log-odds) for opening a fragment: runs whose evidence does not pay for it vanish, and
      short dips inside a fragment no longer split it (0 is plain thresholding);
    - ``sentence_weights``: the weight of the sentence head in a token's probability,
      ``p_token^(1-w) * p_sentence^w`` (0 reads the token head alone);
    - ``join_gaps`` and ``min_chars``: the clean-up rules of :func:`tidy_spans` per
      technique (default ``JOIN_GAP_CHARS`` and ``MIN_SPAN_CHARS``).
    """

    thresholds: dict[str, float] = field(default_factory=dict)
    switch_costs: dict[str, float] = field(default_factory=dict)
    sentence_weights: dict[str, float] = field(default_factory=dict)
    join_gaps: dict[str, float] = field(default_factory=dict)
    min_chars: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, values, low, high in (
            ("thresholds", self.thresholds, 0.0, 1.0),
            ("switch_costs", self.switch_costs, 0.0, math.inf),
            ("sentence_weights", self.sentence_weights, 0.0, 1.0),
            ("join_gaps", self.join_gaps, 0.0, 10_000.0),
            ("min_chars", self.min_chars, 0.0, 10_000.0),
        ):
            bad = {k: v for k, v in values.items() if not low <= float(v) <= high}
            if bad:
                raise ValueError(f"decoding {name} must lie in [{low}, {high}]: {bad}")

    def arrays(self, labels: Sequence[str], threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-label threshold, switch cost and sentence weight, in ``labels`` order."""
        return (
            np.array([self.thresholds.get(label, threshold) for label in labels], dtype=float),
            np.array([self.switch_costs.get(label, 0.0) for label in labels], dtype=float),
            np.array([self.sentence_weights.get(label, 0.0) for label in labels], dtype=float),
        )

    def join_gap(self, technique: str) -> int:
        return int(self.join_gaps.get(technique, JOIN_GAP_CHARS))

    def min_span_chars(self, technique: str) -> int:
        return int(self.min_chars.get(technique, MIN_SPAN_CHARS))

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {k: dict(sorted(v.items())) for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, float]]) -> Decoding:
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown decoding keys {unknown}")
        return cls(**{k: {str(t): float(v) for t, v in values.items()} for k, values in data.items()})


def fuse_sentence(token_probs: np.ndarray, sentence_probs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Token probabilities [tokens, labels] with the sentence head's opinion mixed in
    geometrically, ``p_token^(1-w) * p_sentence^w`` per label (w = 0 leaves a label as is)."""
    if not np.any(weights):
        return token_probs
    eps = 1e-6
    logs = (1.0 - weights) * np.log(np.clip(token_probs, eps, 1.0)) + weights * np.log(
        np.clip(sentence_probs, eps, 1.0)
    )
    return np.exp(logs)


def viterbi_inside(scores: np.ndarray, cost: np.ndarray | float) -> np.ndarray:
    """The best inside/outside path per sequence (last axis), vectorised over leading axes.

    ``scores`` is each token's evidence for "inside" against "outside" (log-odds against the
    threshold; ``-inf`` forbids inside), ``cost`` the price of opening a run (broadcast over
    leading axes). With cost 0 a token is inside exactly when its score is >= 0.
    """
    scores = np.asarray(scores, dtype=float)
    cost = np.broadcast_to(np.asarray(cost, dtype=float), scores.shape[:-1])
    n = scores.shape[-1]
    inside = np.zeros(scores.shape, dtype=bool)
    if n == 0:
        return inside
    # came_in[t]: for state "inside" at t, whether t-1 was inside; out_from_in[t]: same for "outside"
    came_in = np.zeros(scores.shape, dtype=bool)
    out_from_in = np.zeros(scores.shape, dtype=bool)
    v_in = scores[..., 0] - cost
    v_out = np.zeros(scores.shape[:-1])
    for t in range(1, n):
        stay, enter = v_in, v_out - cost
        came_in[..., t] = stay >= enter
        out_from_in[..., t] = v_in > v_out
        v_in, v_out = scores[..., t] + np.maximum(stay, enter), np.maximum(v_out, v_in)
    state = v_in >= v_out
    for t in range(n - 1, -1, -1):
        inside[..., t] = state
        state = np.where(state, came_in[..., t], out_from_in[..., t])
    return inside


def inside_mask(
    content: np.ndarray,
    token_probs: np.ndarray,
    thresholds: np.ndarray,
    switch_costs: np.ndarray | None = None,
) -> np.ndarray:
    """[windows, tokens, labels]: which tokens lie inside a fragment of each label.
    ``content`` [windows, tokens] is False for special, padding and context tokens."""
    plain = content[..., None] & (token_probs >= thresholds)
    if switch_costs is None or not np.any(switch_costs):
        return plain
    eps = 1e-6
    p = np.clip(token_probs, eps, 1 - eps)
    t = np.clip(thresholds, eps, 1 - eps)
    scores = np.where(content[..., None], np.log(p / (1 - p)) - np.log(t / (1 - t)), -np.inf)
    smoothed = np.moveaxis(viterbi_inside(np.moveaxis(scores, -1, -2), switch_costs), -1, -2)
    return np.where(switch_costs > 0, smoothed, plain)


def decode_windows(
    offsets: np.ndarray,
    token_probs: np.ndarray,
    labels: Sequence[str],
    threshold: float | np.ndarray,
    switch_costs: np.ndarray | None = None,
) -> list[list[FoundSpan]]:
    """Fragments of many windows at once: maximal runs of inside tokens per technique, as
    character spans; a span's confidence is its tokens' mean probability.

    ``offsets`` [windows, tokens, 2] (padded with (0, 0)), ``token_probs`` [windows, tokens,
    labels]; ``threshold`` is one value or one per label; ``switch_costs`` (per label) turns on
    Viterbi smoothing. Special, padding and context tokens have empty offsets and break runs.
    """
    offsets = np.asarray(offsets, dtype=np.int64).reshape(*token_probs.shape[:2], 2)
    thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), (len(labels),))
    inside = inside_mask(offsets[..., 1] > offsets[..., 0], token_probs, thresholds, switch_costs)
    runs = np.moveaxis(inside, -1, -2).astype(np.int8)  # [windows, labels, tokens]
    edges = np.diff(np.pad(runs, ((0, 0), (0, 0), (1, 1))), axis=-1)
    w, j, first = np.nonzero(edges == 1)
    stop = np.nonzero(edges == -1)[2]  # same (window, label) order, one end per start
    sums = np.pad(np.cumsum(np.moveaxis(token_probs, -1, -2), axis=-1), ((0, 0), (0, 0), (1, 0)))
    confidence = (sums[w, j, stop] - sums[w, j, first]) / (stop - first)
    spans: list[list[FoundSpan]] = [[] for _ in range(token_probs.shape[0])]
    for k in range(len(w)):
        spans[w[k]].append(
            FoundSpan(
                int(offsets[w[k], first[k], 0]),
                int(offsets[w[k], stop[k] - 1, 1]),
                labels[j[k]],
                float(confidence[k]),
            )
        )
    return spans


def pad_tokens(arrays: Sequence[np.ndarray], fill: float = 0.0) -> np.ndarray:
    """Stack per-window arrays [tokens, ...] of different lengths into [windows, max tokens, ...]."""
    longest = max((len(a) for a in arrays), default=0)
    shape = (len(arrays), longest, *(arrays[0].shape[1:] if len(arrays) else ()))
    out = np.full(shape, fill, dtype=np.result_type(*arrays) if len(arrays) else float)
    for k, a in enumerate(arrays):
        out[k, : len(a)] = a
    return out


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


def tidy_spans(text: str, spans: Sequence[FoundSpan], decoding: Decoding | None = None) -> list[FoundSpan]:
    """Snap fragment edges to whole words, join close fragments of one technique, and drop
    fragments too short to mean anything (gaps and lengths per technique from ``decoding``,
    else ``JOIN_GAP_CHARS`` and ``MIN_SPAN_CHARS``)."""
    rules = decoding or Decoding()

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
            and span.start - last.end <= rules.join_gap(span.technique)
            and not _BREAK.search(text[last.end : span.start])
        ):
            joined[-1] = replace(
                last, end=max(last.end, span.end), confidence=max(last.confidence, span.confidence)
            )
        else:
            joined.append(span)
    kept = [s for s in joined if len(text[s.start : s.end].strip()) >= rules.min_span_chars(s.technique)]
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
