"""Cross-validation of a candidate over the protocol's grouped folds: train on each fold's
training part, score its test part with the project's own evaluation, report mean ± sd
(and paired differences between candidates on the same folds). Here rather than in
``protocol`` because it trains models: the splits sit below training, the runner above it."""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.validation.protocol import (
    CV_METRICS,
    FAMILIES,
    PTC,
    TC_PROBE,
    Fold,
    fold_dataset,
    ptc_folds,
)

log = logging.getLogger(__name__)
CV_PREFIX = "cv_"  # MLflow metrics of a candidate's grouped CV: cv_<m> (mean), cv_<m>_sd


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1: folds are a sample of possible splits);
    sd is nan for a single value."""
    array = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if array.size == 0:
        return float("nan"), float("nan")
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else float("nan")


@dataclass
class CVResult:
    """Per-fold metrics of one model and their mean ± sd."""

    name: str
    family: str
    params: dict[str, Any]
    folds: list[dict[str, float]] = field(default_factory=list)  # one row per fold

    @property
    def metrics(self) -> list[str]:
        return [m for m in CV_METRICS if any(m in row for row in self.folds)]

    def summary(self) -> dict[str, tuple[float, float]]:
        return {m: mean_sd([row[m] for row in self.folds if m in row]) for m in self.metrics}

    def as_metrics(self) -> dict[str, float]:
        """Flat MLflow metrics: ``cv_<m>`` (mean over folds) and ``cv_<m>_sd`` (sd over
        folds) for every measured metric, and ``cv_folds``; nan values left out."""
        metrics = {f"{CV_PREFIX}folds": float(len(self.folds))}
        for name, (mean, sd) in self.summary().items():
            metrics |= {f"{CV_PREFIX}{name}": mean, f"{CV_PREFIX}{name}_sd": sd}
        return {k: v for k, v in metrics.items() if math.isfinite(v)}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.folds).assign(name=self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "params": self.params,
            "folds": self.folds,
            "summary": {m: {"mean": v[0], "sd": v[1]} for m, v in self.summary().items()},
        }


def _probe_params(settings: Settings, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The tfidf candidate's model hyper-parameters (``train.baseline``) with ``params`` on
    top; data-source keys are not model parameters."""
    sources = {"sources", "document_sources", "clickbait_sources"}
    given = {k: v for k, v in (params or {}).items() if k not in sources}
    return settings.train.baseline.model_dump(exclude=sources) | given


