"""Texts to network inputs: overlapping token windows with character offsets.

Texts longer than the encoder's window are cut into overlapping windows whose
predictions are merged back. Context models read each sentence as the first segment of
a text pair whose second segment is its neighbours (``Context``); context tokens get
empty offsets so they never carry labels or become spans. Training batches and
inference pad windows the same way (``pad_windows``). Needs numpy and a tokenizer
object only: the Rust ``tokenizers`` one at serving time, never torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mindlens.models.tagger_config import TaggerConfig

Context = tuple[str, str]  # (previous sentence, next sentence)


def neighbours(texts: Sequence[str]) -> list[Context]:
    """(previous, next) for each of consecutive sentences (empty at the edges)."""
    return [
        (texts[i - 1] if i > 0 else "", texts[i + 1] if i + 1 < len(texts) else "") for i in range(len(texts))
    ]


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
