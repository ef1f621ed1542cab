"""Classification reports for binary scores and sets of labels.

``binary_report`` covers yes/no detectors (clickbait, "any propaganda");
``multilabel_micro_macro`` lets callers holding label sets use the one
multi-label implementation in :mod:`mindlens.evaluation.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    accuracy_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from mindlens.evaluation.metrics import multilabel_report


def binary_report(y_true: ArrayLike, scores: ArrayLike, threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, P/R/F1 of ``scores >= threshold``, and ROC AUC of the raw scores.

    ROC AUC is None when ``y_true`` holds one class only (it is undefined then).
    """
    y = np.asarray(y_true).ravel().astype(int)
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true and scores differ in size: {y.size} vs {s.size}")
    if y.size == 0:
        raise ValueError("no examples given")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y_true must be 0 or 1")
    pred = (s >= threshold).astype(int)
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", pos_label=1, zero_division=0)
    auc = float(roc_auc_score(y, s)) if len(np.unique(y)) == 2 else None
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
        "roc_auc": auc,
        "n": int(y.size),
    }


def _indicator(label_sets: Sequence[set[str]], labels: Sequence[str], side: str) -> np.ndarray:
    column = {label: j for j, label in enumerate(labels)}
    matrix = np.zeros((len(label_sets), len(labels)), dtype=bool)
    for i, label_set in enumerate(label_sets):
        for label in label_set:
            if label not in column:
                raise ValueError(f"{side} row {i} has label {label!r} not in labels")
            matrix[i, column[label]] = True
    return matrix


def multilabel_micro_macro(
    y_true_sets: Sequence[set[str]], y_pred_sets: Sequence[set[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Micro/macro F1 and per-label scores from label sets (via ``multilabel_report``).

    A label outside ``labels`` raises rather than being silently dropped.
    """
    if len(y_true_sets) != len(y_pred_sets):
        raise ValueError(f"{len(y_true_sets)} gold rows but {len(y_pred_sets)} predicted rows")
    report = multilabel_report(
        _indicator(y_true_sets, labels, "gold"), _indicator(y_pred_sets, labels, "predicted"), labels
    )
    return {
        "micro_f1": report["micro_f1"],
        "macro_f1": report["macro_f1"],
        "micro_precision": report["micro_precision"],
        "micro_recall": report["micro_recall"],
        "per_label": report["per_label"],
    }
