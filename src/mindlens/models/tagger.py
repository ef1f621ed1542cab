"""The tagger interface both backends share: tokenise into windows, run the network,
decode and merge.

``TorchTagger`` (training, export) and ``OnnxTagger`` (serving) differ only in how they
window texts (``_windows``) and run the network (``_run``); everything after the network
is here, once, so both give the same spans, sentence scores, TC opinions and clickbait
scores. ``Inference`` keeps raw outputs so thresholds can be tuned without running the
network again. numpy only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from mindlens.models import parallel
from mindlens.models.decoding import (
    Decoding,
    FoundSpan,
    decode_windows,
    fuse_sentence,
    merge_spans,
    pad_tokens,
    sigmoid,
    softmax,
    tidy_spans,
)
from mindlens.models.tagger_config import PER_TOKEN_OUTPUTS, TaggerConfig, output_names
from mindlens.models.windows import Context, pad_windows

# padded tokens per forward pass: attention grows with the square of the longest window, so
# small batches win: 192-256 measured fastest on an AVX-512/AMX Xeon (512: +10 %, 2048: +2.5x);
# with batches run side by side (models.parallel) more, smaller batches also share the cores
# more evenly: on an AVX-512 EPYC a 600-word article's network pass took 48 ms at 192 against
# 53 ms at 256 (medians of 6 rounds; bench_inference.py --analyze compares budgets)
TOKEN_BUDGET = 192


def token_batches(lengths: Sequence[int], max_tokens: int, max_rows: int) -> list[list[int]]:
    """Consecutive index ranges over ``lengths`` (sorted ascending) whose padded size,
    rows times the longest, stays within ``max_tokens`` with at most ``max_rows`` rows; a
    window longer than the budget goes alone."""
    if max_tokens < 1 or max_rows < 1:
        raise ValueError(f"max_tokens and batch_size must be positive, not {max_tokens}, {max_rows}")
    batches: list[list[int]] = []
    current: list[int] = []
    for k, n in enumerate(lengths):
        if current and ((len(current) + 1) * n > max_tokens or len(current) >= max_rows):
            batches.append(current)
            current = []
        current.append(k)
    if current:
        batches.append(current)
    return batches


def window_batches(windows: Sequence[dict[str, Any]], max_tokens: int, max_rows: int) -> list[list[int]]:
    """Window indices in batches of similar length (sorted by length) that hold at most
    ``max_tokens`` padded tokens and ``max_rows`` windows (``token_batches``), the batch of the
    longest windows first: batches run side by side finish together when the costliest start
    first (a short one is left for the end, not a long one)."""
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]["input_ids"]))
    lengths = [len(windows[i]["input_ids"]) for i in order]
    batches = [[order[k] for k in batch] for batch in token_batches(lengths, max_tokens, max_rows)]
    return batches[::-1]


def run_batches(
    forward: Callable[[Sequence[dict[str, Any]], Sequence[int]], list[dict[str, np.ndarray]]],
    windows: Sequence[dict[str, Any]],
    batches: Sequence[list[int]],
    side_by_side: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Each window's network outputs, in window order, from running ``batches`` (lists of
    window indices) through ``forward`` one at a time, or side by side on the process's pool
    (``models.parallel``): the same batches either way, so the same outputs."""
    run = partial(forward, windows)
    done = parallel.map_ordered(run, batches) if side_by_side else map(run, batches)
    by_index: dict[int, dict[str, np.ndarray]] = {}
    for indices, batch_rows in zip(batches, done, strict=True):
        by_index.update(zip(indices, batch_rows, strict=True))
    return [by_index[i] for i in range(len(windows))]


@dataclass
class TaggedText:
    """What a tagger says about one text (a sentence, usually)."""

    sentence_probs: np.ndarray  # [labels]; zeros when the model has no sentence head
    spans: list[FoundSpan]
    clickbait: float | None = None  # probability, when the model has a clickbait head


