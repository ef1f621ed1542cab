"""Why the random ``val`` split flatters technique classification (TC), measured.

``mindlens protocol analyse`` runs :func:`analyse` on the prepared PTC data and prints a
Markdown report (also written, with a JSON of the numbers and a figure, to ``out_dir``).
It measures each candidate cause on the 371 labelled PTC articles, using the 90
unlabelled official test articles (a later news cycle) as the reference for what an
unseen article looks like:

1. near duplicates and same-story articles across the split (nearest-neighbour TF-IDF
   cosine of scored articles to training articles, vs test articles to training ones);
2. publication batches (article ids are chronological: id distance of nearest neighbours,
   id-blocked folds);
3. shared span text (scored gold spans whose normalised text is a training gold span,
   TC on those vs the rest; train-span phrases found in val vs test articles);
4. topic overlap (TC by how close a scored article's nearest training article is);
5. class mix (Jensen-Shannon distance, re-weighting per-class accuracy);
6. variance (TC over many seeded random and grouped splits, article bootstrap);

then compares protocols (legacy split, random k-fold, id-blocked, grouped k-fold over a
range of thresholds) with a TF-IDF span classifier (the TC probe), the configured TF-IDF
candidates, and optionally a shipped bundle (V1) on the legacy val articles it never saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest, split_documents
from mindlens.validation import cross_validation as CV
from mindlens.validation import protocol as P

if TYPE_CHECKING:
    from mindlens.models.analyzer import Analyzer

# The TC probe: the tfidf candidate's features with no class re-weighting (TC is scored by
# micro-F1, which balanced class weights trade away for rare techniques).
PROBE_PARAMS: dict[str, Any] = {"class_weight": None}
THRESHOLDS = (0.2, 0.25, 0.3, 0.4, 0.5, 0.6)
NN_BINS = (0.0, 0.25, 0.3, 0.4, 0.5, 1.01)  # nearest-training-article similarity bins
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
FAR = 0.3  # every official test article's nearest training article lies below this


@dataclass
class GapReport:
    markdown: str
    numbers: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class _Data:
    """The labelled PTC articles (legacy split), the test articles and their similarity."""

    docs: pd.DataFrame  # labelled articles, sorted by id
    test: pd.DataFrame  # unlabelled official test articles
    sim: np.ndarray  # labelled articles (protocol vectoriser, diagonal 0)
    sim_all: np.ndarray  # labelled then test articles (one vectoriser over all, diagonal 0)
    spans: pd.DataFrame  # gold PTC technique spans of the labelled articles
    groups: dict[str, str]  # protocol groups
    weights: dict[str, float]  # gold spans per article
    legacy: P.Fold  # the shipped split: train -> val

    @property
    def ids(self) -> list[str]:
        return self.docs["document_id"].tolist()

    @property
    def index(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.ids)}


def _load(manifest: Manifest, settings: Settings) -> _Data:
    docs = P.labelled_articles(manifest)
    everything = manifest.table("documents")
    test = everything[(everything["source"] == P.PTC) & (everything["split"] == "unlabelled")]
    test = test.sort_values("document_id").reset_index(drop=True)
    sim = P.article_similarity(docs["text"].tolist())
    sim_all = P.article_similarity(docs["text"].tolist() + test["text"].tolist())
    for matrix in (sim, sim_all):
        np.fill_diagonal(matrix, 0.0)
    spans = manifest.table("spans")
    spans = spans[(spans["source"] == P.PTC) & spans["document_id"].isin(set(docs["document_id"]))]
    groups = P.connected_groups(docs["document_id"].tolist(), sim, settings.protocol.similarity_threshold)
    legacy = P.Fold(
        -1,
        tuple(docs.loc[docs["split"] == "train", "document_id"]),
        tuple(docs.loc[docs["split"] == "val", "document_id"]),
    )
    return _Data(
        docs,
        test,
        sim,
        sim_all,
        spans.reset_index(drop=True),
        groups,
        P.span_weights(manifest, groups),
        legacy,
    )


# --- small helpers --------------------------------------------------------------------
def _f(value: float, digits: int = 3) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _pm(values: Sequence[float]) -> str:
    mean, sd = CV.mean_sd(values)
    return f"{_f(mean)} ± {_f(sd)}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _normalise(text: str) -> str:
    """Lower-case words joined by single spaces (the dataset's near-duplicate fingerprint)."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _bin_labels(edges: Sequence[float]) -> list[str]:
    inner = [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[1:-2], edges[2:-1], strict=True)]
    return [f"< {edges[1]:g}", *inner, f"≥ {edges[-2]:g}"]


