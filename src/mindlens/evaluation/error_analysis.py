"""Where the sentence model goes wrong, and which curated data would help most.

Every function reads the table from ``predictions.sentence_predictions`` (one
row per sentence: ``text``, ``source``, ``gold`` and ``pred`` lists of
technique ids, ``p__<technique>`` probabilities). Scores come from
``classification.multilabel_report`` so the numbers here match the training report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from mindlens import taxonomy
from mindlens.evaluation.classification import multilabel_report
from mindlens.evaluation.predictions import PROB_PREFIX
from mindlens.preprocessing.labels import indicator

NONE = "none"
SliceBy = Literal["length", "source", "quotation", "frequency"]

# A sentence quotes someone if it holds a double quote (straight, curly, low or
# guillemet), or a speech verb followed within a few words by an opening single
# quote (one after a space or colon, before a letter). Apostrophes ("don't",
# "the workers' pay") do not count: they are not preceded by a space.
QUOTATION_PATTERN = re.compile(
    r"""["\u201c\u201d\u201e\u00ab\u00bb]"""
    r"""|\b(?:said|says|say|told|tells|asked|asks|wrote|writes|added|adds|declared|stated|"""
    r"""claimed|claims|insisted|warned|tweeted)\b[^.!?'\u2018]{0,40}?[\s:,]['\u2018](?=\w)""",
    re.IGNORECASE,
)
# (bucket, exclusive upper bound in characters), shortest first.
LENGTH_BUCKETS: tuple[tuple[str, float], ...] = (
    ("<60", 60),
    ("60-119", 120),
    ("120-199", 200),
    (">=200", float("inf")),
)
FREQUENCY_GROUPS = ("rare", "medium", "frequent")
_SCORES = ["precision", "recall", "f1"]


def _report(frame: pd.DataFrame, labels: Sequence[str]) -> dict[str, Any]:
    return multilabel_report(indicator(frame["gold"], labels), indicator(frame["pred"], labels), labels)


def _traits(techniques: Iterable[str]) -> list[str]:
    return sorted({taxonomy.technique(t).trait for t in techniques})


