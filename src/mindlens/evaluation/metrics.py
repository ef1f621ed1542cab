"""Sentence-level multi-label metrics (micro/macro F1, per technique, any-propaganda F1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def indicator(rows: Iterable[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """Multi-hot [rows, labels] bool matrix; ids outside ``labels`` are ignored (a model is
    scored on the techniques it knows)."""
    column = {label: j for j, label in enumerate(labels)}
    rows = list(rows)
    out = np.zeros((len(rows), len(labels)), dtype=bool)
    for i, row in enumerate(rows):
        for label in row:
            if label in column:
                out[i, column[label]] = True
    return out


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def multilabel_report(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Micro and macro P/R/F1, per-label P/R/F1/support, and the binary
    "any technique" F1 (NLP4IF-2019 sentence-level style)."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if y_true.shape != y_pred.shape or y_true.shape[1] != len(labels):
        raise ValueError(f"shape mismatch: {y_true.shape} vs {y_pred.shape} for {len(labels)} labels")
    tp = (y_true & y_pred).sum(axis=0)
    fp = (~y_true & y_pred).sum(axis=0)
    fn = (y_true & ~y_pred).sum(axis=0)
    per_label = {}
    for j, label in enumerate(labels):
        p, r, f = _prf(tp[j], fp[j], fn[j])
        per_label[label] = {"precision": p, "recall": r, "f1": f, "support": int(y_true[:, j].sum())}
    micro_p, micro_r, micro_f = _prf(tp.sum(), fp.sum(), fn.sum())
    present = [label for label in labels if per_label[label]["support"] > 0]
    macro_f = float(np.mean([per_label[label]["f1"] for label in present])) if present else 0.0
    any_true, any_pred = y_true.any(axis=1), y_pred.any(axis=1)
    _, _, any_f = _prf(
        (any_true & any_pred).sum(), (~any_true & any_pred).sum(), (any_true & ~any_pred).sum()
    )
    return {
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "micro_f1": micro_f,
        "macro_f1": macro_f,
        "propaganda_f1": any_f,
        "n_sentences": int(len(y_true)),
        "per_label": per_label,
    }