def tc_probe_predictions(
    manifest: Manifest, fold: Fold, settings: Settings, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The scored fold's gold PTC spans with the TF-IDF span classifier's technique in
    ``predicted``: one logistic regression per technique over the training gold spans'
    text (the tfidf candidate's hyper-parameters unless ``params`` says otherwise), the
    most probable technique per span, as in SemEval's TC task."""
    from mindlens import taxonomy
    from mindlens.models.baseline import TfidfOvrClassifier

    spans = manifest.table("spans")
    spans = spans[spans["source"] == PTC]
    train = spans[spans["document_id"].isin(set(fold.train))]
    test = spans[spans["document_id"].isin(set(fold.test))]
    labels = [t for t in taxonomy.TECHNIQUE_IDS if t in set(train["technique"])]
    model = TfidfOvrClassifier(labels, seed=settings.data.seed, **_probe_params(settings, params))
    model.fit(train["text"].tolist(), [[t] for t in train["technique"]])
    known = test[test["technique"].isin(labels)].reset_index(drop=True)
    probs = model.predict_proba(known["text"].tolist())
    return known.assign(predicted=[labels[j] for j in probs.argmax(axis=1)] if len(known) else [])


def tc_report(predictions: pd.DataFrame, column: str = "predicted") -> dict[str, Any]:
    """``tc_scores`` of a frame of gold spans with one predicted technique each."""
    from mindlens.evaluation.spans import tc_scores

    gold = list(predictions[["document_id", "start", "end", "technique"]].itertuples(index=False, name=None))
    pred = [(d, s, e, t) for (d, s, e, _), t in zip(gold, predictions[column], strict=True)]
    return tc_scores(gold, pred)


def tc_probe_scores(
    manifest: Manifest, fold: Fold, settings: Settings, params: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """TC micro- and macro-F1 of the TF-IDF span classifier on the fold."""
    report = tc_report(tc_probe_predictions(manifest, fold, settings, params))
    return {"tc_micro_f1": report["micro_f1"], "tc_macro_f1": report["macro_f1"]}


def fold_scores(
    family: str,
    params: Mapping[str, Any] | None,
    manifest: Manifest,
    fold: Fold,
    settings: Settings,
    work_dir: Path | None = None,
) -> dict[str, float]:
    """Train ``family`` on the fold's training articles and score its held-out articles."""
    params = dict(params or {})
    if family == TC_PROBE:
        scores = tc_probe_scores(manifest, fold, settings, params)
    elif family == "tfidf":
        # The module's only import from mindlens.training: each fold fits the candidate
        # exactly as `mindlens train` does.
        from mindlens.evaluation.evaluate import evaluate_analyzer
        from mindlens.training.baseline import fit_analyzer

        sources = list(params.get("sources") or settings.train.baseline.sources)
        with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
            dataset = fold_dataset(manifest, fold, Path(tmp), sources)
            analyzer = fit_analyzer(dataset, settings, params)
            metrics = evaluate_analyzer(analyzer, dataset, settings, "val").metrics
        scores = {m: metrics[f"val_{m}"] for m in CV_METRICS if f"val_{m}" in metrics}
    else:
        raise ValueError(
            f"family {family!r} is too slow for k-fold cross-validation here; known: {FAMILIES}. "
            "Train slow models on holdout_dataset() and score its test split once."
        )
    n_spans = manifest.table("spans")["document_id"].isin(set(fold.test)).sum()
    return {"fold": fold.index, "n_articles": len(fold.test), "n_spans": int(n_spans), **scores}


def cross_validate(
    family: str,
    params: Mapping[str, Any] | None,
    manifest: Manifest,
    settings: Settings,
    *,
    folds: Sequence[Fold] | None = None,
    name: str | None = None,
    work_dir: Path | None = None,
    progress: bool = True,
) -> CVResult:
    """k-fold cross-validation of a fast model family over grouped PTC folds (default: the
    protocol's), every labelled article scored exactly once; per-fold metrics from the
    project's evaluation, mean ± sd in :meth:`CVResult.summary`."""
    from tqdm import tqdm

    folds = list(folds) if folds is not None else ptc_folds(manifest, settings)
    result = CVResult(name or family, family, dict(params or {}))
    for fold in tqdm(folds, desc=f"cv {result.name}", unit="fold", disable=not progress):
        started = time.perf_counter()
        result.folds.append(fold_scores(family, params, manifest, fold, settings, work_dir))
        if not progress:  # a task log rather than a terminal
            shown = ", ".join(
                f"{m} {result.folds[-1][m]:.3f}" for m in ("tc_micro_f1", "flc_f1") if m in result.folds[-1]
            )
            log.info(
                "cv %s: fold %d/%d (%d articles) in %.0f s: %s",
                result.name,
                fold.index + 1,
                len(folds),
                len(fold.test),
                time.perf_counter() - started,
                shown,
            )
    return result


def paired_difference(a: CVResult, b: CVResult, metric: str) -> tuple[float, float]:
    """Mean ± sd over folds of ``a - b`` on the same folds: how candidates are compared
    (a fold's difficulty moves both, so the paired sd is far smaller than either sd)."""
    theirs = {row["fold"]: row[metric] for row in b.folds if metric in row}
    return mean_sd([row[metric] - theirs[row["fold"]] for row in a.folds if row["fold"] in theirs])


def cv_table(results: Sequence[CVResult], metrics: Sequence[str] = ("tc_micro_f1", "si_f1", "flc_f1")) -> str:
    """Markdown: one row per model, ``mean ± sd`` per metric (– where not measured)."""
    header = "| model | family | folds | " + " | ".join(metrics) + " |"
    lines = [header, "|" + "---|" * (3 + len(metrics))]
    for result in results:
        summary = result.summary()
        cells = [f"{summary[m][0]:.3f} ± {summary[m][1]:.3f}" if m in summary else "–" for m in metrics]
        lines.append(f"| {result.name} | {result.family} | {len(result.folds)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
