"""Fine-tune the shared-encoder tagger: one network class, a family picks its heads.

- ``span`` (alias ``tagger``): token + sentence heads, early stop on validation FLC F1;
- ``sentence``: sentence head, early stop on sentence micro-F1;
- ``tc``: the TC head on gold PTC spans, early stop on TC micro-F1;
- ``clickbait``: the clickbait head on headlines, early stop on clickbait F1;
- ``multitask``: all four heads in one network, early stop on FLC F1.

Token labels come from the character spans (a token is inside a fragment of a
technique if they share a character); sentence labels from the sentence table; TC
targets are the gold spans inside each sentence (cross-entropy over techniques on the
span's pooled TC logits, in the same forward pass as the other losses); clickbait
batches of headlines are interleaved with sentence batches and only the clickbait loss
applies to them. Rare techniques get larger weights; training stops early when the
family's validation metric stops improving; the best epoch is checkpointed.

Importable with numpy, pandas, pyarrow, torch, transformers, tokenizers, safetensors,
tqdm, pydantic(-settings), PyYAML and scikit-learn only (a borrowed GPU machine);
MLflow logging lives in the notebooks.
"""

from __future__ import annotations

import contextlib
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
from mindlens.evaluation.predictions import sentence_contexts, span_sentences, tc_span_items
from mindlens.evaluation.spans import flc_scores, tc_scores
from mindlens.models.decoding import span_tokens
from mindlens.models.families import FAMILIES, transformer_family
from mindlens.models.torch_tagger import TorchTagger
from mindlens.models.windows import Context, pad_windows

log = logging.getLogger(__name__)

# validation metric each family early-stops on (and keeps the best epoch by)
EARLY_STOPPING = {f.name: f.early_stopping for f in FAMILIES.values() if f.is_transformer}
DEVICES = ("auto", "cpu", "cuda")
# token/sentence thresholds tried on validation; the served FLC optimum of the GPU-trained
# V1 lay at 0.85, above the old 0.3-0.6 grid
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(15))  # 0.2 .. 0.9


@dataclass
class TaggerTrainConfig:
    family: str = "span"
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
    context_sentences: int = 0  # 1: each sentence with its previous and next sentence (text pair)
    max_clickbait_headlines: int | None = None  # seeded sample of training headlines (clickbait head)
    device: str = "auto"  # auto: cuda when available
    bf16: bool = False  # bf16 autocast on cuda (faster; weights and losses stay fp32)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.family = transformer_family(self.family).name
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.context_sentences not in (0, 1):
            raise ValueError(f"context_sentences must be 0 or 1, not {self.context_sentences}")

    @property
    def heads(self) -> list[str]:
        return list(transformer_family(self.family).heads)


def resolve_device(name: str) -> Any:
    """The torch device for ``auto|cpu|cuda``; asking for cuda without one is an error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but torch sees no CUDA GPU (use --device auto or cpu)")
    return torch.device(name)


def _spans_by_document(manifest: Manifest) -> dict[str, list[tuple[int, int, str]]]:
    spans = manifest.table("spans")
    out: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for doc, start, end, technique in spans[["document_id", "start", "end", "technique"]].itertuples(
        index=False
    ):
        out[doc].append((start, end, technique))
    return out


def _first_windows(
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
    windows = _first_windows(tagger, frame["text"].tolist(), contexts)
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
    windows = _first_windows(tagger, frame["text"].tolist(), contexts)
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


def _batches(examples: list[dict[str, Any]], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches in random order: little padding, still shuffled."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i]["input_ids"]), rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(
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


def _pos_weight(matrix: np.ndarray, cap: float):  # type: ignore[no-untyped-def]
    """sqrt(negatives / positives) per label, capped: rare techniques count more."""
    import torch

    positives = matrix.sum(axis=0)
    negatives = len(matrix) - positives
    weight = np.sqrt(np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0))
    return torch.tensor(np.clip(weight, 1.0, cap), dtype=torch.float32)


def _class_weight(targets: list[int], n_labels: int, cap: float):  # type: ignore[no-untyped-def]
    """TC cross-entropy weights: sqrt(most frequent / count) per technique, capped."""
    import torch

    counts = np.bincount(np.asarray(targets, dtype=int), minlength=n_labels).astype(float)
    weight = np.sqrt(np.where(counts > 0, counts.max(initial=1.0) / np.maximum(counts, 1), 1.0))
    return torch.tensor(np.clip(weight, 1.0, cap), dtype=torch.float32)


def pool_tc(tc_token_logits: Any, tc_context_logits: Any, rows: Any, masks: Any) -> Any:
    """TC logits of spans (torch): the mean of the span tokens' logits plus the context
    logits of the span's sentence; the same pooling ``Inference.tc_probs`` does in numpy."""
    per_token = tc_token_logits[rows] * masks.unsqueeze(-1).to(tc_token_logits.dtype)
    return per_token.sum(dim=1) / masks.sum(dim=1, keepdim=True).clamp(min=1.0) + tc_context_logits[rows]


