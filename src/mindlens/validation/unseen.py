"""Protocol figures for a fixed trained model: its scores on the unseen-story val articles
(``protocol.unseen_story_articles``) with an article-bootstrap sd.

A model already trained on the legacy train split (a registered version, V1, a retrained
challenger) cannot be cross-validated; the legacy val articles whose story it never saw are
the honest part of the val split for it. They are few (a few dozen), so every figure comes
with its article-bootstrap sd, and two models are compared on the *same* draws (paired), so
the sd of their difference is far smaller than either sd. The scores are re-computed from a
val ``Evaluation``'s own predictions by the project's scorers (nothing is predicted twice
and no metric is computed here except mean and sd).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.validation.protocol import unseen_story_articles

if TYPE_CHECKING:
    from mindlens.evaluation.evaluate import Evaluation
    from mindlens.models.analyzer import Analyzer

PREFIX = "unseen_"
SPLIT = "val"  # the legacy split whose unseen-story articles are scored


@dataclass
class UnseenScores:
    """``metrics``: ``unseen_<m>`` (all the articles) and ``unseen_<m>_sd`` (article
    bootstrap), ``unseen_articles``; ``draws``: each metric's value on every bootstrap draw
    (the draws depend only on the articles and the seed, so two models' draws pair up)."""

    articles: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    draws: dict[str, list[float]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Readable lines, ``metric  value ± sd`` (for ``mindlens evaluate``)."""
        names = [m for m in self.metrics if m.startswith(PREFIX) and not m.endswith("_sd")]
        names = [m for m in names if m != f"{PREFIX}articles"]
        return [
            f"  {m:<32} {self.metrics[m]:.4f} ± {self.metrics.get(f'{m}_sd', float('nan')):.4f}"
            for m in names
        ]


def _sentence_scores(frame: pd.DataFrame, analyzer: Analyzer) -> dict[str, float]:
    from mindlens.evaluation.classification import multilabel_report

    if frame.empty:
        return {}
    labels = analyzer.sentence_labels
    report = multilabel_report(
        analyzer.binarize(frame["gold"].tolist()), analyzer.binarize(frame["pred"].tolist()), labels
    )
    return {"micro_f1": report["micro_f1"], "macro_f1": report["macro_f1"], "slc_f1": report["propaganda_f1"]}


def _span_scorers() -> dict[str, tuple[Callable[..., dict[str, Any]], dict[str, str]]]:
    """Per span task: its scorer and which of its keys give which metric."""
    from mindlens.evaluation.spans import flc_scores, si_scores, tc_scores

    return {
        "si": (si_scores, {"f1": "si_f1"}),
        "flc": (flc_scores, {"f1": "flc_f1"}),
        "tc": (tc_scores, {"micro_f1": "tc_micro_f1", "macro_f1": "tc_macro_f1"}),
    }


def _by_article(items: Sequence[tuple[Any, ...]], articles: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for item in items:
        if item[0] in articles:
            grouped[item[0]].append(item[1:])
    return grouped


def _scores(
    draw: Sequence[str],
    sentences: Mapping[str, pd.DataFrame],
    spans: Mapping[str, tuple[dict[str, list[Any]], dict[str, list[Any]]]],
    analyzer: Analyzer,
) -> dict[str, float]:
    """Every metric on one multiset of articles: the i-th article of the draw becomes its
    own document (``i:id``), so an article drawn twice counts twice."""
    parts = [sentences[d] for d in draw if d in sentences]
    scores = _sentence_scores(pd.concat(parts) if parts else pd.DataFrame(), analyzer)
    for task, (scorer, keys) in _span_scorers().items():
        if task not in spans:
            continue
        gold, pred = spans[task]
        renamed = [
            [(f"{i}:{d}", *rest) for i, d in enumerate(draw) for rest in side.get(d, [])]
            for side in (gold, pred)
        ]
        report = scorer(renamed[0], renamed[1])
        scores |= {name: float(report[key]) for key, name in keys.items()}
    return scores


def unseen_scores(
    analyzer: Analyzer, evaluation: Evaluation, articles: Sequence[str], draws: int, seed: int
) -> UnseenScores:
    """The val ``evaluation`` re-scored on ``articles`` only, plus ``draws`` article-
    bootstrap draws (seeded) for the sd and for paired comparisons."""
    if evaluation.split != SPLIT:
        raise ValueError(f"unseen-story figures come from a {SPLIT!r} evaluation, not {evaluation.split!r}")
    articles = tuple(sorted(articles))
    result = UnseenScores(articles, {f"{PREFIX}articles": float(len(articles))})
    chosen = set(articles)
    frame = evaluation.sentences
    sentences = (
        {d: rows for d, rows in frame.groupby("document_id") if d in chosen}
        if frame is not None and len(frame)
        else {}
    )
    spans = {
        task: (_by_article(gold, chosen), _by_article(pred, chosen))
        for task, (gold, pred) in evaluation.scored.items()
    }
    if not articles:
        return result
    point = _scores(articles, sentences, spans, analyzer)
    rng = np.random.default_rng(seed)
    samples = [
        _scores(
            [articles[j] for j in rng.integers(0, len(articles), len(articles))], sentences, spans, analyzer
        )
        for _ in range(draws)
    ]
    for name, value in point.items():
        values = [s.get(name, float("nan")) for s in samples]
        result.metrics[f"{PREFIX}{name}"] = value
        result.metrics[f"{PREFIX}{name}_sd"] = float(np.nanstd(values, ddof=1)) if draws > 1 else float("nan")
        result.draws[f"{PREFIX}{name}"] = values
    return result


def score_unseen(
    analyzer: Analyzer, manifest: Manifest, settings: Settings, evaluation: Evaluation | None = None
) -> UnseenScores:
    """The protocol figures of a fixed model: the unseen-story val articles of ``manifest``
    scored from ``evaluation`` (a val evaluation of the same model and manifest; evaluated
    here when not given)."""
    from mindlens.evaluation.evaluate import evaluate_analyzer

    if evaluation is None:
        evaluation = evaluate_analyzer(analyzer, manifest, settings, SPLIT)
    articles = unseen_story_articles(manifest, settings)
    cfg = settings.protocol
    return unseen_scores(analyzer, evaluation, articles, cfg.bootstrap_draws, cfg.seed)


def paired_sd(a: Sequence[float], b: Sequence[float]) -> float:
    """Sd over paired bootstrap draws of ``a - b`` (nan without two finite pairs)."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    diff = diff[np.isfinite(diff)]
    return float(diff.std(ddof=1)) if diff.size > 1 else float("nan")


def paired_sds(
    candidate: Mapping[str, Sequence[float]], champion: Mapping[str, Sequence[float]]
) -> dict[str, float]:
    """Per metric both models were drawn on, the sd of their paired difference."""
    return {
        m: sd
        for m in sorted(set(candidate) & set(champion))
        if len(candidate[m]) == len(champion[m]) and np.isfinite(sd := paired_sd(candidate[m], champion[m]))
    }