def _native(doc_id: str) -> int:
    return int(doc_id.split(":", 1)[1])


def _nn(sim: np.ndarray, rows: Sequence[int], cols: Sequence[int]) -> np.ndarray:
    """Each row article's highest similarity to any column article."""
    if not len(rows) or not len(cols):
        return np.zeros(len(rows))
    return sim[np.ix_(list(rows), list(cols))].max(axis=1)


def _held_out_nn(data: _Data, folds: Sequence[P.Fold]) -> np.ndarray:
    """Nearest training article of every scored article, pooled over folds."""
    at = data.index
    return np.concatenate([_nn(data.sim, [at[d] for d in f.test], [at[d] for d in f.train]) for f in folds])


def _random_folds(data: _Data, k: int, seed: int) -> list[P.Fold]:
    """Article-level k folds (every article its own group), same balancing as the protocol."""
    return P.grouped_folds({d: d for d in data.ids}, k, seed, data.weights)


def _id_blocks(data: _Data, k: int) -> list[P.Fold]:
    """k contiguous blocks of articles ordered by id (ids are chronological)."""
    ordered = sorted(data.ids, key=_native)
    blocks = {d: f"block{i * k // len(ordered)}" for i, d in enumerate(ordered)}
    return sorted(P.grouped_folds(blocks, k, 0), key=lambda f: min(map(_native, f.test)))


def _probe(
    manifest: Manifest, folds: Sequence[P.Fold], settings: Settings, params: Mapping[str, Any]
) -> pd.DataFrame:
    """The TC probe's per-span predictions over folds (column ``fold``)."""
    frames = [CV.tc_probe_predictions(manifest, f, settings, params).assign(fold=f.index) for f in folds]
    return pd.concat(frames, ignore_index=True)


def _micro(predictions: pd.DataFrame, column: str = "predicted") -> float:
    return float(CV.tc_report(predictions, column)["micro_f1"]) if len(predictions) else float("nan")


def _fold_micro(predictions: pd.DataFrame) -> list[float]:
    return [_micro(group) for _, group in predictions.groupby("fold")]


def _mark_seen(predictions: pd.DataFrame, data: _Data, folds: Sequence[P.Fold]) -> pd.DataFrame:
    """``seen``: the span's normalised text is a gold span of the fold's training articles."""
    out = []
    for fold in folds:
        train = data.spans[data.spans["document_id"].isin(set(fold.train))]
        known = set(train["text"].map(_normalise))
        part = predictions[predictions["fold"] == fold.index]
        out.append(part.assign(seen=part["text"].map(_normalise).isin(known)))
    return pd.concat(out, ignore_index=True)


def _phrase_hits(texts: Sequence[str], phrases: set[str]) -> np.ndarray:
    """Distinct training span phrases (two words or more) found in each text, per 1,000 words."""
    out = []
    for text in texts:
        words = _normalise(text)
        padded = f" {words} "
        hits = sum(1 for p in phrases if f" {p} " in padded)
        out.append(1000.0 * hits / max(1, len(words.split())))
    return np.asarray(out)


def _phrases(data: _Data, train_ids: Sequence[str]) -> set[str]:
    spans = data.spans[data.spans["document_id"].isin(set(train_ids))]
    return {p for p in spans["text"].map(_normalise) if len(p.split()) >= 2}


def _class_mix(spans: pd.DataFrame, techniques: Sequence[str]) -> np.ndarray:
    counts = spans["technique"].value_counts()
    vector = np.array([counts.get(t, 0) for t in techniques], dtype=float)
    return vector / vector.sum() if vector.sum() else vector


def _js(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(a, b, base=2))