class TaggerBase:
    """Shared inference: tokenise into windows, run the network, decode and merge.
    Subclasses provide ``_windows`` (tokenisation) and ``_run`` (the network).

    ``window_runner``, when set, runs the network over a text's windows instead of
    ``infer``'s own loop: the server's dynamic batcher (``serving.batching``) sets it to
    gather windows from concurrent requests into shared batches when ``batch_invariant``
    (V2.1's static int8: outputs do not depend on batch companions), so the answer is the
    same either way."""

    config: TaggerConfig
    window_runner: Callable[[list[dict[str, Any]]], list[dict[str, np.ndarray]]] | None = None
    # whether a window's outputs are independent of its batch companions (the batcher merges
    # requests only then); unknown graphs are assumed not to be
    batch_invariant: bool = False
    # whether ``infer`` runs its batches side by side on the process's pool (``models.parallel``):
    # single-threaded ONNX sessions do; torch and multi-threaded sessions spread each batch
    # over the cores themselves
    parallel_batches: bool = False

    @property
    def labels(self) -> list[str]:
        return self.config.labels

    @property
    def heads(self) -> list[str]:
        return self.config.heads

    @property
    def decoding(self) -> Decoding:
        """The per-technique decoding saved with the model (checked: bad values raise)."""
        return Decoding.from_dict(self.config.decoding)

    def _windows(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Network outputs by name (``output_names(self.heads)``) for padded inputs."""
        raise NotImplementedError

    def forward(
        self, windows: Sequence[dict[str, Any]], indices: Sequence[int]
    ) -> list[dict[str, np.ndarray]]:
        """Network outputs of ``windows[i]`` for each ``i`` in ``indices``, run as one padded
        batch: per window, each output by name (per-token outputs cut to its real length)."""
        result = self._run(pad_windows([windows[i] for i in indices], bool(self.config.context_sentences)))
        rows: list[dict[str, np.ndarray]] = []
        for row, index in enumerate(indices):
            n = len(windows[index]["input_ids"])
            rows.append(
                {
                    name: values[row, :n] if name in PER_TOKEN_OUTPUTS else values[row]
                    for name, values in result.items()
                }
            )
        return rows

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
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        contexts: Sequence[Context] | None = None,
        max_tokens: int | None = None,
    ) -> Inference:
        """Run the network once over every window, in batches of windows of similar length
        (sorted by length) that hold at most ``max_tokens`` padded tokens (default
        ``TOKEN_BUDGET``) and ``batch_size`` windows: padding costs as much as real
        tokens, so a fixed count of 32 doubled the work on an article's mixed lengths.
        ``contexts`` (previous, next sentence per text) is read by context models only.
        The batches run side by side when ``parallel_batches`` (the same batches, so the same
        outputs)."""
        windows = self._windows(texts, self._check_contexts(texts, contexts))
        if self.window_runner is not None:  # the server's dynamic batcher (its own budget)
            rows = self.window_runner(windows)
        else:
            budget = TOKEN_BUDGET if max_tokens is None else max_tokens
            batches = window_batches(windows, budget, batch_size)
            rows = run_batches(self.forward, windows, batches, self.parallel_batches)
        outputs = {name: [row[name] for row in rows] for name in output_names(self.heads)}
        return Inference(list(texts), windows, outputs)

    def decode(
        self,
        inference: Inference,
        token_threshold: float | None = None,
        decoding: Decoding | None = None,
    ) -> list[TaggedText]:
        """Spans and sentence scores from network outputs (cheap: decoding can be tuned
        without running the network again). ``decoding`` defaults to the model's own; a
        ``token_threshold`` given here replaces its thresholds. Each span gets the TC
        head's opinion when the model has one."""
        decoding = self.decoding if decoding is None else decoding
        thresholds, costs, weights = decoding.arrays(self.labels, self.config.token_threshold)
        if token_threshold is not None:
            thresholds[:] = token_threshold
        results = [TaggedText(np.zeros(len(self.labels)), []) for _ in range(inference.n_texts)]
        found: dict[int, list[FoundSpan]] = {i: [] for i in range(inference.n_texts)}
        out, windows = inference.outputs, inference.windows
        sentence = inference.sentence_probs()
        for k, window in enumerate(windows):
            i = window["text_index"]
            if sentence is not None:
                results[i].sentence_probs = np.maximum(results[i].sentence_probs, sentence[k])
            if "clickbait_logits" in out:
                p = float(sigmoid(out["clickbait_logits"][k][0]))
                results[i].clickbait = p if results[i].clickbait is None else max(results[i].clickbait, p)
        if "token_logits" in out and windows:  # every window at once: one padded array
            offsets, probs = inference.token_arrays()
            if sentence is not None:
                probs = fuse_sentence(probs, sentence[:, None, :], weights)
            decoded = decode_windows(offsets, probs, self.labels, thresholds, costs)
            for window, spans in zip(windows, decoded, strict=True):
                found[window["text_index"]] += spans
        for i, spans in found.items():
            merged = tidy_spans(inference.texts[i], merge_spans(spans), decoding)
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
            key: tuple[str, Context | None] = (
                text,
                None if contexts is None else (contexts[n][0], contexts[n][1]),
            )
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
            contexts=None if contexts is None else [k[1] or ("", "") for k in keys],  # never None here
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

    def sentence_probs(self) -> np.ndarray | None:
        """[windows, labels] sentence-head probabilities; None without a sentence head."""
        if "sentence_logits" not in self.outputs:
            return None
        return np.stack([sigmoid(x) for x in self.outputs["sentence_logits"]])

    def token_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Every window's token offsets [windows, tokens, 2] and token-head probabilities
        [windows, tokens, labels], padded to the longest window (padding has empty offsets,
        so it breaks runs like special tokens do): what ``decode_windows`` reads."""
        offsets = pad_tokens([np.asarray(w["offsets"], dtype=np.int64).reshape(-1, 2) for w in self.windows])
        return offsets, pad_tokens([sigmoid(x) for x in self.outputs["token_logits"]])

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
