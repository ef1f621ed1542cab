"""PTC technique classification (TC) with the document-aware classifier, by grouped CV.

    python benchmarks/tc_context.py [--out /tmp] [--folds 5] [--quick] [--sweep] [--story-groups]

Needs the processed dataset (``mindlens data prepare``; MINDLENS_STATE_DIR / the config
say where). Reads only the PTC training articles (splits ``train`` and ``val``).

What it does, all on the same grouped folds (spans of one article never straddle train
and test):

1. ablation: the TF-IDF fragment-only LR baseline, then each feature family added in
   turn, then the full model without each family (leave-one-out), micro-F1 (= accuracy
   over the given spans, the official TC metric), macro-F1, Repetition P/R/F1, mean ± sd
   over folds; pooled out-of-fold per-technique P/R/F1 for the baseline and the full model;
2. V1 ensemble, only on V1's *val part* (V1 trained on the train part): the classifier is
   fitted on the train part (the articles V1 saw), V1's TC head probabilities of the val
   spans are cached once (``<out>/v1_val_tc_probs.json``), and the mixing weight of
   ``p_ctx ** (1 - w) * p_v1 ** w`` is fitted on the other val folds only, evaluated on
   the held-out val fold;
3. ``--sweep``: the hyperparameter sweep (C, class-weight power, dense scale) on fold 1
   that picked the defaults (it ran with all eight families, before position and
   heuristics were dropped from the defaults by the ablation).

``--story-groups`` folds by the protocol's story groups (near-duplicate articles together;
needs ``mindlens.validation.protocol``, on main after the protocol merge) instead of article
ids, and also scores the val spans whose story no train-part article tells.

Writes ``<out>/tc_context.json`` (every number) and ``<out>/tc_context_per_technique.png``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: shared CPUs, and faster for these sizes

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import f1_score, precision_recall_fscore_support  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from mindlens.models.tc_context import (  # noqa: E402
    DEFAULT_FEATURES,
    FAMILIES,
    TCContextClassifier,
    fit_mix_weight,
    log_linear_mix,
)

FULL = list(FAMILIES)
DEFAULT: dict[str, Any] = {}  # the classifier's defaults (DEFAULT_FEATURES)
BASELINE: dict[str, Any] = {"features": ["frag_word"], "class_weight_power": 0.0}
CUMULATIVE = ["frag_char", "context", "neighbours", "repetition", "position", "shape", "heuristics"]


def configs(quick: bool) -> list[tuple[str, dict[str, Any]]]:
    """(name, classifier kwargs): baseline, + class weights, + each family, full minus each."""
    out: list[tuple[str, dict[str, Any]]] = [("(a) baseline: TF-IDF fragment words, LR", BASELINE)]
    out.append(("+ class weights", {"features": ["frag_word"]}))
    feats = ["frag_word"]
    for family in CUMULATIVE:
        feats = feats + [family]
        out.append((f"+ {family}", {"features": list(feats)}))
    if quick:
        no_repetition = [f for f in DEFAULT_FEATURES if f != "repetition"]
        return [out[0], ("**default**", DEFAULT), ("default - repetition", {"features": no_repetition})]
    out.append(("full, no class weights", {"features": FULL, "class_weight_power": 0.0}))
    for family in FULL:
        out.append((f"full - {family}", {"features": [f for f in FULL if f != family]}))
    dropped = ", ".join(f for f in FULL if f not in DEFAULT_FEATURES)
    out.append((f"**default** (full - {dropped})", DEFAULT))
    return out


# --- data -------------------------------------------------------------------------------
def load_ptc() -> tuple[pd.DataFrame, dict[str, str]]:
    """PTC spans of the labelled articles (train + val split) and the article texts."""
    from mindlens.config import get_settings
    from mindlens.data.dataset import Manifest

    settings = get_settings()
    manifest = Manifest.read(settings.processed_dir)
    spans = manifest.table("spans")
    spans = spans[(spans["source"] == "ptc") & spans["split"].isin(["train", "val"])]
    spans = spans.sort_values(["document_id", "start", "end", "technique"]).reset_index(drop=True)
    docs = manifest.table("documents")
    docs = docs[docs["document_id"].isin(set(spans["document_id"]))]
    return spans, dict(zip(docs["document_id"], docs["text"], strict=True))


def story_groups() -> dict[str, str]:
    """Article id -> story group (near-duplicate articles share one), from the protocol module
    (``mindlens.validation.protocol`` on main after the protocol merge)."""
    try:
        from mindlens.validation.protocol import ptc_groups
    except ImportError as error:
        raise SystemExit(f"--story-groups needs mindlens.validation.protocol: {error}") from None
    from mindlens.config import get_settings
    from mindlens.data.dataset import Manifest

    settings = get_settings()
    return dict(ptc_groups(Manifest.read(settings.processed_dir), settings))


def _folds(groups: np.ndarray, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped k-fold over articles (--story-groups folds by mindlens.validation.protocol instead)."""
    index = np.arange(len(groups))
    return list(GroupKFold(n_splits=n_splits).split(index, groups=groups))