def evaluate_tagger(
    tagger: TorchTagger | Any,
    frame: pd.DataFrame,
    manifest: Manifest,
    token_threshold: float | None = None,
    sentence_threshold: float | None = None,
    inference: Any = None,
) -> dict[str, float]:
    """Sentence micro-F1 (sentence head) and FLC span F1 (token head) of a tagger on
    sentences of ``frame`` (``inference``: reuse network outputs from ``tagger.infer``)."""
    labels = tagger.labels
    if inference is None:
        contexts = sentence_contexts(manifest, frame) if tagger.config.context_sentences else None
        inference = tagger.infer(frame["text"].tolist(), contexts=contexts)
    tagged = tagger.decode(inference, token_threshold)
    out: dict[str, float] = {}
    if tagger.config.has("sentence"):
        threshold = tagger.config.sentence_threshold if sentence_threshold is None else sentence_threshold
        gold = indicator(frame["labels"], labels).astype(int)
        pred = np.array([t.sentence_probs >= threshold for t in tagged], dtype=int).reshape(
            len(frame), len(labels)
        )
        report = multilabel_report(gold, pred, labels)
        out |= {
            "micro_f1": report["micro_f1"],
            "macro_f1": report["macro_f1"],
            "slc_f1": report["propaganda_f1"],
        }
    if tagger.config.has("token"):
        spans = manifest.table("spans")
        spans = spans[spans["document_id"].isin(set(frame["document_id"])) & spans["technique"].isin(labels)]
        gold_flc = list(
            spans[["document_id", "technique", "start", "end"]].itertuples(index=False, name=None)
        )
        pred_flc = [
            (doc, s.technique, base + s.start, base + s.end)
            for doc, base, t in zip(frame["document_id"], frame["start"], tagged, strict=False)
            for s in t.spans
        ]
        flc = flc_scores(gold_flc, pred_flc)
        out |= {"flc_f1": flc["f1"], "flc_precision": flc["precision"], "flc_recall": flc["recall"]}
    return out


def evaluate_tc(tagger: TorchTagger | Any, frame: pd.DataFrame, manifest: Manifest) -> dict[str, float]:
    """TC micro/macro F1 of the TC head on the gold spans of the documents in ``frame``,
    each classified in the sentences holding it (as the evaluation of an analyzer does)."""
    spans = manifest.table("spans")
    spans = spans[
        spans["document_id"].isin(set(frame["document_id"])) & spans["technique"].isin(tagger.labels)
    ]
    if spans.empty:
        return {}
    items, contexts = tc_span_items(manifest, spans)
    probs = tagger.classify_items(items, contexts if tagger.config.context_sentences else None)
    gold = list(spans[["document_id", "start", "end", "technique"]].itertuples(index=False, name=None))
    pred = [(d, s, e, tagger.labels[j]) for (d, s, e, _), j in zip(gold, probs.argmax(axis=1), strict=False)]
    report = tc_scores(gold, pred)
    return {"tc_micro_f1": report["micro_f1"], "tc_macro_f1": report["macro_f1"]}


def evaluate_clickbait(tagger: TorchTagger | Any, headlines: pd.DataFrame) -> dict[str, float]:
    """Accuracy, F1 (at 0.5) and ROC AUC of the clickbait head on labelled headlines."""
    from mindlens.evaluation.classification import binary_report

    if headlines.empty:
        return {}
    scores = [t.clickbait for t in tagger.tag(headlines["text"].tolist())]
    report = binary_report(headlines["clickbait"].to_numpy(), np.array(scores), threshold=0.5)
    return {f"clickbait_{k}": report[k] for k in ("accuracy", "f1", "roc_auc") if report[k] is not None}


