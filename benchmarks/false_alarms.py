"""False alarms against sentence-level quality: what a higher threshold or per-technique
calibration would buy on the curated hard negatives, and what it would cost on PTC.

For a bundle (default the shipped champion): sentence micro-F1, SLC F1 and ECE on the PTC
``val`` articles in the protocol's story-grouped folds (calibration fitted on the other
folds), and the share of curated hard negatives (test part) with a flagged sentence, at
several thresholds, for the served probabilities and for Platt scaling per technique.
Prints Markdown (the README's "what was tried" quotes it).

    mindlens data prepare && python benchmarks/false_alarms.py [--bundle models/v2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.calibration import expected_calibration_error
from mindlens.evaluation.classification import multilabel_report
from mindlens.evaluation.predictions import span_sentences
from mindlens.models.analyzer import Analyzer
from mindlens.training.release import SHIPPED
from mindlens.validation import protocol

THRESHOLDS = (0.45, 0.5, 0.6, 0.7, 0.8)
EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def fit_platt(probs: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """(slope, intercept) per technique; identity where a technique has under 3 positives."""
    params = []
    for j in range(probs.shape[1]):
        if gold[:, j].sum() < 3 or gold[:, j].all():
            params.append((1.0, 0.0))
            continue
        model = LogisticRegression().fit(logit(probs[:, j])[:, None], gold[:, j])
        params.append((float(model.coef_[0, 0]), float(model.intercept_[0])))
    return np.array(params)


def platt(probs: np.ndarray, params: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(logit(probs) * params[:, 0] + params[:, 1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=SHIPPED)
    args = parser.parse_args()
    settings = get_settings()
    manifest = Manifest.read(settings.processed_dir)
    analyzer = Analyzer.load(args.bundle)
    labels = analyzer.sentence_labels
    ptc = span_sentences(manifest, ["ptc"], "val")
    probs, _ = analyzer.tag_sentences(ptc["text"].tolist(), 0.0)
    gold = analyzer.binarize([list(g) for g in ptc["labels"]])
    groups = protocol.ptc_groups(manifest, settings)
    docs = sorted(set(ptc["document_id"]))
    folds = protocol.grouped_folds({d: groups[d] for d in docs}, settings.protocol.k, settings.protocol.seed)
    calibrated = np.zeros_like(probs)
    for fold in folds:
        test = ptc["document_id"].isin(fold.test).to_numpy()
        calibrated[test] = platt(probs[test], fit_platt(probs[~test], gold[~test]))
    curated = span_sentences(manifest, ["curated"], "test")
    cur_probs, _ = analyzer.tag_sentences(curated["text"].tolist(), 0.0)
    docs_table = manifest.table("documents")
    hard = docs_table[
        (docs_table["source"] == "curated") & (docs_table["split"] == "test") & docs_table["hard_negative"]
    ]["document_id"].tolist()
    cur_calibrated = platt(cur_probs, fit_platt(probs, gold))  # fitted on every val article
    print(
        f"data {manifest.content_hash[:12]}, bundle {args.bundle}, {len(docs)} val articles, {len(hard)} hard negatives\n"
    )
    print(
        "| sentence probabilities | threshold | micro-F1 (mean ± sd over folds) | SLC F1 | ECE | hard negatives flagged |"
    )
    print("|---|---|---|---|---|---|")
    for name, scores, cur in (
        ("as served", probs, cur_probs),
        ("Platt per technique", calibrated, cur_calibrated),
    ):
        for threshold in THRESHOLDS:
            per_fold = []
            for fold in folds:
                test = ptc["document_id"].isin(fold.test).to_numpy()
                report = multilabel_report(gold[test], (scores[test] >= threshold).astype(int), labels)
                ece = expected_calibration_error(scores[test].ravel(), gold[test].ravel())
                per_fold.append((report["micro_f1"], report["propaganda_f1"], ece))
            values = np.array(per_fold)
            flagged = pd.Series(cur.max(axis=1) >= threshold).groupby(curated["document_id"]).any()
            rate = flagged.reindex(hard).fillna(False).mean()
            print(
                f"| {name} | {threshold} | {values[:, 0].mean():.3f} ± {values[:, 0].std(ddof=1):.3f} | "
                f"{values[:, 1].mean():.3f} | {values[:, 2].mean():.3f} | {rate:.1%} |"
            )


if __name__ == "__main__":
    main()
