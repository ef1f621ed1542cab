"""Fine-tune the shared-encoder tagger: one network class, the family picks its heads.

The family (``mindlens.families``) decides the heads and the validation metric
training early-stops on; the best epoch is checkpointed, then the thresholds are tuned
on validation. Clickbait batches of headlines are interleaved with sentence batches.
Encoder and heads have their own learning rates, both on one linear warmup / linear
decay schedule. With ``distill`` in the config, a teacher's soft targets on unlabelled texts
add batches of their own (``training.distill``); validation and early stopping stay gold.
No MLflow here: ``mindlens.training.run`` logs a run around this, and a
borrowed GPU machine calls it through ``python -m mindlens.training``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from mindlens import taxonomy
from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.predictions import sentence_contexts, span_sentences
from mindlens.models.tagger_config import output_names
from mindlens.models.torch_tagger import TorchTagger
from mindlens.training.distill import collate_soft, load_soft_examples
from mindlens.training.examples import (
    clickbait_headlines,
    collate,
    encode_headlines,
    encode_sentences,
    length_batches,
    spans_by_document,
)
from mindlens.training.losses import SoftTargetLoss, batch_loss, criteria
from mindlens.training.train_config import TaggerTrainConfig
from mindlens.training.validation import evaluate_heads, tune_thresholds

log = logging.getLogger(__name__)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def resolve_device(name: str) -> torch.device:
    """The torch device for ``auto|cpu|cuda``; asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but torch sees no CUDA GPU (use --device auto or cpu)")
    return torch.device(name)


def linear_schedule(optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float) -> Any:
    """Learning rates rise linearly from 0 over the first ``warmup_fraction`` of the steps
    (at least one step), then fall linearly to 0 at the last step (Hugging Face's)."""
    from transformers import get_linear_schedule_with_warmup

    warmup = max(1, int(total_steps * warmup_fraction))
    return get_linear_schedule_with_warmup(optimizer, warmup, total_steps)


