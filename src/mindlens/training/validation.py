"""Validation of a tagger during and after training: the metrics of every head it has,
and the token and sentence thresholds tuned on validation data.

Works on any tagger (torch or ONNX) through the shared inference: one network pass,
decoded at every threshold of the grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mindlens.data.dataset import Manifest
from mindlens.evaluation.classification import multilabel_report
from mindlens.evaluation.predictions import sentence_contexts, tc_span_items
from mindlens.evaluation.spans import flc_scores, tc_scores
from mindlens.models.tagger import Inference, TaggerBase
from mindlens.preprocessing.labels import indicator

# token/sentence thresholds tried on validation; the served FLC optimum of the GPU-trained
# V1 lay at 0.85, above the old 0.3-0.6 grid
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * i, 2) for i in range(15))  # 0.2 .. 0.9


def evaluate_tagger(
    tagger: TaggerBase,
    frame: pd.DataFrame,
    manifest: Manifest,
    token_threshold: float | None = None,
    sentence_threshold: float | None = None,
    inference: Inference | None = None,
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


def evaluate_tc(tagger: TaggerBase, frame: pd.DataFrame, manifest: Manifest) -> dict[str, float]:
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


def evaluate_clickbait(tagger: TaggerBase, headlines: pd.DataFrame) -> dict[str, float]:
    """Accuracy, F1 (at 0.5) and ROC AUC of the clickbait head on labelled headlines."""
    from mindlens.evaluation.classification import binary_report

    if headlines.empty:
        return {}
    scores = [t.clickbait for t in tagger.tag(headlines["text"].tolist())]
    report = binary_report(headlines["clickbait"].to_numpy(), np.array(scores), threshold=0.5)
    return {f"clickbait_{k}": report[k] for k in ("accuracy", "f1", "roc_auc") if report[k] is not None}


def evaluate_heads(
    tagger: TaggerBase, frame: pd.DataFrame, manifest: Manifest, headlines: pd.DataFrame
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
    tagger: TaggerBase, frame: pd.DataFrame, manifest: Manifest, grid: tuple[float, ...] = THRESHOLD_GRID
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
