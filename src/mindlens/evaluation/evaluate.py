"""Score an analyzer on every task the processed dataset supports, with the field's metrics.

PTC (span-labelled news): sentence-level multi-label and SLC F1, span
identification (SI), technique classification over gold spans (TC) and
fragment-level detection (FLC); SemEval-2021 task 1 and LOGIC: multi-label
micro/macro F1 over each source's own label space; clickbait: accuracy, F1,
ROC-AUC; calibration: expected calibration error of sentence confidences.
A task whose data is absent (a source left out) is skipped, not faked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.calibration import (
    expected_calibration_error,
    reliability_diagram,
)
from mindlens.evaluation.classification import binary_report, multilabel_micro_macro, multilabel_report
from mindlens.evaluation.predictions import (
    document_predictions,
    prob_columns,
    sentence_contexts,
    sentence_predictions,
    span_sentences,
    tc_span_items,
)
from mindlens.evaluation.spans import flc_scores, si_scores, tc_scores
from mindlens.models.analyzer import Analyzer

MAIN_METRICS = (
    "micro_f1",
    "macro_f1",
    "slc_f1",
    "si_f1",
    "tc_micro_f1",
    "flc_f1",
    "semeval2021_micro_f1",
    "semeval2021_macro_f1",
    "logic_micro_f1",
    "logic_macro_f1",
    "clickbait_accuracy",
    "clickbait_f1",
    "clickbait_roc_auc",
    "ece",
    "latency_p95_ms",
)
CURATED_METRICS = (
    "curated_test_micro_f1",
    "curated_test_hard_negative_fp_rate",
    "curated_test_hard_negative_fragment_rate",
)


@dataclass
class Evaluation:
    split: str
    metrics: dict[str, float]  # flat, "<split>_<metric>", for MLflow
    reports: dict[str, Any] = field(default_factory=dict)  # per task, with per-class detail
    sentences: pd.DataFrame | None = None  # sentence predictions (error analysis)
    figures: dict[str, Path] = field(default_factory=dict)
    # (gold, predicted) tuples per span task ("si", "flc", "tc"), exactly what its scorer
    # read: an article bootstrap re-scores resampled articles without predicting again.
    scored: dict[str, tuple[list[Any], list[Any]]] = field(default_factory=dict)


def _ptc_gold(manifest: Manifest, table: str, documents: set[str]) -> pd.DataFrame:
    frame = manifest.table(table)
    return frame[frame["document_id"].isin(documents)]


def _span_tasks(
    analyzer: Analyzer,
    manifest: Manifest,
    sentences: pd.DataFrame,
    scored: dict[str, tuple[list[Any], list[Any]]] | None = None,
) -> dict[str, Any]:
    """SI, FLC and TC on the documents the sentence predictions cover (their scorers'
    gold and predicted tuples go to ``scored`` when given).

    Fragments come from the analyzer (whole sentences for a sentence-level model);
    for TC the span model's TC head classifies each gold span in the sentences holding
    it, else the sentence scorer classifies the span's text.
    """
    documents = set(sentences["document_id"])
    pred_flc = [
        (d, t, s, e)
        for d, found in zip(sentences["document_id"], sentences["fragments"], strict=False)
        for s, e, t, _ in found
    ]
    pred_si = [(d, s, e) for d, _, s, e in pred_flc]
    si_gold = _ptc_gold(manifest, "si_spans", documents)
    spans = _ptc_gold(manifest, "spans", documents)
    reports: dict[str, Any] = {}
    scored = {} if scored is None else scored
    if len(si_gold):
        gold_si = list(si_gold[["document_id", "start", "end"]].itertuples(index=False, name=None))
        reports["si"] = si_scores(gold_si, pred_si)
        scored["si"] = (gold_si, pred_si)
    if len(spans):
        gold_flc = list(
            spans[["document_id", "technique", "start", "end"]].itertuples(index=False, name=None)
        )
        reports["flc"] = flc_scores(gold_flc, pred_flc)
        scored["flc"] = (gold_flc, pred_flc)
        if analyzer.tc_model is not None:  # the TC model that reads the whole article
            texts = manifest.texts()
            labels, _ = analyzer.classify_fragments([])
            known = spans[spans["technique"].isin(labels)]
            fragments = [
                (texts[d], int(s), int(e))
                for d, s, e in known[["document_id", "start", "end"]].itertuples(index=False)
            ]
            _, probs = analyzer.classify_fragments(fragments)
        elif analyzer.has_tc_head:
            if analyzer.span_model is None:  # has_tc_head says there is one
                raise RuntimeError("the analyzer has a TC head but no span model")
            labels = analyzer.span_model.labels
            known = spans[spans["technique"].isin(labels)]
            items, contexts = tc_span_items(manifest, known)
            _, probs = analyzer.classify_spans(items, contexts if analyzer.reads_context else None)
        else:
            labels = analyzer.sentence_labels
            known = spans[spans["technique"].isin(labels)]
            probs, _ = analyzer.tag_sentences(known["text"].tolist())
        predicted = [labels[j] for j in probs.argmax(axis=1)] if len(known) else []
        gold_tc = list(known[["document_id", "start", "end", "technique"]].itertuples(index=False, name=None))
        pred_tc = [(d, s, e, t) for (d, s, e, _), t in zip(gold_tc, predicted, strict=False)]
        reports["tc"] = tc_scores(gold_tc, pred_tc)
        scored["tc"] = (gold_tc, pred_tc)
    return reports


def _document_task(analyzer: Analyzer, manifest: Manifest, source: str, split: str) -> dict[str, Any] | None:
    if source not in manifest.sources:
        return None
    frame = document_predictions(analyzer, manifest, [source], split)
    if frame.empty:
        return None
    labels = manifest.label_spaces.get(source) or sorted({t for g in frame["gold"] for t in g})
    threshold = analyzer.min_confidence
    pred = [{t for t, p in scores.items() if p >= threshold and t in labels} for scores in frame["scores"]]
    return multilabel_micro_macro([set(g) for g in frame["gold"]], pred, labels) | {"n": len(frame)}


def _clickbait_task(analyzer: Analyzer, manifest: Manifest, split: str) -> dict[str, Any] | None:
    if not analyzer.has_clickbait or "clickbait" not in manifest.sources:
        return None
    docs = manifest.table("documents")
    docs = docs[(docs["source"] == "clickbait") & (docs["split"] == split)]
    if docs.empty:
        return None
    positives = set(manifest.table("doc_labels").query("technique == 'clickbait'")["document_id"])
    scores = analyzer.clickbait_scores(docs["text"].tolist())
    if scores is None:  # has_clickbait says there is a clickbait head or model
        raise RuntimeError("the analyzer gave no clickbait scores")
    y_true = docs["document_id"].isin(positives).astype(int).to_numpy()
    return binary_report(y_true, scores, threshold=0.5)


def _curated_task(analyzer: Analyzer, manifest: Manifest) -> dict[str, Any] | None:
    """Our own curated test part (never trained on): sentence micro-F1 and how often the
    analyzer flags a hard negative (text that looks manipulative but is not)."""
    if "curated" not in manifest.sources:
        return None
    sentences = span_sentences(manifest, ["curated"], "test")
    if sentences.empty:
        return None
    threshold = analyzer.min_confidence
    contexts = sentence_contexts(manifest, sentences) if analyzer.reads_context else None
    probs, fragments = analyzer.tag_sentences(sentences["text"].tolist(), threshold, contexts)
    labels = analyzer.sentence_labels
    gold = analyzer.binarize([list(g) for g in sentences["labels"]])
    report = multilabel_report(gold, (probs >= threshold).astype(int), labels)
    flagged = (
        pd.Series((probs >= threshold).any(axis=1), index=sentences.index)
        .groupby(sentences["document_id"])
        .any()
    )
    with_fragment = (
        pd.Series(
            [any(f.confidence >= threshold for f in found) for found in fragments], index=sentences.index
        )
        .groupby(sentences["document_id"])
        .any()
    )
    docs = manifest.table("documents")
    hard = docs[(docs["source"] == "curated") & (docs["split"] == "test") & docs["hard_negative"]]
    hard_flagged = flagged.reindex(hard["document_id"]).fillna(False)
    hard_fragments = with_fragment.reindex(hard["document_id"]).fillna(False)
    return {
        "micro_f1": report["micro_f1"],
        "macro_f1": report["macro_f1"],
        "hard_negatives": int(len(hard)),
        # a technique on some sentence / a fragment the reader sees (what the tagger marks)
        "hard_negative_fp_rate": float(hard_flagged.mean()) if len(hard) else float("nan"),
        "hard_negative_fragment_rate": float(hard_fragments.mean()) if len(hard) else float("nan"),
    }


def _latency(
    analyzer: Analyzer, manifest: Manifest, sources: list[str], split: str, n: int = 30
) -> dict[str, float] | None:
    """Wall time of a full ``analyze`` per document on a fixed sample (what the API pays)."""
    import time

    docs = manifest.table("documents")
    docs = docs[docs["source"].isin(sources) & (docs["split"] == split)].sort_values("document_id").head(n)
    if docs.empty:
        return None
    timings = []
    for text in docs["text"]:
        started = time.perf_counter()
        analyzer.analyze(text)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "latency_p50_ms": float(np.percentile(timings, 50)),
        "latency_p95_ms": float(np.percentile(timings, 95)),
    }


def evaluate_analyzer(
    analyzer: Analyzer,
    manifest: Manifest,
    settings: Settings,
    split: str = "val",
    figures_dir: Path | None = None,
    documents: Collection[str] | None = None,
) -> Evaluation:
    """Every available task on ``split``; figures (reliability diagram) go to ``figures_dir``.
    With ``documents``, only the span-labelled tasks on those articles (a protocol fold)."""
    result = Evaluation(split=split, metrics={})
    sentences = sentence_predictions(analyzer, manifest, settings, split, documents=documents)
    result.sentences = sentences
    labels = analyzer.sentence_labels
    if len(sentences):
        report = multilabel_report(
            analyzer.binarize(sentences["gold"].tolist()),
            analyzer.binarize(sentences["pred"].tolist()),
            labels,
        )
        result.reports["sentences"] = report
        for key in ("micro_f1", "macro_f1", "micro_precision", "micro_recall"):
            result.metrics[key] = report[key]
        result.metrics["slc_f1"] = report["propaganda_f1"]
        probs = sentences[prob_columns(labels)].to_numpy()
        outcomes = analyzer.binarize(sentences["gold"].tolist())
        result.metrics["ece"] = expected_calibration_error(probs.ravel(), outcomes.ravel())
        if figures_dir is not None:
            result.figures["reliability"] = reliability_diagram(
                probs.ravel(),
                outcomes.ravel(),
                Path(figures_dir) / f"reliability_{split}.png",
                title=f"sentence confidences ({split})",
            )
        spans = _span_tasks(analyzer, manifest, sentences, result.scored)
        result.reports.update(spans)
        for task in ("si", "flc"):
            if task in spans:
                for key in ("precision", "recall", "f1"):
                    result.metrics[f"{task}_{key}"] = spans[task][key]
        if "tc" in spans:
            result.metrics["tc_micro_f1"] = spans["tc"]["micro_f1"]
            result.metrics["tc_macro_f1"] = spans["tc"]["macro_f1"]
    whole = documents is None  # the other sources, latency and the curated part: whole splits only
    for source in ("semeval2021", "logic") if whole else ():
        doc_report = _document_task(analyzer, manifest, source, split)
        if doc_report is not None:
            result.reports[source] = doc_report
            result.metrics[f"{source}_micro_f1"] = doc_report["micro_f1"]
            result.metrics[f"{source}_macro_f1"] = doc_report["macro_f1"]
    clickbait = _clickbait_task(analyzer, manifest, split) if whole else None
    if clickbait is not None:
        result.reports["clickbait"] = clickbait
        for key in ("accuracy", "f1", "roc_auc"):
            if clickbait.get(key) is not None:
                result.metrics[f"clickbait_{key}"] = clickbait[key]
    latency = (
        None
        if split == "train" or not whole
        else _latency(analyzer, manifest, settings.train.baseline.sources, split)
    )
    if latency:
        result.metrics.update(latency)
    result.metrics = {
        f"{split}_{k}": float(v) for k, v in result.metrics.items() if v is not None and np.isfinite(v)
    }
    curated = None if split == "train" or not whole else _curated_task(analyzer, manifest)
    if curated is not None:  # the curated test part, whatever split is evaluated
        result.reports["curated_test"] = curated
        result.metrics.update(
            {
                f"curated_test_{k}": float(v)
                for k, v in curated.items()
                if k != "hard_negatives" and np.isfinite(v)
            }
        )
    return result
