"""Fine-tune the two-headed transformer tagger on span-labelled sentences.

Token labels come from the character spans (a token is inside a fragment of a
technique if they share a character); sentence labels from the sentence table.
Rare techniques get larger positive weights; training stops early when the
validation FLC F1 stops improving; the best epoch is checkpointed.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from mindlens import taxonomy
from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.metrics import indicator, multilabel_report
from mindlens.evaluation.predictions import span_sentences
from mindlens.evaluation.spans import flc_scores
from mindlens.models.transformer import TorchTagger

log = logging.getLogger(__name__)


@dataclass
class TaggerTrainConfig:
    backbone: str = "minilm"
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    warmup_fraction: float = 0.1
    max_length: int = 128
    patience: int = 1
    max_train_sentences: int | None = None
    max_val_sentences: int | None = None
    seed: int = 13
    max_pos_weight: float = 30.0
    sources: list[str] | None = None  # span-labelled sources to train on (default: config)
    extra: dict[str, Any] = field(default_factory=dict)


def _spans_by_document(manifest: Manifest) -> dict[str, list[tuple[int, int, str]]]:
    spans = manifest.table("spans")
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for doc, start, end, technique in spans[["document_id", "start", "end", "technique"]].itertuples(index=False):
        out[doc].append((start, end, technique))
    return out


def encode_sentences(tokenizer: Any, frame: pd.DataFrame, spans: dict[str, list[tuple[int, int, str]]],
                     labels: list[str], max_length: int) -> list[dict[str, Any]]:
    """Token ids, token labels [tokens, labels] and sentence labels for each sentence."""
    index = {label: j for j, label in enumerate(labels)}
    enc = tokenizer(frame["text"].tolist(), truncation=True, max_length=max_length,
                    return_offsets_mapping=True)
    examples = []
    for i, row in enumerate(frame.itertuples(index=False)):
        offsets = enc["offset_mapping"][i]
        token_labels = np.zeros((len(offsets), len(labels)), dtype=np.float32)
        valid = np.array([end > start for start, end in offsets], dtype=bool)
        for start, end, technique in spans.get(row.document_id, []):
            j = index.get(technique)
            if j is None or end <= row.start or start >= row.end:
                continue
            local_start, local_end = start - row.start, end - row.start
            for k, (ts, te) in enumerate(offsets):
                if te > ts and ts < local_end and local_start < te:
                    token_labels[k, j] = 1.0
        sentence_labels = np.zeros(len(labels), dtype=np.float32)
        for technique in row.labels:
            if technique in index:
                sentence_labels[index[technique]] = 1.0
        examples.append({"input_ids": enc["input_ids"][i], "token_labels": token_labels,
                         "valid": valid, "sentence_labels": sentence_labels})
    return examples


def _batches(examples: list[dict[str, Any]], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches in random order: little padding, still shuffled."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i]["input_ids"]), rng.random()))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(examples: list[dict[str, Any]], ids: list[int]):  # type: ignore[no-untyped-def]
    import torch

    width = max(len(examples[i]["input_ids"]) for i in ids)
    n_labels = examples[ids[0]]["sentence_labels"].shape[0]
    input_ids = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    token_labels = torch.zeros((len(ids), width, n_labels))
    valid = torch.zeros((len(ids), width), dtype=torch.bool)
    sentence_labels = torch.zeros((len(ids), n_labels))
    for row, i in enumerate(ids):
        ex = examples[i]
        n = len(ex["input_ids"])
        input_ids[row, :n] = torch.tensor(ex["input_ids"])
        mask[row, :n] = 1
        token_labels[row, :n] = torch.from_numpy(ex["token_labels"])
        valid[row, :n] = torch.from_numpy(ex["valid"])
        sentence_labels[row] = torch.from_numpy(ex["sentence_labels"])
    return input_ids, mask, token_labels, valid, sentence_labels


def _pos_weight(matrix: np.ndarray, cap: float):  # type: ignore[no-untyped-def]
    """sqrt(negatives / positives) per label, capped: rare techniques count more."""
    import torch

    positives = matrix.sum(axis=0)
    negatives = len(matrix) - positives
    weight = np.sqrt(np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0))
    return torch.tensor(np.clip(weight, 1.0, cap), dtype=torch.float32)


def evaluate_tagger(tagger: TorchTagger | Any, frame: pd.DataFrame, manifest: Manifest,
                    token_threshold: float | None = None, sentence_threshold: float | None = None,
                    inference: Any = None) -> dict[str, float]:
    """Sentence micro-F1 and FLC span F1 of a tagger on sentences of ``frame``
    (``inference``: reuse network outputs from ``tagger.infer``)."""
    labels = tagger.labels
    inference = inference or tagger.infer(frame["text"].tolist())
    tagged = tagger.decode(inference, token_threshold)
    threshold = tagger.config.sentence_threshold if sentence_threshold is None else sentence_threshold
    gold = indicator(frame["labels"], labels).astype(int)
    pred = np.array([t.sentence_probs >= threshold for t in tagged], dtype=int).reshape(len(frame), len(labels))
    report = multilabel_report(gold, pred, labels)
    spans = manifest.table("spans")
    spans = spans[spans["document_id"].isin(set(frame["document_id"])) & spans["technique"].isin(labels)]
    gold_flc = list(spans[["document_id", "technique", "start", "end"]].itertuples(index=False, name=None))
    pred_flc = [(doc, s.technique, base + s.start, base + s.end)
                for doc, base, t in zip(frame["document_id"], frame["start"], tagged) for s in t.spans]
    flc = flc_scores(gold_flc, pred_flc)
    return {"micro_f1": report["micro_f1"], "macro_f1": report["macro_f1"],
            "slc_f1": report["propaganda_f1"], "flc_f1": flc["f1"], "flc_precision": flc["precision"],
            "flc_recall": flc["recall"]}


def tune_thresholds(tagger: TorchTagger, frame: pd.DataFrame, manifest: Manifest,
                    grid: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6)) -> dict[str, float]:
    """Pick the token threshold with the best FLC F1 and the sentence threshold with the
    best micro-F1 on validation data (stored with the model)."""
    inference = tagger.infer(frame["text"].tolist())  # one network pass, decoded per threshold
    best_token = max(grid, key=lambda t: evaluate_tagger(tagger, frame, manifest, token_threshold=t,
                                                         inference=inference)["flc_f1"])
    best_sentence = max(grid, key=lambda t: evaluate_tagger(tagger, frame, manifest,
                                                            token_threshold=best_token,
                                                            sentence_threshold=t,
                                                            inference=inference)["micro_f1"])
    return {"token_threshold": best_token, "sentence_threshold": best_sentence}


def train_tagger(settings: Settings, manifest: Manifest, config: TaggerTrainConfig,
                 out_dir: Path, *, on_epoch: Any = None) -> tuple[TorchTagger, dict[str, float]]:
    """Train, early-stop on validation FLC F1, restore the best epoch, tune thresholds."""
    import torch

    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    sources = config.sources or settings.train.baseline.sources
    train = span_sentences(manifest, sources, "train")
    val = span_sentences(manifest, settings.train.baseline.sources, "val")  # always scored on PTC val
    if config.max_train_sentences:  # sample the main sources; added ones (curated) stay whole
        main = train["source"].isin(settings.train.baseline.sources)
        sampled = train[main].sample(n=min(int(main.sum()), config.max_train_sentences),
                                     random_state=config.seed)
        train = pd.concat([sampled, train[~main]], ignore_index=True)
    if config.max_val_sentences:
        val = val.sample(n=min(len(val), config.max_val_sentences), random_state=config.seed)
    if train.empty or val.empty:
        raise ValueError(f"no span-labelled train/val sentences from {sources}")
    seen = {t for labels in train["labels"] for t in labels}
    labels = [t for t in taxonomy.TECHNIQUE_IDS if t in seen]
    tagger = TorchTagger.from_backbone(config.backbone, labels, max_length=config.max_length)
    spans = _spans_by_document(manifest)
    examples = encode_sentences(tagger.tokenizer, train.reset_index(drop=True), spans, labels, config.max_length)
    token_matrix = np.concatenate([ex["token_labels"][ex["valid"]] for ex in examples])
    token_weight = _pos_weight(token_matrix, config.max_pos_weight)
    sentence_weight = _pos_weight(np.stack([ex["sentence_labels"] for ex in examples]), config.max_pos_weight)

    network = tagger.network
    head_params = list(network.token_head.parameters()) + list(network.sentence_head.parameters())
    optimizer = torch.optim.AdamW([
        {"params": network.encoder.parameters(), "lr": config.learning_rate},
        {"params": head_params, "lr": config.head_learning_rate},
    ], weight_decay=0.01)
    rng = random.Random(config.seed)
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total = steps_per_epoch * config.epochs
    warmup = max(1, int(total * config.warmup_fraction))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))))
    token_loss = torch.nn.BCEWithLogitsLoss(pos_weight=token_weight, reduction="none")
    sentence_loss = torch.nn.BCEWithLogitsLoss(pos_weight=sentence_weight)

    best_score, best_epoch, stale = -1.0, -1, 0
    history: dict[str, float] = {}
    checkpoint = out_dir / "best"
    for epoch in range(config.epochs):
        network.train()
        started, running = time.perf_counter(), 0.0
        batches = _batches(examples, config.batch_size, rng)
        progress = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch")
        for step, ids in enumerate(progress):
            input_ids, mask, token_labels, valid, sentence_labels = _collate(examples, ids)
            token_logits, sentence_logits = network(input_ids, mask)
            per_token = token_loss(token_logits, token_labels).mean(dim=-1)
            loss = (per_token * valid).sum() / valid.sum().clamp(min=1) + sentence_loss(sentence_logits, sentence_labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss.detach())
            progress.set_postfix(loss=f"{running / (step + 1):.4f}")
        metrics = {f"val_{k}": v for k, v in evaluate_tagger(tagger, val, manifest).items()}
        metrics |= {"train_loss": running / max(1, len(batches)), "epoch_seconds": time.perf_counter() - started}
        log.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in metrics.items()})
        if on_epoch is not None:
            on_epoch(epoch, metrics)
        history = metrics
        if metrics["val_flc_f1"] > best_score:
            best_score, best_epoch, stale = metrics["val_flc_f1"], epoch, 0
            tagger.save(checkpoint)
        else:
            stale += 1
            if stale > config.patience:
                log.info("early stop after epoch %d (best epoch %d)", epoch + 1, best_epoch + 1)
                break
    tagger = TorchTagger.load(checkpoint)
    thresholds = tune_thresholds(tagger, val, manifest)
    tagger.config.token_threshold = thresholds["token_threshold"]
    tagger.config.sentence_threshold = thresholds["sentence_threshold"]
    final = {f"val_{k}": v for k, v in evaluate_tagger(tagger, val, manifest).items()}
    tagger.config.metrics = final
    tagger.save(checkpoint)
    return tagger, final | {"best_epoch": best_epoch + 1, **thresholds,
                            "last_train_loss": history.get("train_loss", float("nan"))}
