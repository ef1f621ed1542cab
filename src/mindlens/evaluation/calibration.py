"""Calibration of predicted probabilities: ECE, reliability table and diagram.

MindLens shows probabilities to readers, so "70 %" should be right about 70 %
of the time; F1 alone does not tell. Inputs are flattened binary events (one
probability and one 0/1 outcome per sentence x technique, say).

Bins are equal-width over [0, 1]; bin ``i`` holds ``i/n <= p < (i+1)/n`` and the
last bin also holds ``p == 1``.

Ours rather than ``sklearn.calibration.calibration_curve``: scikit-learn has no ECE,
its curve drops empty bins and reports no bin counts (the ECE weights and the count
histogram need them), and it puts a probability on a bin edge in the lower bin
(``p = 0.1`` in bin 0), where this module puts it in the upper one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


def _validate(probs: ArrayLike, outcomes: ArrayLike, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float).ravel()
    y = np.asarray(outcomes, dtype=float).ravel()
    if p.shape != y.shape:
        raise ValueError(f"probs and outcomes differ in size: {p.size} vs {y.size}")
    if p.size == 0:
        raise ValueError("no probabilities given")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probabilities must lie in [0, 1]")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0 or 1")
    return p, y


def _bin_index(p: np.ndarray, n_bins: int) -> np.ndarray:
    return np.minimum((p * n_bins).astype(int), n_bins - 1)


def reliability_table(probs: ArrayLike, outcomes: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """One row per bin: bounds, count, mean confidence and observed accuracy (NaN if empty)."""
    p, y = _validate(probs, outcomes, n_bins)
    idx = _bin_index(p, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=p, minlength=n_bins)
    pos_sum = np.bincount(idx, weights=y, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
        accuracy = np.where(count > 0, pos_sum / count, np.nan)
    edges = np.arange(n_bins + 1) / n_bins
    return pd.DataFrame(
        {
            "bin_lower": edges[:-1],
            "bin_upper": edges[1:],
            "count": count.astype(int),
            "mean_confidence": mean_conf,
            "accuracy": accuracy,
        }
    )


def expected_calibration_error(probs: ArrayLike, outcomes: ArrayLike, n_bins: int = 10) -> float:
    """ECE = sum over bins of (bin size / N) * |accuracy - mean confidence|."""
    table = reliability_table(probs, outcomes, n_bins)
    filled = table[table["count"] > 0]
    weights = filled["count"] / filled["count"].sum()
    return float((weights * (filled["accuracy"] - filled["mean_confidence"]).abs()).sum())


def reliability_diagram(
    probs: ArrayLike, outcomes: ArrayLike, path: Path, n_bins: int = 10, title: str = ""
) -> Path:
    """Save a reliability diagram PNG (accuracy bars, diagonal, counts below); returns path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = reliability_table(probs, outcomes, n_bins)
    ece = expected_calibration_error(probs, outcomes, n_bins)
    width = 1.0 / n_bins
    centers = (table["bin_lower"] + table["bin_upper"]) / 2

    # Figure + Agg canvas rather than pyplot: no global backend state, thread-safe.
    fig = Figure(figsize=(5, 6))
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    filled = table["count"] > 0  # an empty bin has no accuracy; leave it blank, not at 0
    top.bar(
        centers[filled],
        table["accuracy"][filled],
        width=width,
        edgecolor="black",
        alpha=0.8,
        label="observed frequency",
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("observed frequency")
    top.legend(loc="upper left")
    heading = f"{title} (ECE = {ece:.3f})" if title else f"ECE = {ece:.3f}"
    top.set_title(heading)
    bottom.bar(centers, table["count"], width=width, edgecolor="black", color="gray")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("count")
    fig.tight_layout()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path