def evaluate_heads(
    tagger: TorchTagger | Any, frame: pd.DataFrame, manifest: Manifest, headlines: pd.DataFrame
) -> dict[str, float]:
    """Validation metrics of every trained head, prefixed ``val_``."""
    metrics: dict[str, float] = {}
    if tagger.config.has("token") or tagger.config.has("sentence"):
        contexts = sentence_contexts(manifest, frame) if tagger.config.context_sentences else None
        inference = tagger.infer(frame["text"].tolist(), contexts=contexts)
        metrics |= evaluate_tagger(tagger, frame, manifest, inference=inference)
        if tagger.config.has("token"):
            # FLC at the best token threshold: what serving gets once thresholds are tuned.
            # Early stopping at a fixed 0.5 preferred under-trained epochs (recall-heavy later
            # epochs look worse at 0.5 but better once the threshold moves up).
            metrics["flc_f1_tuned"] = max(
                evaluate_tagger(tagger, frame, manifest, token_threshold=t, inference=inference)["flc_f1"]
                for t in THRESHOLD_GRID
            )
    if tagger.config.has("tc"):
        metrics |= evaluate_tc(tagger, frame, manifest)
    if tagger.config.has("clickbait"):
        metrics |= evaluate_clickbait(tagger, headlines)
    return {f"val_{k}": v for k, v in metrics.items()}


def tune_thresholds(
    tagger: TorchTagger, frame: pd.DataFrame, manifest: Manifest, grid: tuple[float, ...] = THRESHOLD_GRID
) -> dict[str, float]:
    """Pick the token threshold with the best FLC F1 and the sentence threshold with the
    best micro-F1 on validation data (stored with the model); heads the model lacks keep
    their defaults."""
    config = tagger.config
    if not (config.has("token") or config.has("sentence")):
        return {}
    contexts = sentence_contexts(manifest, frame) if config.context_sentences else None
    inference = tagger.infer(frame["text"].tolist(), contexts=contexts)  # one pass, decoded per threshold
    best_token = config.token_threshold
    if config.has("token"):
        best_token = max(
            grid,
            key=lambda t: evaluate_tagger(tagger, frame, manifest, token_threshold=t, inference=inference)[
                "flc_f1"
            ],
        )
    best_sentence = config.sentence_threshold
    if config.has("sentence"):
        best_sentence = max(
            grid,
            key=lambda t: evaluate_tagger(
                tagger, frame, manifest, token_threshold=best_token, sentence_threshold=t, inference=inference
            )["micro_f1"],
        )
    return {"token_threshold": best_token, "sentence_threshold": best_sentence}


def _losses(
    config: TaggerTrainConfig, outputs: dict[str, Any], batch: dict[str, Any], criteria: dict[str, Any]
) -> Any:
    """The sum of the losses that apply to this batch (clickbait batches: clickbait only)."""
    if "clickbait" in batch:
        return criteria["clickbait"](outputs["clickbait_logits"][:, 0].float(), batch["clickbait"])
    loss = None

    def add(term: Any) -> None:
        nonlocal loss
        loss = term if loss is None else loss + term

    if "token_logits" in outputs:
        valid = batch["valid"]
        per_token = criteria["token"](outputs["token_logits"].float(), batch["token_labels"]).mean(dim=-1)
        add((per_token * valid).sum() / valid.sum().clamp(min=1))
    if "sentence_logits" in outputs:
        add(criteria["sentence"](outputs["sentence_logits"].float(), batch["sentence_labels"]))
    if "tc_token_logits" in outputs and len(batch["tc_targets"]):
        logits = pool_tc(
            outputs["tc_token_logits"].float(),
            outputs["tc_context_logits"].float(),
            batch["tc_rows"],
            batch["tc_masks"],
        )
        add(criteria["tc"](logits, batch["tc_targets"]))
    return loss


