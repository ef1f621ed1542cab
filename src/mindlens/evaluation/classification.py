"""Standard classification metrics, computed by scikit-learn.

- ``multilabel_report``: multi-hot matrices (sentences x techniques): micro P/R/F1,
  per-label P/R/F1/support, macro F1 and the binary "any technique" F1 (NLP4IF-2019
  sentence-level style);
- ``multilabel_micro_macro``: the same from label sets (document-level sources);
- ``binary_report``: yes/no detectors (clickbait): accuracy, P/R/F1, ROC AUC.

Conventions, the same everywhere: a score whose denominator is zero is 0.0
(``zero_division=0``, no warning); macro F1 averages the labels that have gold
support only (scikit-learn's ``average="macro"`` would also count labels absent
from gold, which mostly measures how rare techniques are in a split), and is 0.0
when no label has support. F1 is scikit-learn's ``2tp / (2tp + fp + fn)``, one
rounding from exact.

The SemEval span metrics (SI and FLC with partial credit for character overlap,
TC over gold spans) are task-specific and live in :mod:`mindlens.evaluation.spans`;
calibration (ECE, reliability bins) in :mod:`mindlens.evaluation.calibration`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from mindlens.preprocessing.labels import indicator


def _zero_report(n_rows: int, labels: Sequence[str]) -> dict[str, Any]:
    """No cells to score (no rows or no labels): every score is 0.0."""
    return {
        "micro_precision": 0.0,
        "micro_recall": 0.0,
        "micro_f1": 0.0,
        "macro_f1": 0.0,
        "propaganda_f1": 0.0,
        "n_sentences": n_rows,
        "per_label": {label: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for label in labels},
    }


def multilabel_report(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[str]) -> dict[str, Any]:
    """Micro and macro P/R/F1, per-label P/R/F1/support, and the binary
    "any technique" F1 (NLP4IF-2019 sentence-level style) of two [rows, labels] matrices."""
    y_true = np.asarray(y_true, dtype=bool)
    y_pred = np.asarray(y_pred, dtype=bool)
    if y_true.ndim != 2 or y_true.shape != y_pred.shape or y_true.shape[1] != len(labels):
        raise ValueError(f"shape mismatch: {y_true.shape} vs {y_pred.shape} for {len(labels)} labels")
    if not y_true.size:
        return _zero_report(len(y_true), labels)
    if len(labels) == 1:  # scikit-learn reads a one-column matrix as a binary vector
        args: tuple[np.ndarray, np.ndarray] = (y_true[:, 0], y_pred[:, 0])
        columns: list[bool] | None = [True]
    else:
        args, columns = (y_true, y_pred), None
    precision, recall, f1, support = precision_recall_fscore_support(
        *args, labels=columns, average=None, zero_division=0
    )
    micro_p, micro_r, micro_f, _ = precision_recall_fscore_support(
        *args, labels=columns, average="micro", zero_division=0
    )
    per_label = {
        label: {
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
            "support": int(support[j]),
        }
        for j, label in enumerate(labels)
    }
    present = support > 0
    macro_f = float(np.mean(f1[present])) if present.any() else 0.0
    any_f = f1_score(y_true.any(axis=1), y_pred.any(axis=1), zero_division=0)
    return {
        "micro_precision": float(micro_p),
        "micro_recall": float(micro_r),
        "micro_f1": float(micro_f),
        "macro_f1": macro_f,
        "propaganda_f1": float(any_f),
        "n_sentences": int(len(y_true)),
        "per_label": per_label,
    }


def multilabel_micro_macro(
    y_true_sets: Sequence[set[str]], y_pred_sets: Sequence[set[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Micro/macro F1 and per-label scores from label sets (via ``multilabel_report``).

    A label outside ``labels`` raises rather than being silently dropped.
    """
    if len(y_true_sets) != len(y_pred_sets):
        raise ValueError(f"{len(y_true_sets)} gold rows but {len(y_pred_sets)} predicted rows")
    known = set(labels)
    for side, label_sets in (("gold", y_true_sets), ("predicted", y_pred_sets)):
        for i, label_set in enumerate(label_sets):
            for label in label_set:
                if label not in known:
                    raise ValueError(f"{side} row {i} has label {label!r} not in labels")
    report = multilabel_report(indicator(y_true_sets, labels), indicator(y_pred_sets, labels), labels)
    return {
        "micro_f1": report["micro_f1"],
        "macro_f1": report["macro_f1"],
        "micro_precision": report["micro_precision"],
        "micro_recall": report["micro_recall"],
        "per_label": report["per_label"],
    }


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