def per_technique(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per model label, indexed by display name."""
    per = pd.DataFrame(_report(frame, labels)["per_label"], columns=list(labels)).T
    per = per[_SCORES + ["support"]].astype({c: float for c in _SCORES} | {"support": int})
    per.index = pd.Index([taxonomy.technique(t).name for t in per.index], name="technique")
    return per


def supported(table: pd.DataFrame, support: str | pd.Series = "support") -> pd.DataFrame:
    """The rows of a per-technique (per-trait) table with gold support in the data scored.

    What every per-technique plot of the reports shows: a technique absent from the split
    has no recall to measure, and its F1 of 0 would read as a failure of the model.
    ``support``: the table's column of gold counts, or counts per row (missing rows: 0).
    """
    counts = table[support] if isinstance(support, str) else support.reindex(table.index, fill_value=0)
    return table[counts.to_numpy() > 0]


def unsupported_note(table: pd.DataFrame, support: str = "support") -> str:
    """One line naming the rows ``supported`` leaves out ("" when none is)."""
    left_out = [str(i) for i in table.index.difference(supported(table, support).index, sort=False)]
    return f"left out of the plot, no support in the data scored: {', '.join(left_out)}" if left_out else ""


def per_trait(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores after rolling techniques up to traits: what a reader of the UI sees.

    A sentence's gold (predicted) traits are the traits of its gold (predicted)
    techniques, so confusing two techniques of one trait is not an error here.
    Traits with neither support nor predictions are left out. Indexed by trait id.
    """
    gold = [_traits(g) for g in frame["gold"]]
    pred = [_traits(p) for p in frame["pred"]]
    seen = set().union(*gold, *pred) if len(frame) else set()
    traits = [t.id for t in taxonomy.TRAITS if t.id in seen]
    per = pd.DataFrame(
        multilabel_report(indicator(gold, traits), indicator(pred, traits), traits)["per_label"],
        columns=traits,
    ).T.reindex(columns=_SCORES + ["support"])
    per = per.astype({c: float for c in _SCORES} | {"support": int})
    per.index.name = "trait"
    return per


def confusion_matrix(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Counts of (gold technique, predicted technique) pairs over sentences.

    Definition, per sentence with gold set G and predicted set P:

    * every pair (g, p) with g in G and p in P counts once, so a correct
      prediction lands on the diagonal and a sentence with G={a}, P={a, b}
      adds (a, a) and (a, b);
    * if P is empty, each g in G counts (g, "none") (a missed sentence);
    * if G is empty, each p in P counts ("none", p) (a false alarm);
    * if both are empty the sentence counts ("none", "none").

    Rows are the gold ids (``labels`` first, then any other gold id) plus
    "none"; columns are ``labels`` plus "none". (``sklearn.metrics.confusion_matrix``
    takes one label per row, so it cannot count these multi-label pairs.)
    """
    extra = sorted({g for gold in frame["gold"] for g in gold} - set(labels))
    rows, cols = [*labels, *extra, NONE], [*labels, NONE]
    counts: Counter[tuple[str, str]] = Counter()
    for gold, pred in zip(frame["gold"], frame["pred"], strict=False):
        for g in gold or [NONE]:
            for p in pred or [NONE]:
                counts[g, p] += 1
    matrix = pd.DataFrame(
        0, index=pd.Index(rows, name="gold"), columns=pd.Index(cols, name="predicted"), dtype=int
    )
    for (g, p), n in counts.items():
        matrix.loc[g, p] = n
    return matrix


def _display(technique_id: str) -> str:
    return "(none)" if technique_id == NONE else taxonomy.technique(technique_id).name


def plotted_confusions(matrix: pd.DataFrame) -> pd.DataFrame:
    """The part of a ``confusion_matrix`` its figure shows: techniques with no gold support in
    the data scored lose their row (``supported``), and their column too unless the model
    predicted them (false alarms stay visible). An all-zero matrix is kept whole."""
    gold = supported(matrix, matrix.sum(axis=1))
    if not len(gold):
        return matrix
    return gold.loc[:, [c for c in matrix.columns if c in gold.index or matrix[c].sum() > 0]]


def confusion_figure(matrix: pd.DataFrame, path: Path) -> Path:
    """Write ``matrix`` as a PNG heatmap (log colour, counts written in) and return the path.

    Only the rows and columns of ``plotted_confusions``.
    """
    # A bare Agg figure, not pyplot: works headless and leaves a notebook's backend alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    matrix = plotted_confusions(matrix)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0.42 * max(len(matrix.index), len(matrix.columns)) + 2.5
    fig = Figure(figsize=(size + 1.5, size))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # log colour: the (none, none) cell and frequent techniques would hide the rest
    values = matrix.to_numpy()
    image = ax.imshow(np.log1p(values), cmap="Blues", aspect="auto")
    ax.set_xticks(
        range(len(matrix.columns)), [_display(c) for c in matrix.columns], rotation=60, ha="right", fontsize=8
    )
    ax.set_yticks(range(len(matrix.index)), [_display(r) for r in matrix.index], fontsize=8)
    # imshow of a 2-D array scales with a Normalize; the stubs type ``norm`` as the base
    # class, whose vmax may also be a tuple (multivariate norms).
    middle = (cast(Normalize, image.norm).vmax or 1) / 2
    for (i, j), n in np.ndenumerate(values):
        if n:
            ax.text(
                j,
                i,
                str(n),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if np.log1p(n) > middle else "black",
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("confusion matrix (sentences)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def top_confusions(frame: pd.DataFrame, k: int = 10, examples: int = 3) -> pd.DataFrame:
    """The ``k`` most frequent (missed gold technique, wrongly predicted technique) pairs.

    Only sentences where g was missed (g not in pred) and p was a false alarm
    (p not in gold) count, so these are real mix-ups, not extra labels next to
    a correct one. ``examples`` sentence texts are kept per pair.
    """
    counts: Counter[tuple[str, str]] = Counter()
    texts: dict[tuple[str, str], list[str]] = {}
    for text, gold, pred in zip(frame["text"], frame["gold"], frame["pred"], strict=False):
        missed = [g for g in gold if g not in pred]
        spurious = [p for p in pred if p not in gold]
        for g in missed:
            for p in spurious:
                counts[g, p] += 1
                kept = texts.setdefault((g, p), [])
                if len(kept) < examples:
                    kept.append(text)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]
    return pd.DataFrame(
        [{"gold": g, "predicted": p, "count": n, "examples": texts[g, p]} for (g, p), n in ranked],
        columns=["gold", "predicted", "count", "examples"],
    )


def length_bucket(text: str) -> str:
    """The character-length bucket of a sentence (``LENGTH_BUCKETS``)."""
    return next(name for name, upper in LENGTH_BUCKETS if len(text) < upper)


def has_quotation(text: str) -> bool:
    """Whether the sentence quotes someone (``QUOTATION_PATTERN``)."""
    return QUOTATION_PATTERN.search(text) is not None


def _row(report: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "precision": report["micro_precision"],
        "recall": report["micro_recall"],
        "f1": report["micro_f1"],
        "n": n,
    }


def _frequency_groups(frame: pd.DataFrame, labels: Sequence[str]) -> dict[str, list[str]]:
    """Labels split into rare/medium/frequent thirds by gold support (ties: label order)."""
    support = indicator(frame["gold"], labels).sum(axis=0)
    order = [labels[j] for j in np.argsort(support, kind="stable")]
    parts = np.array_split(np.array(order, dtype=object), len(FREQUENCY_GROUPS))
    return {name: list(part) for name, part in zip(FREQUENCY_GROUPS, parts, strict=False) if len(part)}


def slice_report(frame: pd.DataFrame, by: SliceBy, labels: Sequence[str]) -> pd.DataFrame:
    """Micro precision/recall/F1 and ``n`` (sentences) per slice, to see where the model is weak.

    ``length``: character buckets (<60, 60-119, 120-199, >=200, in that order,
    empty ones left out); ``source``; ``quotation`` (True/False, see
    ``QUOTATION_PATTERN``); ``frequency``: the labels in rare/medium/frequent
    thirds by gold support in ``frame``, each scored over its own columns only
    (all sentences, so ``n`` is the same; ``support`` and ``techniques`` differ).
    """
    if by == "frequency":
        by_group: dict[str, dict[str, Any]] = {}
        for name, group in _frequency_groups(frame, labels).items():
            report = _report(frame, group)
            by_group[name] = _row(report, len(frame)) | {
                "support": sum(v["support"] for v in report["per_label"].values()),
                "techniques": group,
            }
        return pd.DataFrame.from_dict(by_group, orient="index").rename_axis("frequency")
    if by == "length":
        keys = frame["text"].map(length_bucket)
        order: list[object] = [name for name, _ in LENGTH_BUCKETS]
    elif by == "source":
        keys = frame["source"]
        order = sorted(keys.unique())
    elif by == "quotation":
        keys = frame["text"].map(has_quotation)
        order = [True, False]
    else:
        raise ValueError(f"unknown slice {by!r}; use one of length, source, quotation, frequency")
    rows = {
        key: _row(_report(frame[keys == key], labels), int((keys == key).sum()))
        for key in order
        if (keys == key).any()
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=_SCORES + ["n"]).rename_axis(by)


def confident_errors(
    frame: pd.DataFrame, labels: Sequence[str], n: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` most confident false positives and the ``n`` least confident false negatives.

    A false positive is a predicted label not in gold, ranked by its
    probability (highest first); a false negative is a gold label that was not
    predicted, ranked by its probability (lowest first): the sentences the
    model is surest about and wrong, which are the first to re-read for label noise.
    """
    fps: list[dict[str, Any]] = []
    fns: list[dict[str, Any]] = []
    for record in frame.to_dict("records"):
        gold, pred = set(record["gold"]), set(record["pred"])
        for label in labels:
            errors = (
                fps
                if label in pred and label not in gold
                else fns
                if label in gold and label not in pred
                else None
            )
            if errors is not None:
                errors.append(
                    {
                        "document_id": record.get("document_id"),
                        "sentence_index": record.get("sentence_index"),
                        "text": record["text"],
                        "technique": label,
                        "confidence": float(record[f"{PROB_PREFIX}{label}"]),
                        "gold": list(record["gold"]),
                        "pred": list(record["pred"]),
                    }
                )
    columns = ["document_id", "sentence_index", "text", "technique", "confidence", "gold", "pred"]
    fp = pd.DataFrame(fps, columns=columns).sort_values("confidence", ascending=False, kind="stable")
    fn = pd.DataFrame(fns, columns=columns).sort_values("confidence", ascending=True, kind="stable")
    return fp.head(n).reset_index(drop=True), fn.head(n).reset_index(drop=True)


def data_needs(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Per trait the model covers: F1, support, the dominant error and what to curate.

    Misses (false negatives) call for more curated positives of the trait's
    most-missed techniques; false alarms (false positives) call for hard
    negatives that look like its most over-predicted techniques. Rows are
    sorted most-needed first: traits with errors before those without, then by
    F1 (lowest first), then by error count (highest first).
    """
    traits = [t.id for t in taxonomy.TRAITS if any(taxonomy.technique(x).trait == t.id for x in labels)]
    gold = [_traits(g) for g in frame["gold"]]
    pred = [_traits(p) for p in frame["pred"]]
    y_true, y_pred = indicator(gold, traits), indicator(pred, traits)
    report = multilabel_report(y_true, y_pred, traits)["per_label"]
    fn_by, fp_by = Counter[str](), Counter[str]()
    for g, p in zip(frame["gold"], frame["pred"], strict=False):
        fn_by.update(t for t in g if t in labels and t not in p)
        fp_by.update(t for t in p if t in labels and t not in g)
    rows = []
    for j, trait_id in enumerate(traits):
        name = taxonomy.trait(trait_id).name
        fn = int((y_true[:, j] & ~y_pred[:, j]).sum())
        fp = int((~y_true[:, j] & y_pred[:, j]).sum())
        members = [t for t in labels if taxonomy.technique(t).trait == trait_id]
        dominant = NONE if not fn + fp else "false negatives" if fn >= fp else "false positives"
        by = fn_by if dominant == "false negatives" else fp_by
        focus = sorted((t for t in members if by[t]), key=lambda t: (-by[t], members.index(t)))[:3]
        names = ", ".join(taxonomy.technique(t).name for t in focus)
        if dominant == "false negatives":
            advice = f"add curated positives for {name.lower()} (most missed: {names})"
        elif dominant == "false positives":
            advice = f"add hard negatives for {name.lower()} (most over-predicted: {names})"
        elif report[trait_id]["support"] == 0:
            advice = f"no {name.lower()} in this split: add labelled examples to measure it"
        else:
            advice = "no errors here: no new data needed"
        rows.append(
            {
                "trait": trait_id,
                "name": name,
                "f1": report[trait_id]["f1"],
                "support": report[trait_id]["support"],
                "false_negatives": fn,
                "false_positives": fp,
                "dominant_error": dominant,
                "focus": focus,
                "recommendation": advice,
            }
        )
    columns = [
        "trait",
        "name",
        "f1",
        "support",
        "false_negatives",
        "false_positives",
        "dominant_error",
        "focus",
        "recommendation",
    ]
    needs = pd.DataFrame(rows, columns=columns)
    errors = needs["false_negatives"] + needs["false_positives"]
    order = np.lexsort((-errors.to_numpy(), needs["f1"].to_numpy(), (errors == 0).to_numpy()))
    return needs.iloc[order].reset_index(drop=True)