# --- metrics ----------------------------------------------------------------------------
def scores(gold: list[str], pred: list[str]) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(
        gold, pred, labels=["repetition"], average=None, zero_division=0
    )
    return {
        "micro_f1": float(np.mean(np.asarray(gold) == np.asarray(pred))),
        "macro_f1": float(f1_score(gold, pred, average="macro", labels=sorted(set(gold)), zero_division=0)),
        "repetition_precision": float(p[0]),
        "repetition_recall": float(r[0]),
        "repetition_f1": float(f[0]),
    }


def per_technique(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(gold))
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    return {
        label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(n[i])}
        for i, label in enumerate(labels)
    }


def summary(per_fold: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        key: {
            "mean": float(np.mean([m[key] for m in per_fold])),
            "sd": float(np.std([m[key] for m in per_fold], ddof=1)) if len(per_fold) > 1 else 0.0,
        }
        for key in per_fold[0]
    }


def _pm(stat: dict[str, float]) -> str:
    return f"{stat['mean']:.3f} ± {stat['sd']:.3f}"


# --- runs -------------------------------------------------------------------------------
def cross_validate(
    X: list[tuple[str, int, int]], y: list[str], folds: list, kwargs: dict[str, Any]
) -> tuple[list[dict[str, float]], list[str], np.ndarray, float]:
    """Per-fold scores, pooled out-of-fold predictions and probabilities, mean fit seconds."""
    labels = sorted(set(y))
    pred = [""] * len(y)
    probs = np.zeros((len(y), len(labels)))
    per_fold, seconds = [], []
    for train, test in folds:
        t0 = time.perf_counter()
        model = TCContextClassifier(labels, **kwargs).fit([X[i] for i in train], [y[i] for i in train])
        seconds.append(time.perf_counter() - t0)
        p = model.predict_proba([X[i] for i in test])
        probs[test] = p
        for i, row in zip(test, p, strict=True):
            pred[i] = labels[int(row.argmax())]
        per_fold.append(scores([y[i] for i in test], [pred[i] for i in test]))
    return per_fold, pred, probs, float(np.mean(seconds))


