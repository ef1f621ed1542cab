"""The grouped validation protocol on the real PTC training articles."""

import numpy as np
import pytest
from conftest import data_dir, needs_ptc

from mindlens.config import get_settings
from mindlens.data.dataset import build_tables, write_dataset
from mindlens.data.sources import ptc
from mindlens.validation import cross_validation as CV
from mindlens.validation import protocol as P

pytestmark = needs_ptc

# Same story, told by two articles on opposite sides of the legacy split (val, train).
SAME_STORY = [("ptc:999000599", "ptc:999000142"), ("ptc:999001287", "ptc:999001296")]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    settings = get_settings()
    corpus = ptc.load(data_dir())
    tables = build_tables([corpus], settings.data.val_fraction, settings.data.seed)
    return write_dataset(
        tables, tmp_path_factory.mktemp("ptc"), label_spaces={"ptc": list(corpus.label_space)}
    )


@pytest.fixture(scope="module")
def articles(manifest):
    docs = P.labelled_articles(manifest)
    return docs["document_id"].tolist(), P.article_similarity(docs["text"].tolist())


@pytest.fixture(scope="module")
def groups(manifest):
    return P.ptc_groups(manifest, get_settings())


def test_every_labelled_article_is_scored_exactly_once(manifest, groups):
    folds = P.ptc_folds(manifest, get_settings(), groups)
    assert len(groups) == 371
    scored = [d for f in folds for d in f.test]
    assert sorted(scored) == sorted(groups)
    assert folds == P.ptc_folds(manifest, get_settings(), groups)  # deterministic


def test_no_article_pair_above_the_threshold_crosses_folds(manifest, groups, articles):
    ids, similarity = articles
    threshold = get_settings().protocol.similarity_threshold
    at = {d: i for i, d in enumerate(ids)}
    for fold in P.ptc_folds(manifest, get_settings(), groups):
        cross = similarity[np.ix_([at[d] for d in fold.test], [at[d] for d in fold.train])]
        assert cross.max() < threshold


def test_same_story_articles_share_a_group(groups):
    for a, b in SAME_STORY:
        assert groups[a] == groups[b]


def test_groups_are_small_enough_for_balanced_folds(manifest, groups):
    sizes = np.bincount(np.unique(list(groups.values()), return_inverse=True)[1])
    assert sizes.max() <= 0.1 * len(groups)
    weights = P.span_weights(manifest, groups)
    loads = [sum(weights[d] for d in f.test) for f in P.ptc_folds(manifest, get_settings(), groups)]
    assert max(loads) / min(loads) < 1.1


def test_held_out_part_is_grouped_and_disjoint(manifest, groups):
    outer = P.ptc_holdout(manifest, get_settings(), groups)
    inner = P.ptc_inner_split(manifest, get_settings(), outer, groups)
    assert not set(outer.train) & set(outer.test)
    assert not {groups[d] for d in outer.train} & {groups[d] for d in outer.test}
    assert set(inner.train) | set(inner.test) == set(outer.train)
    assert not {groups[d] for d in inner.train} & {groups[d] for d in inner.test}
    assert 0.1 < len(outer.test) / len(groups) < 0.3


def test_grouped_fold_scores_tc_lower_than_the_legacy_split(manifest, groups):
    """The point of the protocol, on one fold of each: the TC probe does worse on articles
    whose stories it never saw than on the random legacy val split."""
    settings = get_settings()
    docs = P.labelled_articles(manifest)
    legacy = P.Fold(
        0,
        tuple(docs.loc[docs["split"] == "train", "document_id"]),
        tuple(docs.loc[docs["split"] == "val", "document_id"]),
    )
    params = {"class_weight": None}
    grouped = CV.tc_probe_scores(manifest, P.ptc_holdout(manifest, settings, groups), settings, params)
    random_split = CV.tc_probe_scores(manifest, legacy, settings, params)
    assert 0.3 < grouped["tc_micro_f1"] < random_split["tc_micro_f1"] < 0.7
