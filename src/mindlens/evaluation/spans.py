"""SemEval-2020 Task 11 / NLP4IF-2019 span metrics on plain tuples.

The official scorers give partial credit for character overlap, so a model is
not punished for a boundary off by a word; these functions reproduce them so
that MindLens numbers compare with the published leaderboards. Offsets are
half-open character offsets ``[start, end)``.

Merging follows the official ``merge_spans``: spans are merged when they share
at least one character (touching spans such as ``[0, 5)`` and ``[5, 9)`` share
none and stay apart). Both sides are merged, which is what the SI scorer does
with its ``-m`` option (without it, overlapping predictions are an error).

These stay ours rather than scikit-learn's: SI and FLC are not counts of right and
wrong labels but sums of partial overlap credit over merged spans, and TC matches
multisets of labels per gold span (the official "best match"), which no
``sklearn.metrics`` function expresses. Plain label P/R/F1 is in
:mod:`mindlens.evaluation.classification`, computed by scikit-learn.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, TypeVar

Interval = tuple[int, int]
_K = TypeVar("_K", bound=Hashable)


def _check_span(start: int, end: int, where: object) -> None:
    if start < 0 or start >= end:
        raise ValueError(f"invalid span {where}: need 0 <= start < end, got [{start}, {end})")


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of overlapping half-open intervals, sorted; touching ones stay separate."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _overlap(a: Interval, b: Interval) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _group(spans: Iterable[tuple[_K, int, int]]) -> dict[_K, list[Interval]]:
    """Merged intervals per group key (article, or article and technique)."""
    grouped: dict[_K, list[Interval]] = defaultdict(list)
    for key, start, end in spans:
        start, end = int(start), int(end)
        _check_span(start, end, key)
        grouped[key].append((start, end))
    return {key: merge_intervals(ivs) for key, ivs in grouped.items()}


def _credit(pred: list[Interval], gold: list[Interval]) -> tuple[float, float]:
    """Sum of C(s, t, |s|) and of C(s, t, |t|) over all pairs (spans are disjoint per side)."""
    prec = rec = 0.0
    for s in pred:
        for t in gold:
            inter = _overlap(s, t)
            if inter:
                prec += inter / (s[1] - s[0])
                rec += inter / (t[1] - t[0])
    return prec, rec


def prf(prec_num: float, n_pred: int, rec_num: float, n_gold: int) -> tuple[float, float, float]:
    p = prec_num / n_pred if n_pred else 0.0
    r = rec_num / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def si_scores(gold: Iterable[tuple[str, int, int]], pred: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
    """Span identification P/R/F1 with partial credit (SemEval-2020 Task 11 SI).

    ``n_gold`` and ``n_pred`` are the span counts after merging, i.e. the
    denominators |T| and |S|. F1 is 0 when both sides are empty (the official
    scorer says 1.0 there, which would reward an empty evaluation set).
    """
    g = _group((a, s, e) for a, s, e in gold)
    p = _group((a, s, e) for a, s, e in pred)
    prec_num = rec_num = 0.0
    for article, pred_ivs in p.items():
        dp, dr = _credit(pred_ivs, g.get(article, []))
        prec_num += dp
        rec_num += dr
    n_gold = sum(map(len, g.values()))
    n_pred = sum(map(len, p.values()))
    precision, recall, f1 = prf(prec_num, n_pred, rec_num, n_gold)
    return {"precision": precision, "recall": recall, "f1": f1, "n_gold": n_gold, "n_pred": n_pred}


Credit = tuple[float, int, float, int]  # precision credit, predicted spans, recall credit, gold spans


def flc_credit(
    gold: Iterable[tuple[str, str, int, int]], pred: Iterable[tuple[str, str, int, int]]
) -> dict[tuple[str, str], Credit]:
    """FLC's sums per (article, technique): they add up over articles and techniques, so a
    search over per-technique decodings scores any subset of articles without rescoring."""
    g = _group(((a, t), s, e) for a, t, s, e in gold)
    p = _group(((a, t), s, e) for a, t, s, e in pred)
    out: dict[tuple[str, str], Credit] = {}
    for key in set(g) | set(p):
        pred_ivs, gold_ivs = p.get(key, []), g.get(key, [])
        dp, dr = _credit(pred_ivs, gold_ivs)
        out[key] = (dp, len(pred_ivs), dr, len(gold_ivs))
    return out


def flc_scores(
    gold: Iterable[tuple[str, str, int, int]], pred: Iterable[tuple[str, str, int, int]]
) -> dict[str, Any]:
    """Fragment-level classification P/R/F1 (NLP4IF-2019 FLC, SemEval-2020 scorer).

    Like :func:`si_scores`, but overlap only earns credit when the techniques
    match, and spans are merged per (article, technique) only, so two
    techniques on one fragment remain two spans to find.
    """
    # Overlap credit is fractional, so these are float-valued (a Counter holds ints).
    prec_by: defaultdict[str, float] = defaultdict(float)
    rec_by: defaultdict[str, float] = defaultdict(float)
    n_gold_by: Counter[str] = Counter()
    n_pred_by: Counter[str] = Counter()
    for (_, technique), (dp, n_pred, dr, n_gold) in flc_credit(gold, pred).items():
        prec_by[technique] += dp
        rec_by[technique] += dr
        n_pred_by[technique] += n_pred
        n_gold_by[technique] += n_gold
    per_technique: dict[str, dict[str, float]] = {}
    for technique in sorted(set(n_gold_by) | set(n_pred_by)):
        tp, tr, tf = prf(prec_by[technique], n_pred_by[technique], rec_by[technique], n_gold_by[technique])
        per_technique[technique] = {"precision": tp, "recall": tr, "f1": tf, "support": n_gold_by[technique]}
    n_gold, n_pred = sum(n_gold_by.values()), sum(n_pred_by.values())
    precision, recall, f1 = prf(sum(prec_by.values()), n_pred, sum(rec_by.values()), n_gold)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "n_gold": n_gold,
        "n_pred": n_pred,
        "per_technique": per_technique,
    }


def tc_scores(
    gold: Sequence[tuple[str, int, int, str]], pred: Sequence[tuple[str, int, int, str]]
) -> dict[str, Any]:
    """Technique classification over given spans (SemEval-2020 Task 11 TC).

    Labels are compared per (article, start, end) as multisets, so a span with
    two gold techniques is matched whatever order the predictions come in (the
    official scorer's "best match"). ``accuracy`` is correct / n_gold, the
    share of gold instances recovered; with exactly one prediction per gold
    instance (the official setting) it equals micro P, R and F1.
    """
    gold_by: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    pred_by: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    for article, start, end, label in gold:
        gold_by[(article, int(start), int(end))][label] += 1
    for article, start, end, label in pred:
        key = (article, int(start), int(end))
        if key not in gold_by:
            raise ValueError(f"predicted span {key} is not among the gold spans")
        pred_by[key][label] += 1
    correct_by: Counter[str] = Counter()
    gold_count: Counter[str] = Counter()
    pred_count: Counter[str] = Counter()
    for key, labels in gold_by.items():
        gold_count.update(labels)
        correct_by.update(labels & pred_by.get(key, Counter()))
    for labels in pred_by.values():
        pred_count.update(labels)
    per_class: dict[str, dict[str, float]] = {}
    for label in sorted(set(gold_count) | set(pred_count)):
        lp, lr, lf = prf(correct_by[label], pred_count[label], correct_by[label], gold_count[label])
        per_class[label] = {"precision": lp, "recall": lr, "f1": lf, "support": gold_count[label]}
    correct = sum(correct_by.values())
    n_gold, n_pred = sum(gold_count.values()), sum(pred_count.values())
    precision, recall, micro_f1 = prf(correct, n_pred, correct, n_gold)
    present = [v["f1"] for v in per_class.values() if v["support"] > 0]
    return {
        "micro_f1": micro_f1,
        "precision": precision,
        "recall": recall,
        "accuracy": correct / n_gold if n_gold else 0.0,
        "per_class": per_class,
        "macro_f1": sum(present) / len(present) if present else 0.0,
        "n_gold": n_gold,
        "n_pred": n_pred,
    }
