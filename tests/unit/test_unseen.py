"""Protocol figures of a fixed model (validation/unseen.py): the unseen-story val articles,
re-scored from a val evaluation by the project's scorers, with paired article-bootstrap sds."""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path

import pytest
from test_protocol import LOADED, _corpus

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest, build_tables, write_dataset
from mindlens.evaluation.evaluate import Evaluation
from mindlens.evaluation.spans import tc_scores
from mindlens.validation import protocol as P
from mindlens.validation import unseen as U


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Manifest:
    tables = build_tables([_corpus()], 0.25, seed=1)
    return write_dataset(
        tables, tmp_path_factory.mktemp("data"), label_spaces={"ptc": [t for _, t in LOADED]}
    )


def _tc_evaluation(n_articles: int = 12, seed: int = 0) -> tuple[Evaluation, list[str]]:
    """A val evaluation holding only TC: article i gets i % 4 of its 4 spans right."""
    rng = random.Random(seed)
    gold, pred = [], []
    for i in range(n_articles):
        doc = f"ptc:{i:03d}"
        for j in range(4):
            technique = rng.choice(["loaded_language", "name_calling"])
            gold.append((doc, 10 * j, 10 * j + 5, technique))
            wrong = "doubt" if j >= i % 4 else technique
            pred.append((doc, 10 * j, 10 * j + 5, technique if j < i % 4 else wrong))
    return Evaluation("val", {}, scored={"tc": (gold, pred)}), sorted({g[0] for g in gold})


def test_the_unseen_story_articles_are_val_articles_no_training_article_shares_a_story_with(manifest):
    settings = get_settings(protocol={"similarity_threshold": 0.9})
    # ptc:999 re-publishes training article ptc:100: not unseen; the other val articles are
    assert P.unseen_story_articles(manifest, settings) == ("ptc:140", "ptc:150")
    # at 0.25 every val article's topic has a training article: none is unseen
    assert P.unseen_story_articles(manifest, get_settings()) == ()
    assert P.holdout_articles(manifest) == ()  # an ordinary dataset: no labelled PTC test part


def test_held_out_articles_are_the_labelled_test_part_of_a_holdout_dataset(manifest, tmp_path):
    settings = get_settings(protocol={"similarity_threshold": 0.9, "holdout_fraction": 0.25})
    dataset, outer, _ = P.holdout_dataset(manifest, settings, tmp_path)
    assert P.holdout_articles(dataset) == outer.test


def test_point_figures_are_the_scorers_on_the_chosen_articles_and_sds_come_from_the_bootstrap():
    evaluation, docs = _tc_evaluation()
    chosen = docs[:8]
    scores = U.unseen_scores(None, evaluation, chosen, draws=100, seed=0)  # type: ignore[arg-type]
    gold, pred = evaluation.scored["tc"]
    expected = tc_scores([g for g in gold if g[0] in chosen], [p for p in pred if p[0] in chosen])
    assert scores.metrics["unseen_tc_micro_f1"] == pytest.approx(expected["micro_f1"])
    assert scores.metrics["unseen_articles"] == 8
    assert 0.0 < scores.metrics["unseen_tc_micro_f1_sd"] < 0.3
    assert len(scores.draws["unseen_tc_micro_f1"]) == 100
    assert "unseen_tc_micro_f1" in scores.lines()[0] and "±" in scores.lines()[0]
    again = U.unseen_scores(None, evaluation, chosen[::-1], draws=100, seed=0)  # type: ignore[arg-type]
    assert again.draws == scores.draws  # same articles and seed, same draws: they pair up


def test_paired_sd_is_far_smaller_than_either_sd_when_one_model_is_uniformly_better():
    evaluation, docs = _tc_evaluation()
    worse = U.unseen_scores(None, evaluation, docs, draws=200, seed=0)  # type: ignore[arg-type]
    gold, pred = evaluation.scored["tc"]
    # the better model gets one more span right in every article
    better_pred, fixed = [], set()
    for g, p in zip(gold, pred, strict=True):
        if p[3] != g[3] and g[0] not in fixed:
            fixed.add(g[0])
            p = g
        better_pred.append(p)
    better_eval = Evaluation("val", {}, scored={"tc": (gold, better_pred)})
    better = U.unseen_scores(None, better_eval, docs, draws=200, seed=0)  # type: ignore[arg-type]
    paired = U.paired_sds(better.draws, worse.draws)
    assert paired["unseen_tc_micro_f1"] < 0.5 * worse.metrics["unseen_tc_micro_f1_sd"]
    assert U.paired_sds(worse.draws, worse.draws)["unseen_tc_micro_f1"] == 0.0
    assert math.isnan(U.paired_sd([0.1], [0.2]))


def test_only_a_val_evaluation_is_accepted():
    with pytest.raises(ValueError, match="'val' evaluation"):
        U.unseen_scores(None, Evaluation("test", {}), ["ptc:1"], draws=10, seed=0)  # type: ignore[arg-type]


def test_score_unseen_agrees_with_evaluating_the_unseen_articles_alone(manifest):
    from mindlens.evaluation.evaluate import evaluate_analyzer
    from mindlens.training.baseline import fit_analyzer

    settings = get_settings(protocol={"similarity_threshold": 0.9, "bootstrap_draws": 20})
    analyzer = fit_analyzer(manifest, settings, {"min_df": 1})
    scores = U.score_unseen(analyzer, manifest, settings)
    assert scores.articles == ("ptc:140", "ptc:150")
    with tempfile.TemporaryDirectory() as tmp:
        alone = P.split_dataset(manifest, {d: "val" for d in scores.articles}, Path(tmp))
        direct = evaluate_analyzer(analyzer, alone, settings, "val").metrics
    for metric in ("tc_micro_f1", "si_f1", "flc_f1", "micro_f1", "slc_f1"):
        assert scores.metrics[f"unseen_{metric}"] == pytest.approx(direct[f"val_{metric}"]), metric
        assert f"unseen_{metric}_sd" in scores.metrics