def _bootstrap(
    predictions: pd.DataFrame, column: str = "predicted", n: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% interval of TC micro-F1 when whole articles are resampled (TC micro-F1 is the
    share of gold spans predicted right when each gets one prediction, see tc_scores)."""
    per = (
        predictions.assign(ok=predictions[column] == predictions["technique"])
        .groupby("document_id")["ok"]
        .agg(["sum", "size"])
    )
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(per), size=(n, len(per)))
    ok, size = per["sum"].to_numpy()[draws].sum(axis=1), per["size"].to_numpy()[draws].sum(axis=1)
    values = ok / size
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


# --- the report ----------------------------------------------------------------------
def analyse(
    manifest: Manifest,
    settings: Settings,
    out_dir: Path,
    *,
    v1: Path | None = None,
    candidates: Sequence[str] = ("tfidf",),
    seeds: int = 20,
    thresholds: Sequence[float] = THRESHOLDS,
    probe_params: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> GapReport:
    """Measure every candidate cause of the gap and compare protocols; see the module doc."""
    from tqdm import tqdm

    probe_params = dict(PROBE_PARAMS if probe_params is None else probe_params)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = settings.protocol
    data = _load(manifest, settings)
    at = data.index
    numbers: dict[str, Any] = {"protocol": cfg.model_dump(), "probe_params": probe_params}
    md: list[str] = [
        "# Validation gap: why the random split flatters TC",
        "",
        f"{len(data.docs)} labelled PTC articles ({len(data.legacy.train)} legacy train, "
        f"{len(data.legacy.test)} legacy val), {len(data.spans)} gold technique spans; "
        f"{len(data.test)} unlabelled official test articles as the reference for unseen ones. "
        f"Protocol: k={cfg.k}, seed={cfg.seed}, similarity threshold {cfg.similarity_threshold}. "
        f"TC probe: TF-IDF + logistic regression over span text, params {probe_params}.",
    ]
    steps = tqdm(total=8 + (1 if v1 else 0), desc="validation gap", unit="step", disable=not progress)

    # 1. near duplicates / same story ---------------------------------------------------
    n_lab = len(data.docs)
    lab_train = [at[d] for d in data.legacy.train]
    lab_val = [at[d] for d in data.legacy.test]
    test_rows = list(range(n_lab, n_lab + len(data.test)))
    folds = P.grouped_folds(data.groups, cfg.k, cfg.seed, data.weights)
    random_folds = _random_folds(data, cfg.k, cfg.seed)
    nn_rows = {
        "legacy val -> legacy train": _nn(data.sim_all, lab_val, lab_train),
        "test -> legacy train": _nn(data.sim_all, test_rows, lab_train),
        "test -> all 371 labelled": _nn(data.sim_all, test_rows, list(range(n_lab))),
        "random 5-fold held-out -> its train": _held_out_nn(data, random_folds),
        f"grouped 5-fold (t={cfg.similarity_threshold}) held-out -> its train": _held_out_nn(data, folds),
    }
    rows = []
    for name, values in nn_rows.items():
        q = np.quantile(values, QUANTILES)
        rows.append(
            [name, len(values)]
            + [_f(v) for v in q]
            + [_f((values >= 0.25).mean(), 2), _f((values >= 0.5).mean(), 2), _f((values >= 0.8).mean(), 2)]
        )
    numbers["nearest_neighbour"] = {
        k: {"quantiles": dict(zip(map(str, QUANTILES), np.quantile(v, QUANTILES).tolist(), strict=True))}
        | {"max": float(v.max()), "share_ge_0.5": float((v >= 0.5).mean())}
        for k, v in nn_rows.items()
    }
    upper = np.triu(data.sim, 1)
    crossing = data.sim[np.ix_(lab_val, lab_train)]
    md += [
        "",
        "## 1. Near duplicates and same-story articles",
        "",
        "Cosine similarity (word TF-IDF, stop words out) of each scored article to its most "
        "similar training article. The test articles are a later news cycle: none has a "
        "training article above "
        f"{_f(nn_rows['test -> all 371 labelled'].max(), 2)}, while most legacy val articles have one "
        "telling a related or the same story.",
        "",
        _table(
            [
                "scored -> training articles",
                "n",
                *[f"q{int(q * 100)}" for q in QUANTILES],
                "≥0.25",
                "≥0.5",
                "≥0.8",
            ],
            rows,
        ),
        "",
        f"Labelled article pairs at ≥0.8 (near-verbatim re-publications): {int((upper >= 0.8).sum())}; "
        f"≥0.5 (same story): {int((upper >= 0.5).sum())}. Across the legacy split, val-train pairs ≥0.5: "
        f"{int((crossing >= 0.5).sum())} (touching {int((crossing >= 0.5).any(axis=1).sum())} of "
        f"{len(lab_val)} val articles). Exact duplicates (text equal up to case and punctuation, "
        f"the data-prepare check): {_exact(data)}.",
    ]
    steps.update()

    # 2. publication batches -----------------------------------------------------------
    native = np.array([_native(d) for d in data.ids])
    nn_index = data.sim.argmax(axis=1)
    gap_nn = np.abs(native - native[nn_index])
    pairs = np.abs(native[:, None] - native[None, :])[np.triu_indices(n_lab, 1)]
    test_native = np.array([_native(d) for d in data.test["document_id"]])
    in_range = ((native >= test_native.min()) & (native <= test_native.max())).mean()
    id_folds = _id_blocks(data, cfg.k)
    id_pred = _probe(manifest, id_folds, settings, probe_params)
    id_nn = _held_out_nn(data, id_folds)
    numbers["batches"] = {
        "median_id_gap_nearest": float(np.median(gap_nn)),
        "median_id_gap_all_pairs": float(np.median(pairs)),
        "test_id_range": [int(test_native.min()), int(test_native.max())],
        "labelled_share_in_test_range": float(in_range),
        "id_blocked_tc": _fold_micro(id_pred),
    }
    md += [
        "",
        "## 2. Publication batches (article ids)",
        "",
        f"Ids are chronological: an article's most similar labelled article is a median "
        f"{np.median(gap_nn):,.0f} ids away, against {np.median(pairs):,.0f} for a random pair. "
        f"The test articles' ids span {test_native.min():,}–{test_native.max():,}; "
        f"{in_range:.1%} of the labelled articles fall in that range, so the test set is a later batch. "
        f"Folds of contiguous id blocks (the nearest thing to scoring a later batch) give TC "
        f"(probe) {_pm(_fold_micro(id_pred))} per block "
        f"({', '.join(_f(v) for v in _fold_micro(id_pred))}), with held-out nearest-neighbour "
        f"similarity median {_f(np.median(id_nn))}. The special batches (ids 111111xxx and "
        f"999xxxxxx, {int(((native < 2 * 10**8) | (native >= 999 * 10**6)).sum())} articles) are topical "
        "clusters of their own.",
    ]
    steps.update()

    # 3. shared span text -----------------------------------------------------------------
    legacy_pred = _mark_seen(_probe(manifest, [data.legacy], settings, probe_params), data, [data.legacy])
    random_pred = _mark_seen(_probe(manifest, random_folds, settings, probe_params), data, random_folds)
    grouped_pred = _mark_seen(_probe(manifest, folds, settings, probe_params), data, folds)
    rows = []
    seen_numbers = {}
    for name, frame in [
        ("legacy val", legacy_pred),
        ("random 5-fold", random_pred),
        (f"grouped 5-fold (t={cfg.similarity_threshold})", grouped_pred),
    ]:
        seen, unseen = frame[frame["seen"]], frame[~frame["seen"]]
        seen_numbers[name] = {
            "seen_share": float(frame["seen"].mean()),
            "tc_seen": _micro(seen),
            "tc_unseen": _micro(unseen),
            "tc_all": _micro(frame),
        }
        rows.append(
            [
                name,
                len(frame),
                f"{frame['seen'].mean():.1%}",
                _f(_micro(seen)),
                _f(_micro(unseen)),
                _f(_micro(frame)),
            ]
        )
    phrase_rows = []
    legacy_phrases = _phrases(data, data.legacy.train)
    hits = {
        "legacy val": _phrase_hits(data.docs.loc[lab_val, "text"].tolist(), legacy_phrases),
        "test articles": _phrase_hits(data.test["text"].tolist(), legacy_phrases),
    }
    grouped_hits = [
        _phrase_hits(data.docs.loc[[at[d] for d in f.test], "text"].tolist(), _phrases(data, f.train))
        for f in folds
    ]
    hits[f"grouped 5-fold (t={cfg.similarity_threshold}) held-out"] = np.concatenate(grouped_hits)
    for name, values in hits.items():
        phrase_rows.append([name, len(values), _f(values.mean(), 2), _f(np.median(values), 2)])
    numbers["shared_spans"] = seen_numbers | {
        "phrase_hits_per_1000_words": {k: float(v.mean()) for k, v in hits.items()}
    }
    md += [
        "",
        "## 3. Shared span text",
        "",
        "A scored gold span is *seen* when its normalised text (lower-case words) is also a gold "
        "span of the training articles. TC of the probe on seen and unseen spans:",
        "",
        _table(["protocol", "spans", "seen", "TC seen", "TC unseen", "TC all"], rows),
        "",
        "Without labels, the same effect on the test articles: distinct legacy-train span phrases "
        "of two or more words found in an article, per 1,000 words:",
        "",
        _table(["articles", "n", "mean", "median"], phrase_rows),
    ]
    steps.update()

    # 4. topic overlap: TC by nearest-training-article similarity ---------------------------
    val_nn = dict(zip(data.legacy.test, _nn(data.sim, lab_val, lab_train), strict=True))
    legacy_pred["nn"] = legacy_pred["document_id"].map(val_nn)
    legacy_pred["bin"] = pd.cut(legacy_pred["nn"], NN_BINS, right=False, labels=_bin_labels(NN_BINS))
    analyzer = None
    if v1 is not None:
        from mindlens.models.analyzer import Analyzer

        analyzer = Analyzer.load(Path(v1))
        legacy_pred["v1"] = _v1_span_predictions(analyzer, manifest, legacy_pred)
    rows = []
    for interval, group in legacy_pred.groupby("bin", observed=True):
        row = [str(interval), group["document_id"].nunique(), len(group), _f(_micro(group))]
        if v1 is not None:
            row.append(_f(_micro(group, "v1")))
        rows.append(row)
    numbers["tc_by_nearest_similarity"] = [
        {
            "bin": str(interval),
            "articles": int(group["document_id"].nunique()),
            "spans": len(group),
            "probe": _micro(group),
            **({"v1": _micro(group, "v1")} if v1 is not None else {}),
        }
        for interval, group in legacy_pred.groupby("bin", observed=True)
    ]
    md += [
        "",
        "## 4. Topic overlap: TC by how close the nearest training article is",
        "",
        "Legacy val spans, binned by their article's highest similarity to a legacy training "
        "article (every test article lies in the first two bins):",
        "",
        _table(
            ["nearest training article", "articles", "spans", "TC probe"] + (["TC V1"] if v1 else []), rows
        ),
    ]
    steps.update()

    # 5. class mix -------------------------------------------------------------------------
    techniques = sorted(data.spans["technique"].unique())
    train_spans = data.spans[data.spans["document_id"].isin(set(data.legacy.train))]
    val_spans = data.spans[data.spans["document_id"].isin(set(data.legacy.test))]
    mix_train, mix_val = _class_mix(train_spans, techniques), _class_mix(val_spans, techniques)
    fold_js = [
        _js(
            _class_mix(data.spans[data.spans["document_id"].isin(set(f.test))], techniques),
            _class_mix(data.spans[data.spans["document_id"].isin(set(f.train))], techniques),
        )
        for f in folds
    ]
    per_class = (
        legacy_pred.assign(ok=legacy_pred["predicted"] == legacy_pred["technique"])
        .groupby("technique")["ok"]
        .mean()
    )
    accuracy = per_class.reindex(techniques).fillna(0).to_numpy()
    reweighted = float(accuracy @ mix_train)
    top = int(np.argmax(mix_train))
    numbers["class_mix"] = {
        "js_val_vs_train": _js(mix_val, mix_train),
        "js_grouped_folds": fold_js,
        f"{techniques[top]}_share": {"train": float(mix_train[top]), "val": float(mix_val[top])},
        "probe_val_tc": _micro(legacy_pred),
        "probe_val_tc_at_train_mix": reweighted,
    }
    md += [
        "",
        "## 5. Class mix",
        "",
        f"Jensen-Shannon distance of the technique mix, legacy val vs train: {_js(mix_val, mix_train):.3f} "
        f"(grouped folds vs their training part: {_pm(fold_js)}). {techniques[top]} is "
        f"{mix_train[top]:.1%} of training spans and {mix_val[top]:.1%} of val spans. Re-weighting the "
        f"probe's per-technique accuracy on val to the training mix moves its TC from "
        f"{_micro(legacy_pred):.3f} to {reweighted:.3f}"
        + (
            f"; V1's from {_micro(legacy_pred, 'v1'):.3f} to "
            f"{_reweight(legacy_pred, 'v1', techniques, mix_train):.3f}"
            if v1 is not None
            else ""
        )
        + ".",
    ]
    steps.update()

    # 6. variance ---------------------------------------------------------------------------
    random_splits, grouped_splits = [], []
    for seed in tqdm(range(seeds), desc="seeded splits", unit="seed", disable=not progress):
        split = split_documents(data.ids, settings.data.val_fraction, seed)
        fold = P.Fold(
            seed,
            tuple(d for d in data.ids if split[d] == "train"),
            tuple(d for d in data.ids if split[d] == "val"),
        )
        random_splits.append(_micro(CV.tc_probe_predictions(manifest, fold, settings, probe_params)))
        held = P.holdout(data.groups, settings.data.val_fraction, seed, data.weights)
        grouped_splits.append(_micro(CV.tc_probe_predictions(manifest, held, settings, probe_params)))
    legacy_tc = _micro(legacy_pred)
    low, high = _bootstrap(legacy_pred)
    numbers["variance"] = {
        "legacy_val_tc": legacy_tc,
        "legacy_val_bootstrap_95": [low, high],
        "random_splits": random_splits,
        "grouped_splits": grouped_splits,
        "legacy_rank_among_random": float((np.array(random_splits) < legacy_tc).mean()),
    }
    md += [
        "",
        "## 6. Variance of a 20% split",
        "",
        f"Probe TC on the legacy val split: {legacy_tc:.3f} (95% article-bootstrap interval "
        f"{low:.3f}–{high:.3f}). Over {seeds} seeded random 80/20 article splits: {_pm(random_splits)} "
        f"(range {min(random_splits):.3f}–{max(random_splits):.3f}); the legacy split beats "
        f"{numbers['variance']['legacy_rank_among_random']:.0%} of them. Over {seeds} seeded grouped "
        f"held-out parts (20%, t={cfg.similarity_threshold}): {_pm(grouped_splits)}.",
    ]
    if v1 is not None:
        v_low, v_high = _bootstrap(legacy_pred, "v1")
        numbers["variance"]["v1_val_bootstrap_95"] = [v_low, v_high]
        md[-1] += f" V1 on the legacy val split: {_micro(legacy_pred, 'v1'):.3f} ({v_low:.3f}–{v_high:.3f})."
    steps.update()

    # 7. protocols --------------------------------------------------------------------------
    rows = [
        ["legacy val (seed-13 random 20%)", 1, "–", _f(legacy_tc), "–"],
        [
            f"random {cfg.k}-fold",
            cfg.k,
            "–",
            _pm(_fold_micro(random_pred)),
            _f(np.median(_held_out_nn(data, random_folds))),
        ],
        [f"id-blocked {cfg.k}-fold", cfg.k, "–", _pm(_fold_micro(id_pred)), _f(np.median(id_nn))],
    ]
    by_threshold: dict[float, dict[str, Any]] = {}
    for t in tqdm(thresholds, desc="thresholds", unit="threshold", disable=not progress):
        groups = P.connected_groups(data.ids, data.sim, t)
        sizes = pd.Series(groups).value_counts()
        t_folds = P.grouped_folds(groups, cfg.k, cfg.seed, data.weights)
        scores = _fold_micro(_probe(manifest, t_folds, settings, probe_params))
        by_threshold[t] = {
            "groups": int(len(sizes)),
            "largest_group": int(sizes.max()),
            "tc": scores,
            "held_out_nn_median": float(np.median(_held_out_nn(data, t_folds))),
        }
        rows.append(
            [
                f"grouped {cfg.k}-fold, t={t}",
                cfg.k,
                f"{len(sizes)} / {sizes.max()}",
                _pm(scores),
                _f(by_threshold[t]["held_out_nn_median"]),
            ]
        )
    numbers["protocols"] = {
        "legacy": legacy_tc,
        "random_kfold": _fold_micro(random_pred),
        "id_blocked": _fold_micro(id_pred),
        "grouped": {str(t): v for t, v in by_threshold.items()},
    }
    md += [
        "",
        "## 7. Protocols compared (TC probe)",
        "",
        _table(
            ["protocol", "folds", "groups / largest", "TC micro-F1 (mean ± sd)", "held-out NN median"], rows
        ),
    ]
    steps.update()

    # 8. candidates -----------------------------------------------------------------------
    configured = {c.name: c for c in settings.train.candidates}
    rows, cand_numbers = [], {}
    for name in candidates:
        if name not in configured:
            raise ValueError(f"unknown candidate {name!r}; configured: {sorted(configured)}")
        candidate = configured[name]
        legacy_scores = CV.fold_scores(candidate.family, candidate.params, manifest, data.legacy, settings)
        random_cv = CV.cross_validate(
            candidate.family,
            candidate.params,
            manifest,
            settings,
            folds=random_folds,
            name=name,
            progress=progress,
        )
        grouped_cv = CV.cross_validate(
            candidate.family, candidate.params, manifest, settings, folds=folds, name=name, progress=progress
        )
        cand_numbers[name] = {
            "legacy": legacy_scores,
            "random": random_cv.to_dict(),
            "grouped": grouped_cv.to_dict(),
        }
        for metric in ("tc_micro_f1", "si_f1", "flc_f1"):
            rows.append(
                [
                    name,
                    metric,
                    _f(legacy_scores.get(metric, float("nan"))),
                    _pm([r[metric] for r in random_cv.folds]),
                    _pm([r[metric] for r in grouped_cv.folds]),
                ]
            )
    numbers["candidates"] = cand_numbers
    if rows:
        md += [
            "",
            "## 8. TF-IDF candidates",
            "",
            _table(
                ["candidate", "metric", "legacy val", f"random {cfg.k}-fold", f"grouped {cfg.k}-fold"], rows
            ),
        ]
    steps.update()

    # 9. V1 ---------------------------------------------------------------------------------
    if analyzer is not None:
        md += _v1_section(analyzer, manifest, settings, data, legacy_pred, val_nn, numbers)
        steps.update()
    steps.close()

    figure = _figure(out_dir / "validation_gap.png", nn_rows, numbers, legacy_pred, v1 is not None)
    text = "\n".join(md) + "\n"
    files = {
        "markdown": out_dir / "validation_gap.md",
        "json": out_dir / "validation_gap.json",
        "figure": figure,
    }
    files["markdown"].write_text(text, encoding="utf-8")
    files["json"].write_text(json.dumps(numbers, indent=2, default=_json_default), encoding="utf-8")
    return GapReport(text, numbers, files)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return str(value)


def _exact(data: _Data) -> int:
    """Labelled article pairs whose texts are equal up to case, punctuation and spacing."""
    prints = data.docs["text"].map(_normalise)
    return int(prints.duplicated(keep=False).sum())


def _reweight(frame: pd.DataFrame, column: str, techniques: Sequence[str], mix: np.ndarray) -> float:
    per_class = frame.assign(ok=frame[column] == frame["technique"]).groupby("technique")["ok"].mean()
    return float(per_class.reindex(techniques).fillna(0).to_numpy() @ mix)


def _v1_span_predictions(analyzer: Analyzer, manifest: Manifest, spans: pd.DataFrame) -> list[str]:
    """The bundle's technique for each gold span, as evaluate_analyzer's TC step asks it:
    its TC head over the span in its sentences, else its sentence scorer on the span text."""
    from mindlens.evaluation.predictions import tc_span_items

    if analyzer.has_tc_head:
        labels = analyzer.require_span_model().labels
        items, contexts = tc_span_items(manifest, spans)
        _, probs = analyzer.classify_spans(items, contexts if analyzer.reads_context else None)
    else:
        labels = analyzer.sentence_labels
        probs, _ = analyzer.tag_sentences(spans["text"].tolist())
    return [labels[j] for j in probs.argmax(axis=1)]


def _v1_section(
    analyzer: Analyzer,
    manifest: Manifest,
    settings: Settings,
    data: _Data,
    legacy_pred: pd.DataFrame,
    val_nn: Mapping[str, float],
    numbers: dict[str, Any],
) -> list[str]:
    """V1 trained on the legacy train articles: score it on legacy val articles only, split
    by how far they are from its training articles (SI/FLC/TC by evaluate_analyzer)."""
    import tempfile

    from mindlens.evaluation.evaluate import evaluate_analyzer

    parts = {
        f"far (nearest training article < {FAR})": [d for d in data.legacy.test if val_nn[d] < FAR],
        f"near (≥ {FAR})": [d for d in data.legacy.test if val_nn[d] >= FAR],
        "all legacy val": list(data.legacy.test),
    }
    rows: list[list[Any]] = []
    v1_numbers: dict[str, Any] = {}
    for name, docs in parts.items():
        if not docs:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            dataset = P.split_dataset(manifest, {d: "val" for d in docs}, Path(tmp))
            metrics = evaluate_analyzer(analyzer, dataset, settings, "val").metrics
        spans = legacy_pred[legacy_pred["document_id"].isin(set(docs))]
        low, high = _bootstrap(spans, "v1")
        v1_numbers[name] = {
            "tc_bootstrap_95": [low, high],
            "articles": len(docs),
            "spans": len(spans),
            **{m: metrics.get(f"val_{m}") for m in ("tc_micro_f1", "si_f1", "flc_f1")},
            "probe_tc": _micro(spans),
        }
        rows.append(
            [
                name,
                len(docs),
                len(spans),
                _f(metrics.get("val_tc_micro_f1", float("nan"))),
                f"{low:.3f}–{high:.3f}",
                _f(metrics.get("val_si_f1", float("nan"))),
                _f(metrics.get("val_flc_f1", float("nan"))),
                _f(_micro(spans)),
            ]
        )
    seen, unseen = legacy_pred[legacy_pred["seen"]], legacy_pred[~legacy_pred["seen"]]
    held = P.holdout(data.groups, settings.protocol.holdout_fraction, settings.protocol.seed, data.weights)
    trained_on = len(set(held.test) & set(data.legacy.train)) / len(held.test)
    v1_numbers["seen_spans"] = {"v1_seen": _micro(seen, "v1"), "v1_unseen": _micro(unseen, "v1")}
    v1_numbers["holdout_share_in_v1_training"] = trained_on
    numbers["v1"] = v1_numbers
    return [
        "",
        "## 9. V1 on the legacy val articles it never saw",
        "",
        f"V1 was trained on the {len(data.legacy.train)} legacy train articles, so the protocol's grouped "
        f"held-out part cannot score it ({trained_on:.0%} of those articles were V1 training "
        "articles). The honest V1 numbers come from legacy val articles, split by their nearest "
        f"V1 training article; every test article is 'far' (below {FAR}).",
        "",
        _table(
            [
                "val articles",
                "articles",
                "spans",
                "TC V1",
                "TC V1 95% (articles resampled)",
                "SI V1",
                "FLC V1",
                "TC probe",
            ],
            rows,
        ),
        "",
        f"V1 TC on seen spans {_micro(seen, 'v1'):.3f} vs unseen {_micro(unseen, 'v1'):.3f} "
        f"(probe: {_micro(seen):.3f} vs {_micro(unseen):.3f}).",
    ]


def _figure(
    path: Path,
    nn_rows: Mapping[str, np.ndarray],
    numbers: Mapping[str, Any],
    legacy_pred: pd.DataFrame,
    with_v1: bool,
) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 9))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    ax = axes[0, 0]
    for name, values in nn_rows.items():
        ordered = np.sort(values)
        ax.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), label=name)
    ax.set_xlabel("similarity to the nearest training article")
    ax.set_ylabel("share of scored articles (cumulative)")
    ax.set_title("Scored articles vs their training articles")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    protocols = numbers["protocols"]
    labels = ["legacy val", "random k-fold", "id-blocked"] + [f"grouped t={t}" for t in protocols["grouped"]]
    series = [[protocols["legacy"]], protocols["random_kfold"], protocols["id_blocked"]] + [
        v["tc"] for v in protocols["grouped"].values()
    ]
    means = [np.mean(s) for s in series]
    sds = [np.std(s, ddof=1) if len(s) > 1 else 0 for s in series]
    ax.barh(range(len(labels)), means, xerr=sds, color="#4c72b0")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0.3, 0.65)
    ax.set_xlabel("TC micro-F1 of the TF-IDF probe (mean ± sd over folds)")
    ax.set_title("Protocols")

    ax = axes[1, 0]
    bins = numbers["tc_by_nearest_similarity"]
    x = np.arange(len(bins))
    ax.bar(x - 0.2, [b["probe"] for b in bins], 0.4, label="TF-IDF probe")
    if with_v1:
        ax.bar(x + 0.2, [b["v1"] for b in bins], 0.4, label="V1")
    ax.set_xticks(x, [f"{b['bin']}\n{b['spans']} spans" for b in bins], fontsize=7)
    ax.set_ylim(0.3, 0.75)
    ax.set_xlabel("legacy val article's similarity to its nearest training article")
    ax.set_ylabel("TC micro-F1")
    ax.set_title("TC falls with distance from the training articles")
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    variance = numbers["variance"]
    ax.hist(variance["random_splits"], bins=12, alpha=0.6, label="random 20% splits")
    ax.hist(variance["grouped_splits"], bins=12, alpha=0.6, label="grouped 20% held-out parts")
    ax.axvline(variance["legacy_val_tc"], color="k", linestyle="--", label="legacy val split")
    ax.set_xlabel("TC micro-F1 of the TF-IDF probe")
    ax.set_ylabel("seeds")
    ax.set_title("One 20% split is one draw")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
