"""A shared transformer encoder with up to four heads, trained together:

- ``token``: for every token and technique, the probability that the token lies inside
  a fragment using that technique (independent sigmoids, so fragments of different
  techniques can overlap);
- ``sentence``: techniques of the whole sentence (mean-pooled), the second opinion;
- ``tc``: technique classification of a given span in its context (PTC's TC task). It is
  linear, ``tc(span) = mean_{t in span} W_span h_t + W_ctx pooled + b``, so the network
  only emits per-token ``tc_token_logits`` and per-window ``tc_context_logits`` and any
  span is pooled afterwards in numpy (one forward pass, exact, no extra input);
- ``clickbait``: one logit from the pooled representation (a headline's clickbait score).

A *family* is the set of heads a model trains (``FAMILIES``); heads it did not train are
neither saved nor exported. With ``context_sentences=1`` the encoder reads each sentence
as the first segment of a text pair whose second segment is the previous and the next
sentence; only first-segment tokens carry labels or yield spans.

Texts longer than the encoder's window are cut into overlapping windows whose
predictions are merged back. Decoding from network outputs to character spans is
shared by the PyTorch and the ONNX paths, so both give the same spans.
Folder format: ``encoder/`` (Hugging Face weights + tokenizer), ``heads.safetensors``,
``tagger.json`` (labels, heads, max length, thresholds).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_V1 = "mindlens.tagger/1"  # token + sentence heads, single sentences (V1)
FORMAT = "mindlens.tagger/2"  # any heads, optional neighbouring-sentence context
FORMATS = (FORMAT_V1, FORMAT)
CONFIG = "tagger.json"

HEADS = ("token", "sentence", "tc", "clickbait")
V1_HEADS = ["token", "sentence"]
FAMILIES: dict[str, list[str]] = {
    "span": ["token", "sentence"],
    "sentence": ["sentence"],
    "tc": ["tc"],
    "clickbait": ["clickbait"],
    "multitask": list(HEADS),
}
FAMILY_ALIASES = {"tagger": "span"}  # the name V1 was trained under
# network output names per head, in the order the network returns them
HEAD_OUTPUTS: dict[str, tuple[str, ...]] = {
    "token": ("token_logits",),
    "sentence": ("sentence_logits",),
    "tc": ("tc_token_logits", "tc_context_logits"),
    "clickbait": ("clickbait_logits",),
}
# head modules per head, the names used in heads.safetensors
HEAD_MODULES: dict[str, tuple[str, ...]] = {
    "token": ("token_head",),
    "sentence": ("sentence_head",),
    "tc": ("tc_span_head", "tc_context_head"),
    "clickbait": ("clickbait_head",),
}


def family_name(family: str) -> str:
    """The canonical family name (``tagger`` is ``span``); raises on an unknown family."""
    family = FAMILY_ALIASES.get(family, family)
    if family not in FAMILIES:
        known = sorted([*FAMILIES, *FAMILY_ALIASES])
        raise ValueError(f"unknown model family {family!r}: expected one of {', '.join(known)}")
    return family


def family_heads(family: str) -> list[str]:
    """The heads a neural family trains."""
    return list(FAMILIES[family_name(family)])


def output_names(heads: Sequence[str]) -> list[str]:
    """Network outputs of a model with these heads, in the network's order."""
    return [name for head in HEADS if head in heads for name in HEAD_OUTPUTS[head]]


