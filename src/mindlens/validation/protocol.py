"""A validation protocol whose numbers hold on unseen articles.

The ``val`` split (a seeded random 20% of the PTC training articles) flatters
technique classification: PTC articles come in news cycles, several articles
tell the same story, and a model that saw one of them in training meets the
same names, slogans and loaded phrases in validation. Unseen articles (the
official test articles, a later news cycle) share far less with the training
articles. See ``docs/VALIDATION.md`` for the measurements.

This module scores models the way unseen articles would:

* :func:`near_duplicate_groups` links articles whose TF-IDF cosine similarity
  reaches a threshold and takes connected components, so a story and its
  re-tellings always land on the same side of a split;
* :func:`grouped_folds` deals whole groups into k folds (cross-validation for
  models that train in minutes, ``cross_validation.cross_validate`` reports mean and sd);
* :func:`holdout` sets aside a fixed grouped part for slow models, and
  :func:`inner_split` (the same rule inside the training part) gives them a
  validation part for early stopping and thresholds that never touches the
  scored part; :func:`holdout_dataset` writes those three splits as a
  processed dataset the existing training and ``evaluate --split test`` read.

Scores come from the project's own evaluation (``evaluate_analyzer``,
``tc_scores``); nothing here computes a metric of its own except mean and sd.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import TABLES, Manifest, write_dataset

PTC = "ptc"
LABELLED = ("train", "val")  # the PTC articles with gold spans (the legacy split of them)
TC_PROBE = "tfidf-tc"  # a TC-only family: TF-IDF + logistic regression over the gold span texts
FAMILIES = ("tfidf", TC_PROBE)  # the families cheap enough for k-fold cross-validation
# Per-fold metrics kept from evaluate_analyzer (PTC tasks only; latency and the curated
# part say nothing about the fold).
CV_METRICS = (
    "tc_micro_f1",
    "tc_macro_f1",
    "si_f1",
    "flc_f1",
    "micro_f1",
    "macro_f1",
    "slc_f1",
    "ece",
)


# --- article similarity and groups ----------------------------------------------------
def article_similarity(texts: Sequence[str]) -> np.ndarray:
    """Cosine similarity of articles' word TF-IDF vectors (English stop words dropped,
    sublinear counts, words in more than half the articles ignored), so that shared
    names and topic words, not function words, make two articles close."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    if n == 0:
        return np.zeros((0, 0))
    big = n >= 20  # document-frequency cuts only make sense on a real collection
    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        stop_words="english",
        min_df=2 if big else 1,
        max_df=0.5 if big else 1.0,
        strip_accents="unicode",
    )
    try:
        vectors = vectorizer.fit_transform(texts)
    except ValueError:  # no word survives (empty or stop-word-only texts)
        return np.zeros((n, n))
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, 1.0)
    return similarity


def connected_groups(ids: Sequence[str], similarity: np.ndarray, threshold: float) -> dict[str, str]:
    """Connected components of the graph "similarity >= threshold"; each article's group
    is named by the smallest id in it (stable whatever the input order)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if len(ids) != similarity.shape[0]:
        raise ValueError(f"{len(ids)} ids but a {similarity.shape} similarity matrix")
    if not len(ids):
        return {}
    _, component = connected_components(csr_matrix(similarity >= threshold), directed=False)
    names: dict[int, str] = {}
    for doc_id, c in zip(ids, component, strict=True):
        names[c] = min(names.get(c, doc_id), doc_id)
    return {doc_id: names[c] for doc_id, c in zip(ids, component, strict=True)}


def near_duplicate_groups(ids: Sequence[str], texts: Sequence[str], threshold: float) -> dict[str, str]:
    """Group of each article: near duplicates and re-tellings of one story (TF-IDF cosine
    >= ``threshold``, chained) share a group, so no split can put them on both sides."""
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
    if len(set(ids)) != len(ids):
        raise ValueError("document ids must be unique")
    return connected_groups(ids, article_similarity(texts), threshold)


def labelled_articles(manifest: Manifest, source: str = PTC) -> pd.DataFrame:
    """The span-labelled articles of ``source`` (both legacy splits), sorted by id."""
    docs = manifest.table("documents")
    keep = (docs["source"] == source) & docs["split"].isin(LABELLED)
    return docs[keep].sort_values("document_id").reset_index(drop=True)


def ptc_groups(manifest: Manifest, settings: Settings) -> dict[str, str]:
    """Near-duplicate/same-story groups of the labelled PTC articles (protocol threshold)."""
    docs = labelled_articles(manifest)
    return near_duplicate_groups(
        docs["document_id"].tolist(), docs["text"].tolist(), settings.protocol.similarity_threshold
    )


def unseen_story_articles(
    manifest: Manifest, settings: Settings, groups: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The legacy ``val`` PTC articles whose story group holds no legacy ``train`` article
    (sorted ids): the only labelled articles on which a model trained on the legacy train
    split (every fixed model we ship or retrain) meets a story it never saw. The retrain
    gate and ``mindlens evaluate`` score fixed models on them."""
    groups = groups or ptc_groups(manifest, settings)
    docs = labelled_articles(manifest).set_index("document_id")["split"]
    seen = {groups[d] for d, split in docs.items() if split == "train" and d in groups}
    return tuple(sorted(d for d, split in docs.items() if split == "val" and groups.get(d) not in seen))


