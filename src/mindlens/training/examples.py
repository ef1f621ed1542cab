"""Training examples and batches: what the network sees, built with the tagger's own
windowing so training inputs are exactly the ones inference builds.

Token labels come from the character spans (a token is inside a fragment of a technique
if they share a character); sentence labels from the sentence table; TC targets are the
gold spans inside each sentence; clickbait examples are headlines with a 0/1 label.
Batches hold one kind of example each, bucketed by length (little padding) and shuffled.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.models.decoding import span_tokens
from mindlens.models.windows import Context, pad_windows

if TYPE_CHECKING:
    from mindlens.models.torch_tagger import TorchTagger


def spans_by_document(manifest: Manifest) -> dict[str, list[tuple[int, int, str]]]:
    spans = manifest.table("spans")
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for doc, start, end, technique in spans[["document_id", "start", "end", "technique"]].itertuples(
        index=False
    ):
        out[doc].append((start, end, technique))
    return out


def first_windows(
    tagger: TorchTagger, texts: list[str], contexts: list[Context] | None
) -> list[dict[str, Any]]:
    """The first window of each text (what truncation keeps), from the tagger's own
    windowing, so training sees exactly the inputs inference builds."""
    first: dict[int, dict[str, Any]] = {}
    for window in tagger._windows(texts, contexts):
        first.setdefault(window["text_index"], window)
    return [first[i] for i in range(len(texts))]


def encode_sentences(
    tagger: TorchTagger,
    frame: pd.DataFrame,
    spans: dict[str, list[tuple[int, int, str]]],
    labels: list[str],
    contexts: list[Context] | None = None,
) -> list[dict[str, Any]]:
    """Token ids, token labels [tokens, labels], sentence labels and TC targets (token
    indices of each gold span clipped to the sentence, technique index) per sentence."""
    index = {label: j for j, label in enumerate(labels)}
    windows = first_windows(tagger, frame["text"].tolist(), contexts)
    examples = []
    for window, row in zip(windows, frame.itertuples(index=False), strict=False):
        offsets = window["offsets"]
        token_labels = np.zeros((len(offsets), len(labels)), dtype=np.float32)
        valid = np.array([end > start for start, end in offsets], dtype=bool)
        targets: dict[tuple[int, int, int], np.ndarray] = {}
        for start, end, technique in spans.get(row.document_id, []):
            j = index.get(technique)
            if j is None or end <= row.start or start >= row.end:
                continue
            local_start, local_end = max(0, start - row.start), min(row.end, end) - row.start
            tokens = span_tokens(offsets, local_start, local_end)
            token_labels[tokens, j] = 1.0
            if len(tokens):
                targets[(local_start, local_end, j)] = tokens
        sentence_labels = np.zeros(len(labels), dtype=np.float32)
        for technique in row.labels:
            if technique in index:
                sentence_labels[index[technique]] = 1.0
        examples.append(
            {
                "kind": "text",
                "input_ids": window["input_ids"],
                "type_ids": window.get("type_ids"),
                "token_labels": token_labels,
                "valid": valid,
                "sentence_labels": sentence_labels,
                "tc": [(tokens, j) for (_, _, j), tokens in targets.items()],
            }
        )
    return examples


def encode_headlines(tagger: TorchTagger, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Clickbait examples: the headline's first window and its 0/1 label."""
    contexts = [("", "")] * len(frame) if tagger.config.context_sentences else None
    windows = first_windows(tagger, frame["text"].tolist(), contexts)
    return [
        {
            "kind": "clickbait",
            "input_ids": w["input_ids"],
            "type_ids": w.get("type_ids"),
            "clickbait": float(y),
        }
        for w, y in zip(windows, frame["clickbait"], strict=False)
    ]


def clickbait_headlines(
    manifest: Manifest, settings: Settings, split: str, limit: int | None, seed: int
) -> pd.DataFrame:
    """Headlines of the clickbait sources in ``split`` with a 0/1 ``clickbait`` column
    (a seeded sample of ``limit`` when given)."""
    sources = [s for s in settings.train.baseline.clickbait_sources if s in manifest.sources]
    docs = manifest.table("documents")
    docs = docs[docs["source"].isin(sources) & (docs["split"] == split)].reset_index(drop=True)
    positives = set(manifest.table("doc_labels").query("technique == 'clickbait'")["document_id"])
    docs = docs.assign(clickbait=docs["document_id"].isin(positives).astype(int))
    if limit and len(docs) > limit:
        docs = docs.sample(n=limit, random_state=seed).reset_index(drop=True)
    return docs[["document_id", "text", "clickbait"]]


def length_batches(examples: list[dict[str, Any]], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches in random order: little padding, still shuffled."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i]["input_ids"]), rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(
    examples: list[dict[str, Any]], ids: list[int], n_labels: int, with_types: bool
) -> dict[str, Any]:
    """Padded tensors of one batch (all examples of one kind)."""
    import torch

    batch: dict[str, Any] = {
        name: torch.from_numpy(values)  # the same padding as inference
        for name, values in pad_windows([examples[i] for i in ids], with_types).items()
    }
    width = batch["input_ids"].shape[1]
    if examples[ids[0]]["kind"] == "clickbait":
        batch["clickbait"] = torch.tensor([examples[i]["clickbait"] for i in ids], dtype=torch.float32)
        return batch
    batch["token_labels"] = torch.zeros((len(ids), width, n_labels))
    batch["valid"] = torch.zeros((len(ids), width), dtype=torch.bool)
    batch["sentence_labels"] = torch.zeros((len(ids), n_labels))
    rows, masks, targets = [], [], []
    for row, i in enumerate(ids):
        ex = examples[i]
        n = len(ex["input_ids"])
        batch["token_labels"][row, :n] = torch.from_numpy(ex["token_labels"])
        batch["valid"][row, :n] = torch.from_numpy(ex["valid"])
        batch["sentence_labels"][row] = torch.from_numpy(ex["sentence_labels"])
        for tokens, j in ex["tc"]:
            mask = torch.zeros(width)
            mask[torch.from_numpy(tokens)] = 1.0
            rows.append(row)
            masks.append(mask)
            targets.append(j)
    batch["tc_rows"] = torch.tensor(rows, dtype=torch.long)
    batch["tc_masks"] = torch.stack(masks) if masks else torch.zeros((0, width))
    batch["tc_targets"] = torch.tensor(targets, dtype=torch.long)
    return batch