def training_data(
    settings: Settings, manifest: Manifest, config: TaggerTrainConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Train and val sentences (val always from the configured PTC sources), seeded samples
    of them when asked, and train/val headlines for the clickbait head."""
    sources = config.sources or settings.train.baseline.sources
    train = span_sentences(manifest, sources, "train")
    val = span_sentences(manifest, settings.train.baseline.sources, "val")  # always scored on PTC val
    if config.max_train_sentences:  # sample the main sources; added ones (curated) stay whole
        main = train["source"].isin(settings.train.baseline.sources)
        sampled = train[main].sample(
            n=min(int(main.sum()), config.max_train_sentences), random_state=config.seed
        )
        train = pd.concat([sampled, train[~main]], ignore_index=True)
    if config.max_val_sentences:
        val = val.sample(n=min(len(val), config.max_val_sentences), random_state=config.seed)
    if _needs_sentences(config.heads) and (train.empty or val.empty):
        raise ValueError(f"no span-labelled train/val sentences from {sources}")
    headlines = {"train": pd.DataFrame(), "val": pd.DataFrame()}
    if "clickbait" in config.heads:
        headlines = {
            "train": clickbait_headlines(
                manifest, settings, "train", config.max_clickbait_headlines, config.seed
            ),
            "val": clickbait_headlines(manifest, settings, "val", config.max_val_sentences, config.seed),
        }
        if headlines["train"]["clickbait"].nunique() < 2 or headlines["val"].empty:
            raise ValueError(
                f"the clickbait head needs train and val headlines of both classes from "
                f"{settings.train.baseline.clickbait_sources} (are they in the dataset?)"
            )
    return train, val, headlines


def _needs_sentences(heads: list[str]) -> bool:
    return any(h in heads for h in ("token", "sentence", "tc"))


def _examples(
    tagger: TorchTagger,
    manifest: Manifest,
    config: TaggerTrainConfig,
    train: pd.DataFrame,
    headlines: pd.DataFrame,
) -> tuple[list[dict[str, Any]], int]:
    """Sentence examples first, then headline examples; and how many are sentences."""
    examples: list[dict[str, Any]] = []
    if _needs_sentences(config.heads):
        train = train.reset_index(drop=True)
        contexts = sentence_contexts(manifest, train) if config.context_sentences else None
        examples = encode_sentences(tagger, train, spans_by_document(manifest), tagger.labels, contexts)
        if config.heads == ["tc"]:  # TC alone learns only from sentences holding a gold span
            examples = [ex for ex in examples if ex["tc"]]
    text_examples = len(examples)
    if "clickbait" in config.heads:
        examples += encode_headlines(tagger, headlines)
    if not examples:
        raise ValueError(f"no training examples for the {config.family} family")
    return examples, text_examples


def _optimizer(network: Any, config: TaggerTrainConfig) -> torch.optim.Optimizer:
    """AdamW with the encoder's and the heads' learning rates."""
    head_params = [p for name, p in network.named_parameters() if not name.startswith("encoder.")]
    return torch.optim.AdamW(
        [
            {"params": network.encoder.parameters(), "lr": config.learning_rate},
            {"params": head_params, "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )


def train_tagger(
    settings: Settings, manifest: Manifest, config: TaggerTrainConfig, out_dir: Path, *, on_epoch: Any = None
) -> tuple[TorchTagger, dict[str, float]]:
    """Train the family's heads, early-stop on its validation metric, restore the best
    epoch (``out_dir/best``), tune thresholds. ``on_epoch(epoch, metrics)`` sees every
    epoch's validation metrics."""
    wall_started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    autocast = config.bf16 and device.type == "cuda"
    heads = config.heads
    train, val, headlines = training_data(settings, manifest, config)
    seen = {t for labels in train["labels"] for t in labels}
    labels = [t for t in taxonomy.TECHNIQUE_IDS if t in seen] or ["loaded_language"]  # clickbait-only data
    tagger = TorchTagger.from_backbone(
        config.backbone,
        labels,
        max_length=config.max_length,
        heads=heads,
        context_sentences=config.context_sentences,
    )
    examples, text_examples = _examples(tagger, manifest, config, train, headlines["train"])
    losses = criteria(
        heads, examples[:text_examples], headlines["train"], len(labels), config.max_pos_weight, device
    )
    gold_examples = len(examples)
    if config.distill is not None:  # soft batches of their own; the gold ones stay as they are
        examples += load_soft_examples(tagger, config.distill, config.seed)
        losses["distill"] = SoftTargetLoss(config.distill.alpha, config.distill.temperature)
    network = tagger.network.to(device)
    optimizer = _optimizer(network, config)
    rng = random.Random(config.seed)
    kinds = [
        range(0, text_examples),
        range(text_examples, gold_examples),
        range(gold_examples, len(examples)),
    ]
    steps_per_epoch = sum(math.ceil(len(k) / config.batch_size) for k in kinds)
    scheduler = linear_schedule(optimizer, steps_per_epoch * config.epochs, config.warmup_fraction)
    names = output_names(heads)
    with_types = bool(config.context_sentences)
    log.info(
        "training %s (heads %s) on %s: %d sentence, %d headline and %d soft examples",
        config.family,
        heads,
        device,
        text_examples,
        gold_examples - text_examples,
        len(examples) - gold_examples,
    )

    best_score, best_epoch, stale = -1.0, -1, 0
    history: dict[str, float] = {}
    checkpoint = out_dir / "best"
    for epoch in range(config.epochs):
        network.train()
        started, running, soft_running, soft_steps = time.perf_counter(), 0.0, 0.0, 0
        batches = []  # interleaved: sentence, headline and soft batches in one shuffled order
        for kind in kinds:
            subset = [examples[i] for i in kind]
            batches += [[kind[0] + i for i in ids] for ids in length_batches(subset, config.batch_size, rng)]
        rng.shuffle(batches)
        progress = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch")
        for step, ids in enumerate(progress):
            soft = ids[0] >= gold_examples
            batch = (
                collate_soft(examples, ids, with_types)
                if soft
                else collate(examples, ids, len(labels), with_types)
            )
            batch = {k: v.to(device) for k, v in batch.items()}
            inputs = [batch[name] for name in INPUTS if name in batch]
            with torch.autocast("cuda", dtype=torch.bfloat16) if autocast else contextlib.nullcontext():
                outputs = dict(zip(names, network(*inputs), strict=True))
            loss = batch_loss(outputs, batch, losses)
            if loss is None:  # a TC-only batch without gold spans: nothing to learn
                continue
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss.detach())
            if soft:
                soft_running, soft_steps = soft_running + float(loss.detach()), soft_steps + 1
            progress.set_postfix(loss=f"{running / (step + 1):.4f}")
        metrics = evaluate_heads(tagger, val, manifest, headlines["val"])
        metrics |= {
            "train_loss": running / max(1, len(batches)),
            "epoch_seconds": time.perf_counter() - started,
        }
        if soft_steps:  # the distillation part of train_loss, per soft batch
            metrics["train_distill_loss"] = soft_running / soft_steps
        log.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in metrics.items()})
        if on_epoch is not None:
            on_epoch(epoch, metrics)
        history = metrics
        score = metrics.get(config.early_stopping, 0.0)
        if score > best_score:
            best_score, best_epoch, stale = score, epoch, 0
            tagger.save(checkpoint)
        else:
            stale += 1
            if stale > config.patience:
                log.info("early stop after epoch %d (best epoch %d)", epoch + 1, best_epoch + 1)
                break
    return _finish(checkpoint, device, val, manifest, headlines["val"], best_epoch, history, wall_started)


def _finish(
    checkpoint: Path,
    device: torch.device,
    val: pd.DataFrame,
    manifest: Manifest,
    headlines: pd.DataFrame,
    best_epoch: int,
    history: dict[str, float],
    wall_started: float,
) -> tuple[TorchTagger, dict[str, float]]:
    """The best epoch back from its checkpoint, thresholds tuned, metrics recorded in its
    ``tagger.json`` (the release and its model card report them)."""
    tagger = TorchTagger.load(checkpoint)
    tagger.network.to(device)
    thresholds = tune_thresholds(tagger, val, manifest)
    for key, value in thresholds.items():
        setattr(tagger.config, key, value)
    final = evaluate_heads(tagger, val, manifest, headlines)
    # provenance the release and its model card report (wall time includes validation)
    tagger.config.metrics = final | {
        "best_epoch": best_epoch + 1,
        "train_wall_seconds": time.perf_counter() - wall_started,
    }
    tagger.save(checkpoint)
    tagger.network.cpu()
    return tagger, final | {
        "best_epoch": best_epoch + 1,
        **thresholds,
        "last_train_loss": history.get("train_loss", float("nan")),
    }