def holdout_articles(manifest: Manifest, source: str = PTC) -> tuple[str, ...]:
    """The span-labelled ``test`` articles of a ``mindlens protocol holdout`` dataset (the
    grouped held-out part; empty for the ordinary processed dataset, whose PTC test
    articles carry no labels)."""
    docs = manifest.table("documents")
    test = set(docs.loc[(docs["source"] == source) & (docs["split"] == "test"), "document_id"])
    spans = manifest.table("spans")
    return tuple(sorted(test & set(spans["document_id"])))


# --- splits ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Fold:
    """One split of documents: fit on ``train``, score on ``test`` (ids, sorted)."""

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]


def _members(groups: Mapping[str, str]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id, group in sorted(groups.items()):
        members[group].append(doc_id)
    return members


def _shuffled_groups(groups: Mapping[str, str], seed: int) -> list[str]:
    names = sorted(set(groups.values()))
    random.Random(seed).shuffle(names)
    return names


def _group_weight(members: list[str], weights: Mapping[str, float] | None) -> float:
    return float(sum(1.0 if weights is None else weights.get(d, 0.0) for d in members))


def grouped_folds(
    groups: Mapping[str, str], k: int, seed: int, weights: Mapping[str, float] | None = None
) -> list[Fold]:
    """k folds that never split a group. Groups are dealt largest first by size class
    (powers of two of their weight; within a class in ``seed`` order), each to the fold
    with the least weight so far, so folds stay balanced while the seed still varies them.
    ``weights``: per document, e.g. its gold span count; default one per document. Same
    groups and seed, same folds."""
    if k < 2:
        raise ValueError(f"need k >= 2 folds, got {k}")
    members = _members(groups)
    if len(members) < k:
        raise ValueError(f"{len(members)} groups cannot fill {k} folds")
    load = [0.0] * k
    fold_docs: list[list[str]] = [[] for _ in range(k)]
    size_class = {g: math.floor(math.log2(max(_group_weight(m, weights), 1.0))) for g, m in members.items()}
    for group in sorted(_shuffled_groups(groups, seed), key=lambda g: -size_class[g]):
        target = min(range(k), key=lambda i: (load[i], i))
        fold_docs[target].extend(members[group])
        load[target] += _group_weight(members[group], weights)
    every = sorted(groups)
    folds = []
    for i, docs in enumerate(fold_docs):
        test = set(docs)
        folds.append(Fold(i, tuple(d for d in every if d not in test), tuple(sorted(test))))
    return folds


def holdout(
    groups: Mapping[str, str], fraction: float, seed: int, weights: Mapping[str, float] | None = None
) -> Fold:
    """A fixed grouped held-out part of about ``fraction`` of the weight (whole groups, in
    seeded order, each taken while it brings the part closer to its target); the rest is
    for training. Slow models are scored once on ``test`` and tuned only inside ``train``."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    members = _members(groups)
    if len(members) < 2:
        raise ValueError("need at least two groups to hold one out")
    total = sum(_group_weight(m, weights) for m in members.values())
    target, taken, held = fraction * total, 0.0, []
    for group in _shuffled_groups(groups, seed):
        weight = _group_weight(members[group], weights)
        if abs(taken + weight - target) < abs(taken - target):
            held.extend(members[group])
            taken += weight
    if not held or len(held) == len(groups):  # one huge group: take the smallest instead
        smallest = min(members, key=lambda g: (len(members[g]), g))
        held = members[smallest]
    test = set(held)
    return Fold(0, tuple(sorted(d for d in groups if d not in test)), tuple(sorted(test)))


def inner_split(
    fold: Fold,
    groups: Mapping[str, str],
    fraction: float,
    seed: int,
    weights: Mapping[str, float] | None = None,
) -> Fold:
    """The validation part for early stopping and thresholds, carved out of ``fold.train``
    by the same grouped rule (another seed), so tuning never sees ``fold.test``."""
    inside = {d: groups[d] for d in fold.train}
    inner = holdout(inside, fraction, seed + 1, weights)
    return Fold(fold.index, inner.train, inner.test)


def ptc_folds(manifest: Manifest, settings: Settings, groups: Mapping[str, str] | None = None) -> list[Fold]:
    """The protocol's k folds of the labelled PTC articles (balanced by gold span count)."""
    groups = groups or ptc_groups(manifest, settings)
    return grouped_folds(groups, settings.protocol.k, settings.protocol.seed, span_weights(manifest, groups))


def ptc_holdout(manifest: Manifest, settings: Settings, groups: Mapping[str, str] | None = None) -> Fold:
    """The protocol's fixed grouped held-out part of the labelled PTC articles."""
    groups = groups or ptc_groups(manifest, settings)
    return holdout(
        groups, settings.protocol.holdout_fraction, settings.protocol.seed, span_weights(manifest, groups)
    )


def ptc_inner_split(manifest: Manifest, settings: Settings, outer: Fold, groups: Mapping[str, str]) -> Fold:
    """The protocol's inner validation part of ``outer.train`` (early stopping, thresholds)."""
    cfg = settings.protocol
    return inner_split(outer, groups, cfg.inner_fraction, cfg.seed, span_weights(manifest, groups))


def span_weights(manifest: Manifest, documents: Iterable[str]) -> dict[str, float]:
    """Gold technique spans per document (TC is scored per span, so folds balance spans);
    at least one per document so an unlabelled-looking article still counts."""
    counts = manifest.table("spans")["document_id"].value_counts()
    return {d: float(max(1, counts.get(d, 0))) for d in documents}


# --- fold datasets --------------------------------------------------------------------
def split_dataset(
    manifest: Manifest,
    assignment: Mapping[str, str],
    out_dir: Path,
    sources: Sequence[str] = (PTC,),
    source: str = PTC,
) -> Manifest:
    """A processed dataset in ``out_dir`` where the ``source`` documents named in
    ``assignment`` get its split (others of that source are dropped) and the other
    ``sources`` keep theirs; the existing training and evaluation code then runs on it
    unchanged."""
    keep_sources = set(sources) | {source}
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        frame = manifest.table(name)
        frame = frame[frame["source"].isin(keep_sources)]
        mine = frame["source"] == source
        frame = frame[~mine | frame["document_id"].isin(assignment)].copy()
        mine = frame["source"] == source
        frame.loc[mine, "split"] = frame.loc[mine, "document_id"].map(assignment)
        tables[name] = frame.reset_index(drop=True)
    spaces = {s: v for s, v in manifest.label_spaces.items() if s in keep_sources}
    return write_dataset(tables, Path(out_dir), label_spaces=spaces)


def fold_dataset(manifest: Manifest, fold: Fold, out_dir: Path, sources: Sequence[str] = (PTC,)) -> Manifest:
    """The fold as a processed dataset: its training articles in ``train``, its scored
    articles in ``val`` (what ``fit_analyzer`` and ``evaluate_analyzer`` read)."""
    assignment = {d: "train" for d in fold.train} | {d: "val" for d in fold.test}
    return split_dataset(manifest, assignment, out_dir, sources)


def holdout_dataset(manifest: Manifest, settings: Settings, out_dir: Path) -> tuple[Manifest, Fold, Fold]:
    """For slow models: the labelled PTC articles as ``train`` (inner training part),
    ``val`` (inner validation part: early stopping, thresholds) and ``test`` (the grouped
    held-out part, scored once with ``evaluate --split test``); every other source keeps
    its own splits. Returns the dataset, the held-out fold and the inner fold."""
    groups = ptc_groups(manifest, settings)
    outer = ptc_holdout(manifest, settings, groups)
    inner = ptc_inner_split(manifest, settings, outer, groups)
    assignment = {d: "train" for d in inner.train} | {d: "val" for d in inner.test}
    assignment |= {d: "test" for d in outer.test}
    dataset = split_dataset(manifest, assignment, out_dir, sources=manifest.sources)
    return dataset, outer, inner