def train_tagger(
    settings: Settings, manifest: Manifest, config: TaggerTrainConfig, out_dir: Path, *, on_epoch: Any = None
) -> tuple[TorchTagger, dict[str, float]]:
    """Train the family's heads, early-stop on its validation metric, restore the best
    epoch, tune thresholds."""
    import torch

    from mindlens.models.tagger_config import output_names

    wall_started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    autocast = config.bf16 and device.type == "cuda"
    heads = config.heads
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
    needs_sentences = any(h in heads for h in ("token", "sentence", "tc"))
    if needs_sentences and (train.empty or val.empty):
        raise ValueError(f"no span-labelled train/val sentences from {sources}")
    headlines = {"train": pd.DataFrame(), "val": pd.DataFrame()}
    if "clickbait" in heads:
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
    seen = {t for labels in train["labels"] for t in labels}
    labels = [t for t in taxonomy.TECHNIQUE_IDS if t in seen] or ["loaded_language"]  # clickbait-only data
    tagger = TorchTagger.from_backbone(
        config.backbone,
        labels,
        max_length=config.max_length,
        heads=heads,
        context_sentences=config.context_sentences,
    )
    examples: list[dict[str, Any]] = []
    if needs_sentences:
        train = train.reset_index(drop=True)
        contexts = sentence_contexts(manifest, train) if config.context_sentences else None
        examples = encode_sentences(tagger, train, _spans_by_document(manifest), labels, contexts)
        if heads == ["tc"]:  # TC alone learns only from sentences holding a gold span
            examples = [ex for ex in examples if ex["tc"]]
    text_examples = len(examples)
    if "clickbait" in heads:
        examples += encode_headlines(tagger, headlines["train"])
    if not examples:
        raise ValueError(f"no training examples for the {config.family} family")

    criteria: dict[str, Any] = {}
    texts = examples[:text_examples]
    if "token" in heads:
        token_matrix = np.concatenate([ex["token_labels"][ex["valid"]] for ex in texts])
        criteria["token"] = torch.nn.BCEWithLogitsLoss(
            pos_weight=_pos_weight(token_matrix, config.max_pos_weight).to(device), reduction="none"
        )
    if "sentence" in heads:
        criteria["sentence"] = torch.nn.BCEWithLogitsLoss(
            pos_weight=_pos_weight(
                np.stack([ex["sentence_labels"] for ex in texts]), config.max_pos_weight
            ).to(device)
        )
    if "tc" in heads:
        targets = [j for ex in texts for _, j in ex["tc"]]
        criteria["tc"] = torch.nn.CrossEntropyLoss(
            weight=_class_weight(targets, len(labels), config.max_pos_weight).to(device)
        )
    if "clickbait" in heads:
        y = headlines["train"]["clickbait"].to_numpy(dtype=np.float32)[:, None]
        criteria["clickbait"] = torch.nn.BCEWithLogitsLoss(
            pos_weight=_pos_weight(y, config.max_pos_weight).to(device)[0]
        )

    network = tagger.network.to(device)
    head_params = [p for name, p in network.named_parameters() if not name.startswith("encoder.")]
    optimizer = torch.optim.AdamW(
        [
            {"params": network.encoder.parameters(), "lr": config.learning_rate},
            {"params": head_params, "lr": config.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    rng = random.Random(config.seed)
    kinds = [range(0, text_examples), range(text_examples, len(examples))]
    steps_per_epoch = sum(math.ceil(len(k) / config.batch_size) for k in kinds)
    total = steps_per_epoch * config.epochs
    warmup = max(1, int(total * config.warmup_fraction))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    names = output_names(heads)
    with_types = bool(config.context_sentences)
    metric_name = EARLY_STOPPING[config.family]
    log.info(
        "training %s (heads %s) on %s: %d sentence and %d headline examples",
        config.family,
        heads,
        device,
        text_examples,
        len(examples) - text_examples,
    )

    best_score, best_epoch, stale = -1.0, -1, 0
    history: dict[str, float] = {}
    checkpoint = out_dir / "best"
    for epoch in range(config.epochs):
        network.train()
        started, running = time.perf_counter(), 0.0
        batches = []  # interleaved: sentence batches and headline batches in one shuffled order
        for kind in kinds:
            subset = [examples[i] for i in kind]
            batches += [[kind[0] + i for i in ids] for ids in _batches(subset, config.batch_size, rng)]
        rng.shuffle(batches)
        progress = tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch")
        for step, ids in enumerate(progress):
            batch = {k: v.to(device) for k, v in _collate(examples, ids, len(labels), with_types).items()}
            inputs = [
                batch[name] for name in ("input_ids", "attention_mask", "token_type_ids") if name in batch
            ]
            with torch.autocast("cuda", dtype=torch.bfloat16) if autocast else contextlib.nullcontext():
                outputs = dict(zip(names, network(*inputs), strict=True))
            loss = _losses(config, outputs, batch, criteria)
            if loss is None:  # a TC-only batch without gold spans: nothing to learn
                continue
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            running += float(loss.detach())
            progress.set_postfix(loss=f"{running / (step + 1):.4f}")
        metrics = evaluate_heads(tagger, val, manifest, headlines["val"])
        metrics |= {
            "train_loss": running / max(1, len(batches)),
            "epoch_seconds": time.perf_counter() - started,
        }
        log.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in metrics.items()})
        if on_epoch is not None:
            on_epoch(epoch, metrics)
        history = metrics
        if metrics.get(metric_name, 0.0) > best_score:
            best_score, best_epoch, stale = metrics.get(metric_name, 0.0), epoch, 0
            tagger.save(checkpoint)
        else:
            stale += 1
            if stale > config.patience:
                log.info("early stop after epoch %d (best epoch %d)", epoch + 1, best_epoch + 1)
                break
    tagger = TorchTagger.load(checkpoint)
    tagger.network.to(device)
    thresholds = tune_thresholds(tagger, val, manifest)
    for key, value in thresholds.items():
        setattr(tagger.config, key, value)
    final = evaluate_heads(tagger, val, manifest, headlines["val"])
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


def main(argv: list[str] | None = None) -> int:
    """``python -m mindlens.training.transformer``: train without MLflow or notebooks (a
    borrowed GPU machine with only the training dependencies). Writes ``OUT/best`` (the
    PyTorch tagger for ``mindlens registry build-release --tagger``) and
    ``OUT/metrics.json``; ``compact-backbone`` writes a half-precision encoder copy."""
    import argparse
    import dataclasses
    import json
    import sys

    from mindlens.config import get_settings
    from mindlens.data.dataset import MANIFEST
    from mindlens.models.torch_tagger import compact_backbone

    parser = argparse.ArgumentParser(prog="python -m mindlens.training.transformer", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    compact = commands.add_parser("compact-backbone", help="half-precision copy of an encoder + tokenizer")
    compact.add_argument("backbone")
    compact.add_argument("out", type=Path)
    train = commands.add_parser("train", help="train a family; writes OUT/best and OUT/metrics.json")
    train.add_argument("--out", type=Path, required=True)
    train.add_argument("--manifest", type=Path, help="processed dataset manifest (default: the state dir's)")
    train.add_argument("--source", action="append", dest="sources", help="span-labelled source (repeatable)")
    train.add_argument(
        "--half-encoder",
        action="store_true",
        help="store OUT/best's encoder in fp16 (half the bytes to carry back; loads as fp32)",
    )
    train.add_argument(
        "--record-backbone",
        help="backbone name to record in tagger.json (e.g. minilm when --backbone is a carried copy of it)",
    )
    for item in dataclasses.fields(TaggerTrainConfig):
        if item.name in ("sources", "extra"):
            continue
        flag = "--" + item.name.replace("_", "-")
        if item.default is False:
            train.add_argument(flag, action="store_true")
        else:
            kind = {"int | None": int, "int": int, "float": float}.get(str(item.type), str)
            train.add_argument(flag, type=kind, default=item.default)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "compact-backbone":
        print(compact_backbone(args.backbone, args.out))
        return 0
    options = {
        k: v
        for k, v in vars(args).items()
        if k not in ("command", "out", "manifest", "half_encoder", "record_backbone")
    }
    config = TaggerTrainConfig(**options)
    settings = get_settings()
    manifest = Manifest.read(args.manifest or settings.processed_dir / MANIFEST)
    tagger, metrics = train_tagger(settings, manifest, config, args.out)
    if args.half_encoder:
        tagger.network.encoder.half().save_pretrained(args.out / "best" / "encoder")
    if args.record_backbone:
        tagger.config.backbone = args.record_backbone
        tagger.config.save(args.out / "best")
    (args.out / "metrics.json").write_text(json.dumps({k: float(v) for k, v in metrics.items()}, indent=2))
    json.dump({k: round(float(v), 4) for k, v in metrics.items()}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