def v1_val_probs(spans: pd.DataFrame, texts: dict[str, str], labels: list[str], cache: Path) -> np.ndarray:
    """V1's TC-head distribution for every val span (columns in ``labels`` order), cached."""
    val = spans[spans["split"] == "val"]
    keys = [f"{d}:{s}:{e}" for d, s, e in val[["document_id", "start", "end"]].itertuples(index=False)]
    if cache.is_file():
        stored = json.loads(cache.read_text())
        if set(keys) <= set(stored["probs"]):
            order = [stored["labels"].index(label) for label in labels]
            return np.asarray([stored["probs"][k] for k in keys])[:, order]
    from mindlens.evaluation.predictions import span_in_sentences
    from mindlens.models.analyzer import Analyzer
    from mindlens.preprocessing.sentences import split_sentences

    root = Path(__file__).resolve().parents[1]
    analyzer = Analyzer.load(root / "models" / "v1")
    bounds = {
        d: [(s.start, s.end) for s in split_sentences(texts[d], one_per_line=True)]
        for d in set(val["document_id"])
    }
    items, contexts = [], []
    for d, s, e in val[["document_id", "start", "end"]].itertuples(index=False):
        item, context = span_in_sentences(texts[d], bounds[d], int(s), int(e))
        items.append(item)
        contexts.append(context)
    t0 = time.perf_counter()
    v1_labels, probs = analyzer.classify_spans(items, contexts if analyzer.reads_context else None)
    print(f"V1 TC head on {len(items)} val spans: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    cache.write_text(
        json.dumps(
            {
                "model": "models/v1",
                "labels": list(v1_labels),
                "probs": dict(zip(keys, np.asarray(probs).tolist(), strict=True)),
            }
        )
    )
    order = [list(v1_labels).index(label) for label in labels]
    return np.asarray(probs)[:, order]


def ensemble_on_val(
    spans: pd.DataFrame,
    X: list,
    y: list[str],
    texts: dict[str, str],
    out: Path,
    n_splits: int,
    stories: dict[str, str] | None = None,
) -> dict[str, Any]:
    """V1 vs the classifier (fitted on the train part, like V1) vs their mix, on V1's val part.
    With ``stories`` (article -> story group), the val folds group stories, and the val spans
    whose story has no train-part article are also scored apart (mix weight fitted on the
    other val spans)."""
    labels = sorted(set(y))
    is_train = (spans["split"] == "train").to_numpy()
    val_idx = np.flatnonzero(~is_train)
    model = TCContextClassifier(labels).fit(
        [X[i] for i in np.flatnonzero(is_train)], [y[i] for i in np.flatnonzero(is_train)]
    )
    p_ctx = model.predict_proba([X[i] for i in val_idx])
    p_v1 = v1_val_probs(spans, texts, labels, out / "v1_val_tc_probs.json")
    gold = [y[i] for i in val_idx]
    gold_idx = np.asarray([labels.index(g) for g in gold])
    articles = spans["document_id"].to_numpy()[val_idx]
    groups = articles if stories is None else np.asarray([stories[a] for a in articles])
    runs: dict[str, list[dict[str, float]]] = {"V1 TC head": [], "context model": [], "ensemble": []}
    pooled = {name: [""] * len(val_idx) for name in runs}
    weights = []
    for train, test in _folds(groups, n_splits):
        w = fit_mix_weight(p_ctx[train], p_v1[train], gold_idx[train])
        weights.append(w)
        mixed = log_linear_mix(p_ctx[test], p_v1[test], w)
        for name, probs in (("V1 TC head", p_v1[test]), ("context model", p_ctx[test]), ("ensemble", mixed)):
            pred = [labels[j] for j in probs.argmax(axis=1)]
            for i, p in zip(test, pred, strict=True):
                pooled[name][i] = p
            runs[name].append(scores([gold[i] for i in test], pred))
    result = {
        "articles": int(len(set(articles))),
        "spans": int(len(val_idx)),
        "weights": weights,
        "folds": runs,
        "summary": {name: summary(r) for name, r in runs.items()},
        "pooled": {name: scores(gold, p) for name, p in pooled.items()},
        "per_technique": {name: per_technique(gold, p) for name, p in pooled.items()},
    }
    if stories is not None:
        seen = {stories[d] for d in spans.loc[is_train, "document_id"]}
        unseen = np.asarray([stories[a] not in seen for a in articles])
        if unseen.any() and (~unseen).any():
            w = fit_mix_weight(p_ctx[~unseen], p_v1[~unseen], gold_idx[~unseen])
            subset = [gold[i] for i in np.flatnonzero(unseen)]
            result["unseen_stories"] = {
                "articles": int(len(set(articles[unseen]))),
                "spans": int(unseen.sum()),
                "weight": w,
                "scores": {
                    name: scores(subset, [labels[j] for j in probs.argmax(axis=1)])
                    for name, probs in (
                        ("V1 TC head", p_v1[unseen]),
                        ("context model", p_ctx[unseen]),
                        ("ensemble", log_linear_mix(p_ctx[unseen], p_v1[unseen], w)),
                    )
                },
            }
    return result