@dataclass
class TaggerConfig:
    labels: list[str]
    backbone: str
    max_length: int = 128
    stride: int = 32
    token_threshold: float = 0.5
    sentence_threshold: float = 0.5
    format: str = FORMAT
    metrics: dict[str, float] = field(default_factory=dict)
    heads: list[str] = field(default_factory=lambda: list(V1_HEADS))
    context_sentences: int = 0  # 1: read (sentence, previous + next sentence) as a text pair

    def __post_init__(self) -> None:
        unknown = [h for h in self.heads if h not in HEADS]
        if unknown or not self.heads:
            raise ValueError(f"heads must be a non-empty subset of {HEADS}, not {self.heads}")
        self.heads = [h for h in HEADS if h in self.heads]
        if self.context_sentences not in (0, 1):
            raise ValueError(f"context_sentences must be 0 or 1, not {self.context_sentences}")

    def has(self, head: str) -> bool:
        return head in self.heads

    @property
    def is_v1(self) -> bool:
        """Expressible in the V1 format (so older servers can still read it)."""
        return self.heads == V1_HEADS and self.context_sentences == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.is_v1:  # V1's loader passes every key to the constructor: write only its keys
            for key in ("heads", "context_sentences"):
                data.pop(key)
        data["format"] = FORMAT_V1 if self.is_v1 else FORMAT
        return data

    def save(self, folder: Path) -> None:
        (Path(folder) / CONFIG).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> TaggerConfig:
        data = json.loads((Path(folder) / CONFIG).read_text())
        if data.get("format") not in FORMATS:
            raise ValueError(
                f"{folder} is not a tagger model: format {data.get('format')!r} is none of "
                f"{', '.join(FORMATS)}"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{folder / CONFIG}: unknown keys {unknown} (written by a newer MindLens?)")
        return cls(**data)


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


def pad_windows(windows: Sequence[dict[str, Any]], with_types: bool) -> dict[str, np.ndarray]:
    """Network inputs for a batch of windows, zero-padded to the longest (``token_type_ids``
    only for context models, whose windows carry ``type_ids``)."""
    width = max(len(w["input_ids"]) for w in windows)
    names = (
        ("input_ids", "attention_mask", "token_type_ids") if with_types else ("input_ids", "attention_mask")
    )
    batch = {name: np.zeros((len(windows), width), dtype=np.int64) for name in names}
    for row, w in enumerate(windows):
        n = len(w["input_ids"])
        batch["input_ids"][row, :n] = w["input_ids"]
        batch["attention_mask"][row, :n] = 1
        if with_types:
            batch["token_type_ids"][row, :n] = w["type_ids"]
    return batch


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


@dataclass
class TaggedText:
    """What a tagger says about one text (a sentence, usually)."""

    sentence_probs: np.ndarray  # [labels]; zeros when the model has no sentence head
    spans: list[FoundSpan]
    clickbait: float | None = None  # probability, when the model has a clickbait head


Context = tuple[str, str]  # (previous sentence, next sentence)


def neighbours(texts: Sequence[str]) -> list[Context]:
    """(previous, next) for each of consecutive sentences (empty at the edges)."""
    return [
        (texts[i - 1] if i > 0 else "", texts[i + 1] if i + 1 < len(texts) else "") for i in range(len(texts))
    ]


class TaggerBase:
    """Shared inference: tokenise into windows, run the network, decode and merge.
    Subclasses provide ``_windows`` (tokenisation) and ``_run`` (the network)."""

    config: TaggerConfig

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    @property
    def heads(self) -> list[str]:
        return self.config.heads

    def _windows(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Network outputs by name (``output_names(self.heads)``) for padded inputs."""
        raise NotImplementedError

    def _check_contexts(
        self, texts: Sequence[str], contexts: Sequence[Context] | None
    ) -> list[Context] | None:
        if not self.config.context_sentences:
            return None
        contexts = [("", "")] * len(texts) if contexts is None else list(contexts)
        if len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(contexts)} contexts")
        return contexts

    def infer(
        self, texts: Sequence[str], *, batch_size: int = 32, contexts: Sequence[Context] | None = None
    ) -> Inference:
        """Run the network once over every window (batched by length: less padding).
        ``contexts`` (previous, next sentence per text) is read by context models only."""
        windows = self._windows(texts, self._check_contexts(texts, contexts))
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]["input_ids"]))
        outputs: dict[str, list[np.ndarray]] = {
            name: [np.zeros(0)] * len(windows) for name in output_names(self.heads)
        }
        for begin in range(0, len(order), batch_size):
            batch = [windows[i] for i in order[begin : begin + batch_size]]
            result = self._run(pad_windows(batch, bool(self.config.context_sentences)))
            for row, index in enumerate(order[begin : begin + batch_size]):
                n = len(windows[index]["input_ids"])
                for name, values in result.items():
                    per_token = name in ("token_logits", "tc_token_logits")
                    outputs[name][index] = values[row, :n] if per_token else values[row]
        return Inference(list(texts), windows, outputs)

    def decode(self, inference: Inference, token_threshold: float | None = None) -> list[TaggedText]:
        """Spans and sentence scores from network outputs (cheap: thresholds can be tuned
        without running the network again). Each span gets the TC head's opinion when
        the model has one."""
        threshold = self.config.token_threshold if token_threshold is None else token_threshold
        results = [TaggedText(np.zeros(len(self.labels)), []) for _ in range(inference.n_texts)]
        found: dict[int, list[FoundSpan]] = {i: [] for i in range(inference.n_texts)}
        out = inference.outputs
        for k, window in enumerate(inference.windows):
            i = window["text_index"]
            if "sentence_logits" in out:
                results[i].sentence_probs = np.maximum(
                    results[i].sentence_probs, sigmoid(out["sentence_logits"][k])
                )
            if "token_logits" in out:
                found[i] += decode_spans(
                    window["offsets"], sigmoid(out["token_logits"][k]), self.labels, threshold
                )
            if "clickbait_logits" in out:
                p = float(sigmoid(out["clickbait_logits"][k][0]))
                results[i].clickbait = p if results[i].clickbait is None else max(results[i].clickbait, p)
        for i, spans in found.items():
            merged = tidy_spans(inference.texts[i], merge_spans(spans))
            results[i].spans = (
                inference.with_tc(i, merged, self.labels) if "tc_token_logits" in out else merged
            )
        return results

    def tag(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        token_threshold: float | None = None,
        contexts: Sequence[Context] | None = None,
    ) -> list[TaggedText]:
        """Tag many texts: sentence probabilities and merged fragments for each."""
        return self.decode(self.infer(texts, batch_size=batch_size, contexts=contexts), token_threshold)

    def classify_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 32,
        contexts: Sequence[Context] | None = None,
    ) -> list[list[np.ndarray | None]]:
        """The TC head's technique distribution for given spans (offsets into their text),
        from one pass over the texts; None for a span with no token in any window."""
        if not self.config.has("tc"):
            raise ValueError("this model has no TC head (train the tc or multitask family)")
        inference = self.infer(texts, batch_size=batch_size, contexts=contexts)
        return [inference.tc_probs(i, list(items)) for i, items in enumerate(spans)]

    def classify_items(
        self,
        items: Sequence[tuple[str, int, int]],
        contexts: Sequence[Context] | None = None,
        *,
        batch_size: int = 32,
    ) -> np.ndarray:
        """[items, labels] TC probabilities for spans given as (text holding the span, start,
        end); a text shared by several items runs once; a span with no token gets a uniform
        distribution (no opinion)."""
        unique: dict[tuple[str, Context | None], int] = {}
        grouped: list[list[tuple[int, int]]] = []
        where = []
        for n, (text, start, end) in enumerate(items):
            key = (text, None if contexts is None else tuple(contexts[n]))
            if key not in unique:
                unique[key] = len(unique)
                grouped.append([])
            where.append((unique[key], len(grouped[unique[key]])))
            grouped[unique[key]].append((start, end))
        keys = list(unique)
        found = self.classify_spans(
            [k[0] for k in keys],
            grouped,
            batch_size=batch_size,
            contexts=None if contexts is None else [k[1] for k in keys],
        )
        uniform = np.full(len(self.labels), 1.0 / len(self.labels))
        rows = [found[t][k] if found[t][k] is not None else uniform for t, k in where]
        return np.array(rows, dtype=float).reshape(len(items), len(self.labels))


@dataclass
class Inference:
    """Raw network outputs per window, kept so decoding can be repeated cheaply."""

    texts: list[str]  # the texts themselves (fragment clean-up reads them)
    windows: list[dict[str, Any]]
    outputs: dict[str, list[np.ndarray]]  # output name -> per window ([tokens, ...] or [...])
    _windows_by_text: dict[int, list[tuple[int, np.ndarray]]] | None = field(default=None, repr=False)

    @property
    def n_texts(self) -> int:
        return len(self.texts)

    def with_tc(self, text_index: int, spans: Sequence[FoundSpan], labels: Sequence[str]) -> list[FoundSpan]:
        """The spans of one text, each with the TC head's second opinion (its probability for
        the span's technique and its own best guess); spans it has no opinion on, or whose
        technique it does not know, stay as they are."""
        probs = self.tc_probs(text_index, [(s.start, s.end) for s in spans])
        return [
            s
            if p is None or s.technique not in labels
            else replace(
                s, tc_confidence=float(p[labels.index(s.technique)]), tc_technique=labels[int(p.argmax())]
            )
            for s, p in zip(spans, probs, strict=False)
        ]

    def _by_text(self) -> dict[int, list[tuple[int, np.ndarray]]]:
        """Window indices and offset arrays per text (built once per inference)."""
        if self._windows_by_text is None:
            self._windows_by_text = defaultdict(list)
            for k, w in enumerate(self.windows):
                offsets = np.asarray(w["offsets"], dtype=np.int64).reshape(-1, 2)
                self._windows_by_text[w["text_index"]].append((k, offsets))
        return self._windows_by_text

    def tc_probs(self, text_index: int, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
        """TC distribution per span of one text, pooled in the window holding most of the
        span's tokens (the first such window on a tie); exact for a span inside one window.
        Vectorised over spans: one [spans, tokens] membership matrix per window."""
        if not len(spans):
            return []
        bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        best_count = np.zeros(len(bounds), dtype=np.int64)
        best_logits = np.zeros((len(bounds), len(self.outputs["tc_context_logits"][0])))
        for k, offsets in self._by_text().get(text_index, []):
            ts, te = offsets[:, 0], offsets[:, 1]
            member = (te > ts)[None, :] & (ts[None, :] < bounds[:, 1:2]) & (bounds[:, 0:1] < te[None, :])
            count = member.sum(axis=1)
            better = count > best_count
            if better.any():
                pooled = member[better].astype(np.float64) @ self.outputs["tc_token_logits"][k].astype(
                    np.float64
                )
                best_logits[better] = pooled / count[better, None] + self.outputs["tc_context_logits"][k]
                best_count[better] = count[better]
        return [softmax(best_logits[i]) if best_count[i] else None for i in range(len(bounds))]


def hf_windows(tokenizer: Any, texts: Sequence[str], max_length: int, stride: int) -> list[dict[str, Any]]:
    """Overlapping windows with character offsets from a Hugging Face fast tokenizer."""
    if not texts:
        return []
    enc = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    windows = []
    for i, ids in enumerate(enc["input_ids"]):
        special = set(np.flatnonzero(enc.special_tokens_mask[i])) if "special_tokens_mask" in enc else set()
        offsets = [(0, 0) if k in special else tuple(o) for k, o in enumerate(enc["offset_mapping"][i])]
        windows.append(
            {"text_index": int(enc["overflow_to_sample_mapping"][i]), "input_ids": ids, "offsets": offsets}
        )
    return windows


def context_text(tokenizer: Any, context: Context, budget: int) -> str:
    """The second segment: the previous sentence's tail and the next sentence's head, at most
    ``budget`` tokens (cut at token boundaries of the Rust ``tokenizer``, half each side)."""
    prev, nxt = context
    half = budget // 2
    if prev:
        enc = tokenizer.encode(prev, add_special_tokens=False)
        if len(enc.ids) > half:
            prev = prev[enc.offsets[len(enc.ids) - half][0] :] if half else ""
    if nxt:
        enc = tokenizer.encode(nxt, add_special_tokens=False)
        if len(enc.ids) > budget - half:
            nxt = nxt[: enc.offsets[budget - half - 1][1]] if budget - half else ""
    text = f"{prev} {nxt}".strip()
    enc = tokenizer.encode(text, add_special_tokens=False)
    if len(enc.ids) > budget:  # re-tokenising the joined text can add a piece
        text = text[: enc.offsets[budget - 1][1]] if budget else ""
    return text


def pair_windows(
    tokenizer: Any, texts: Sequence[str], contexts: Sequence[Context], max_length: int, stride: int
) -> list[dict[str, Any]]:
    """Windows of (text, context) pairs from a Rust ``tokenizers.Tokenizer`` whose truncation
    is ``only_first`` at ``max_length`` with ``stride``: each window holds a slice of the text
    and the whole (budgeted) context. Context tokens get empty offsets, so they never carry
    labels or become spans; ``type_ids`` feed the encoder's segment embeddings."""
    if not texts:
        return []
    budget = (max_length - tokenizer.num_special_tokens_to_add(True)) // 4
    pairs = [
        (text, context_text(tokenizer, context, budget))
        for text, context in zip(texts, contexts, strict=False)
    ]
    windows: list[dict[str, Any]] = []
    for text_index, encoding in enumerate(tokenizer.encode_batch(pairs)):
        for part in [encoding, *encoding.overflowing]:
            offsets = [
                tuple(o) if seq == 0 and not special else (0, 0)
                for o, seq, special in zip(
                    part.offsets, part.sequence_ids, part.special_tokens_mask, strict=False
                )
            ]
            windows.append(
                {
                    "text_index": text_index,
                    "input_ids": list(part.ids),
                    "offsets": offsets,
                    "type_ids": list(part.type_ids),
                }
            )
    return windows


def rust_tokenizer(hf_tokenizer: Any) -> Any:
    """A standalone Rust tokenizer with the fast tokenizer's vocabulary and rules, no
    padding or truncation presets (the served ``tokenizer.json`` is this, saved)."""
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    backend.no_padding()
    backend.no_truncation()
    return backend


def set_window_truncation(tokenizer: Any, config: TaggerConfig) -> None:
    """Windowing of a Rust tokenizer: plain texts truncate as Hugging Face does for one
    sequence; text pairs window over the first segment only."""
    tokenizer.no_padding()
    strategy = "only_first" if config.context_sentences else "longest_first"
    tokenizer.enable_truncation(config.max_length, stride=config.stride, strategy=strategy, direction="right")


class TorchTagger(TaggerBase):
    """The PyTorch model (training, export, and the baseline in benchmarks)."""

    def __init__(self, network: Any, tokenizer: Any, config: TaggerConfig) -> None:
        self.network, self.tokenizer, self.config = network, tokenizer, config
        self._pair_tokenizer: Any = None

    @property
    def device(self) -> Any:
        return next(self.network.parameters()).device

    def _windows(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> list[dict[str, Any]]:
        if not self.config.context_sentences:
            return hf_windows(self.tokenizer, texts, self.config.max_length, self.config.stride)
        if self._pair_tokenizer is None:  # the same Rust code path as the ONNX tagger
            self._pair_tokenizer = rust_tokenizer(self.tokenizer)
            set_window_truncation(self._pair_tokenizer, self.config)
        contexts = [("", "")] * len(texts) if contexts is None else contexts
        return pair_windows(self._pair_tokenizer, texts, contexts, self.config.max_length, self.config.stride)

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch

        self.network.eval()
        device = self.device
        with torch.inference_mode():
            result = self.network(
                *(torch.from_numpy(inputs[name]).to(device) for name in input_names(self.config))
            )
        return {
            name: t.float().cpu().numpy() for name, t in zip(output_names(self.heads), result, strict=True)
        }

    def save(self, folder: Path) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        (folder / "encoder").mkdir(parents=True, exist_ok=True)
        self.network.encoder.save_pretrained(folder / "encoder")
        self.tokenizer.save_pretrained(folder / "encoder")
        heads = {
            f"{module}.{k}": v.detach().cpu()
            for head in self.heads
            for module in HEAD_MODULES[head]
            for k, v in getattr(self.network, module).state_dict().items()
        }
        save_file({k: v.contiguous() for k, v in heads.items()}, str(folder / "heads.safetensors"))
        self.config.save(folder)
        return folder

    @classmethod
    def load(cls, folder: Path) -> TorchTagger:
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        config = TaggerConfig.load(folder)
        network = MultiTaskTagger.create(
            AutoModel.from_pretrained(folder / "encoder", dtype=_float32()),
            len(config.labels),
            heads=config.heads,
        )
        weights = load_file(str(folder / "heads.safetensors"))
        for head in config.heads:
            for module in HEAD_MODULES[head]:
                state = {k.split(".", 1)[1]: v for k, v in weights.items() if k.startswith(f"{module}.")}
                if not state:
                    raise ValueError(f"{folder}: heads.safetensors lacks {module} for the {head} head")
                getattr(network, module).load_state_dict(state)
        return cls(network.eval(), AutoTokenizer.from_pretrained(folder / "encoder"), config)

    @classmethod
    def from_backbone(cls, backbone: str, labels: Sequence[str], **config: Any) -> TorchTagger:
        """A new tagger: pretrained encoder from ``backbone`` (alias, path or hub id), fresh heads."""
        from transformers import AutoModel, AutoTokenizer

        from mindlens.models.backbones import resolve_backbone

        source = resolve_backbone(backbone)
        encoder = AutoModel.from_pretrained(
            source, dtype=_float32()
        )  # fp32 master weights, whatever was stored
        tokenizer = AutoTokenizer.from_pretrained(source)
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"backbone {backbone!r} has no fast (Rust) tokenizer; character offsets "
                "and the ONNX path need one"
            )
        settings = TaggerConfig(labels=list(labels), backbone=backbone, **config)
        return cls(MultiTaskTagger.create(encoder, len(labels), heads=settings.heads), tokenizer, settings)


def _float32() -> Any:
    import torch

    return torch.float32


def compact_backbone(backbone: str, folder: Path) -> Path:
    """A half-precision copy of an encoder and its tokenizer (half the bytes, e.g. to carry
    MiniLM to a GPU machine); training loads it back in fp32."""
    from transformers import AutoModel, AutoTokenizer

    from mindlens.models.backbones import resolve_backbone

    source = resolve_backbone(backbone)
    folder = Path(folder)
    AutoModel.from_pretrained(source).half().save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def input_names(config: TaggerConfig) -> list[str]:
    """Network inputs: segment ids only for context (text pair) models."""
    return ["input_ids", "attention_mask", *(["token_type_ids"] if config.context_sentences else [])]


def _module():  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class _MultiTaskTagger(nn.Module):
        def __init__(self, encoder: Any, n_labels: int, heads: Sequence[str], dropout: float = 0.1) -> None:
            super().__init__()
            self.encoder = encoder
            self.heads = [h for h in HEADS if h in heads]
            hidden = encoder.config.hidden_size
            self.dropout = nn.Dropout(dropout)
            if "token" in self.heads:
                self.token_head = nn.Linear(hidden, n_labels)
            if "sentence" in self.heads:
                self.sentence_head = nn.Linear(hidden, n_labels)
            if "tc" in self.heads:  # bias once, in the span part: mean(W h_t + b) = W mean(h) + b
                self.tc_span_head = nn.Linear(hidden, n_labels)
                self.tc_context_head = nn.Linear(hidden, n_labels, bias=False)
            if "clickbait" in self.heads:
                self.clickbait_head = nn.Linear(hidden, 1)

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,  # type: ignore[no-untyped-def]
            token_type_ids: torch.Tensor | None = None,
        ):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, **extra
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = self.dropout((hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0))
            hidden = self.dropout(hidden)
            out = []
            if "token" in self.heads:
                out.append(self.token_head(hidden))
            if "sentence" in self.heads:
                out.append(self.sentence_head(pooled))
            if "tc" in self.heads:
                out += [self.tc_span_head(hidden), self.tc_context_head(pooled)]
            if "clickbait" in self.heads:
                out.append(self.clickbait_head(pooled))
            return tuple(out)

    return _MultiTaskTagger


class MultiTaskTagger:
    """Factory for the torch module (torch is imported only when a model is built)."""

    @staticmethod
    def create(
        encoder: Any, n_labels: int, dropout: float = 0.1, heads: Sequence[str] = tuple(V1_HEADS)
    ) -> Any:
        return _module()(encoder, n_labels, heads, dropout)