def sweep(X: list, y: list[str], folds: list) -> list[dict[str, Any]]:
    """The hyperparameter grid on the first fold only (what picked the defaults)."""
    train, test = folds[0]
    labels = sorted(set(y))
    rows = []
    for C in (1.0, 2.0, 4.0):
        for power in (0.0, 0.5, 1.0):
            for dense_scale in (0.3, 1.0):
                kwargs = {"C": C, "class_weight_power": power, "dense_scale": dense_scale}
                model = TCContextClassifier(labels, features=FULL, **kwargs).fit(
                    [X[i] for i in train], [y[i] for i in train]
                )
                pred = model.predict([X[i] for i in test])
                rows.append({**kwargs, **scores([y[i] for i in test], pred)})
                print(rows[-1], file=sys.stderr)
    return rows


# --- report -----------------------------------------------------------------------------
def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("grouped CV, all labelled articles", result["per_technique"])]
    if "ensemble" in result:
        panels.append(
            (
                f"V1's val part ({result['ensemble']['articles']} articles)",
                result["ensemble"]["per_technique"],
            )
        )
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 4.2 * len(panels)), squeeze=False)
    for ax, (title, models) in zip(axes[:, 0], panels, strict=True):
        names = list(models)
        techniques = sorted(
            next(iter(models.values())), key=lambda t: -next(iter(models.values()))[t]["support"]
        )
        x = np.arange(len(techniques))
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            ax.bar(
                x + k * width - 0.4 + width / 2,
                [models[name][t]["f1"] for t in techniques],
                width,
                label=name,
            )
        ax.set_xticks(x, [t.replace("_", " ") for t in techniques], rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("F1")
        ax.set_ylim(0, 1)
        ax.set_title(f"PTC TC per-technique F1 — {title}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def technique_table(per_model: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    models = list(per_model)
    lines = ["| technique | n | " + " | ".join(models) + " |", "|---|---|" + "---|" * len(models)]
    first = per_model[models[0]]
    for t in sorted(first, key=lambda t: -first[t]["support"]):
        cells = ["{precision:.2f} / {recall:.2f} / **{f1:.2f}**".format(**per_model[m][t]) for m in models]
        lines.append(f"| {t} | {first[t]['support']} | " + " | ".join(cells) + " |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"### Ablation: grouped {result['n_folds']}-fold CV over {result['articles']} articles "
        f"({result['spans']} spans; {result['folds']}), mean ± sd over folds",
        "",
        "| model | micro-F1 | macro-F1 | Repetition P | Repetition R | Repetition F1 | fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["ablation"]:
        s = row["summary"]
        lines.append(
            f"| {row['name']} | {_pm(s['micro_f1'])} | {_pm(s['macro_f1'])} | {_pm(s['repetition_precision'])} "
            f"| {_pm(s['repetition_recall'])} | {_pm(s['repetition_f1'])} | {row['fit_seconds']:.0f} |"
        )
    lines += ["", "### Per technique (pooled out-of-fold predictions): P / R / F1", ""]
    lines += technique_table(result["per_technique"])
    if "ensemble" in result:
        e = result["ensemble"]
        lines += [
            "",
            f"### V1 ensemble on V1's val part ({e['articles']} articles, {e['spans']} spans; "
            f"grouped {len(e['weights'])}-fold inside it, mean ± sd; mix weight on V1 per fold: "
            + ", ".join(f"{w:.2f}" for w in e["weights"])
            + ")",
            "",
            "| model | micro-F1 | macro-F1 | Repetition P | Repetition R | Repetition F1 | pooled micro-F1 |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, s in e["summary"].items():
            lines.append(
                f"| {name} | {_pm(s['micro_f1'])} | {_pm(s['macro_f1'])} | {_pm(s['repetition_precision'])} "
                f"| {_pm(s['repetition_recall'])} | {_pm(s['repetition_f1'])} | {e['pooled'][name]['micro_f1']:.3f} |"
            )
        lines += ["", "Per technique on the val part (pooled over its folds): P / R / F1", ""]
        lines += technique_table(e["per_technique"])
        if "unseen_stories" in e:
            u = e["unseen_stories"]
            lines += [
                "",
                f"Val spans whose story has no train-part article ({u['articles']} articles, "
                f"{u['spans']} spans; mix weight {u['weight']:.2f} fitted on the other val spans):",
                "",
                "| model | micro-F1 | macro-F1 | Repetition F1 |",
                "|---|---|---|---|",
            ]
            for name, sc in u["scores"].items():
                lines.append(
                    f"| {name} | {sc['micro_f1']:.3f} | {sc['macro_f1']:.3f} | {sc['repetition_f1']:.3f} |"
                )
    if result.get("sweep"):
        lines += [
            "",
            "### Sweep on fold 1 only",
            "",
            "| C | class-weight power | dense scale | micro-F1 | macro-F1 | Repetition F1 |",
            "|---|---|---|---|---|---|",
        ]
        for r in result["sweep"]:
            lines.append(
                f"| {r['C']} | {r['class_weight_power']} | {r['dense_scale']} | {r['micro_f1']:.3f} "
                f"| {r['macro_f1']:.3f} | {r['repetition_f1']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="baseline, default model and default - repetition only"
    )
    parser.add_argument(
        "--story-groups",
        action="store_true",
        help="fold by the protocol's story groups (mindlens.validation.protocol) instead of articles",
    )
    parser.add_argument("--sweep", action="store_true", help="also the fold-1 hyperparameter sweep")
    parser.add_argument("--no-ensemble", action="store_true", help="skip the V1 comparison")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore", ConvergenceWarning)

    spans, texts = load_ptc()
    X = [
        (texts[d], int(s), int(e))
        for d, s, e in spans[["document_id", "start", "end"]].itertuples(index=False)
    ]
    y = spans["technique"].tolist()
    articles = spans["document_id"].to_numpy()
    stories = story_groups() if args.story_groups else None
    groups = articles if stories is None else np.asarray([stories[a] for a in articles])
    folds = _folds(groups, args.folds)
    result: dict[str, Any] = {
        "articles": int(len(set(articles))),
        "groups": int(len(set(groups))),
        "spans": len(y),
        "n_folds": args.folds,
        "folds": "sklearn GroupKFold, groups = "
        + ("story groups (mindlens.validation.protocol.ptc_groups)" if stories else "article ids"),
        "defaults": TCContextClassifier().params,
        "ablation": [],
        "per_technique": {},
    }
    for name, kwargs in configs(args.quick):
        t0 = time.perf_counter()
        per_fold, pred, _, seconds = cross_validate(X, y, folds, kwargs)
        row = {
            "name": name,
            "params": kwargs,
            "folds": per_fold,
            "summary": summary(per_fold),
            "fit_seconds": seconds,
        }
        result["ablation"].append(row)
        print(
            f"{name}: micro-F1 {_pm(row['summary']['micro_f1'])} ({time.perf_counter() - t0:.0f}s)",
            file=sys.stderr,
        )
        if kwargs is BASELINE:
            result["per_technique"]["baseline"] = per_technique(y, pred)
        elif kwargs is DEFAULT:
            result["per_technique"]["default model"] = per_technique(y, pred)
    if not args.no_ensemble:
        result["ensemble"] = ensemble_on_val(spans, X, y, texts, args.out, args.folds, stories)
    if args.sweep:
        result["sweep"] = sweep(X, y, folds)
    (args.out / "tc_context.json").write_text(json.dumps(result, indent=2))
    plot(result, args.out / "tc_context_per_technique.png")
    print(markdown(result))
    print(
        f"\nwrote {args.out / 'tc_context.json'} and {args.out / 'tc_context_per_technique.png'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
