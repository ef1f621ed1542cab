"""Per-technique decoding of a trained tagger, chosen and scored by the protocol (#13, item 3).

The network stays as trained; what changes is how its token probabilities become fragments
(:class:`mindlens.models.decoding.Decoding`: a threshold, a Viterbi switch cost and a
sentence-head weight per technique). The choice is made on labelled PTC articles the network
never trained on (the ``val`` articles for a model trained on ``train``) and scored the
protocol's way: grouped k-fold cross-validation over those articles' story groups, each
fold's decoding chosen on the other folds and scored on its own, mean ± sd, against the
model's own decoding on the same folds. The shipped decoding is then chosen on all of them.

Why it is cheap: FLC's credit sums add up over articles and techniques
(:func:`mindlens.evaluation.spans.flc_credit`), so every option of every technique is decoded
once and any choice over any subset of articles is scored by adding numbers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mindlens.data.dataset import Manifest
from mindlens.evaluation.spans import flc_credit, flc_scores, prf, si_scores
from mindlens.models.decoding import (
    JOIN_GAP_CHARS,
    MIN_SPAN_CHARS,
    Decoding,
    decode_windows,
    fuse_sentence,
    merge_spans,
    tidy_spans,
)
from mindlens.models.tagger import Inference, TaggerBase
from mindlens.validation.protocol import PTC, Fold, grouped_folds

log = logging.getLogger(__name__)
REPORT = "decoding_tuning.json"  # written beside the tuned bundle


@dataclass(frozen=True)
class Option:
    threshold: float
    switch_cost: float = 0.0
    sentence_weight: float = 0.0
    join_gap: int = JOIN_GAP_CHARS
    min_chars: int = MIN_SPAN_CHARS


@dataclass(frozen=True)
class Grid:
    """The options tried for every technique (all combinations). Sentence-head fusion and
    the clean-up rules (join gap, minimum length) stay fixed by default: varying them gained
    nothing on V1 under the protocol (docs/DECODING.md)."""

    thresholds: tuple[float, ...] = (0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.9, 0.95)
    switch_costs: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 8.0)
    sentence_weights: tuple[float, ...] = (0.0,)
    join_gaps: tuple[int, ...] = (JOIN_GAP_CHARS,)  # clean-up rules: re-tuning them gained nothing
    min_chars: tuple[int, ...] = (MIN_SPAN_CHARS,)

    def options(self) -> list[Option]:
        return [
            Option(t, c, w, g, m)
            for t in self.thresholds
            for c in self.switch_costs
            for w in self.sentence_weights
            for g in self.join_gaps
            for m in self.min_chars
        ]


@dataclass
class SearchTable:
    """FLC credit of every (technique, option) on every article: ``credit`` [labels, options,
    articles, 3] (precision credit, predicted spans, recall credit), ``gold`` [labels,
    articles] (gold spans)."""

    labels: list[str]
    options: list[Option]
    documents: list[str]
    credit: np.ndarray
    gold: np.ndarray

    def f1(self, choice: Sequence[int], docs: np.ndarray) -> float:
        """Micro FLC F1 over ``docs`` (indices) with option ``choice[j]`` for technique j."""
        picked = self.credit[np.arange(len(self.labels)), list(choice)][:, docs].sum(axis=(0, 1))
        return prf(float(picked[0]), int(picked[1]), float(picked[2]), int(self.gold[:, docs].sum()))[2]

    def choose(
        self, docs: np.ndarray, start: Sequence[int], rounds: int = 1, shared: bool = False
    ) -> list[int]:
        """Coordinate ascent from ``start``: each technique in turn takes the option that
        maximises the micro F1 over ``docs`` with the others fixed (ties keep the current).
        One round by default: more rounds fit the choosing folds better and the scored
        fold worse (docs/DECODING.md).

        ``shared``: one switch cost and sentence weight for every technique (the pair with
        the best F1), thresholds per technique; fewer free choices, less fitting to noise.
        """
        if not shared:
            return self._ascend(docs, start, range(len(self.options)), rounds)
        best: tuple[float, list[int]] | None = None
        for pair in sorted({(o.switch_cost, o.sentence_weight) for o in self.options}):
            allowed = [n for n, o in enumerate(self.options) if (o.switch_cost, o.sentence_weight) == pair]
            begin = [
                min(allowed, key=lambda n: abs(self.options[n].threshold - self.options[s].threshold))
                for s in start
            ]
            choice = self._ascend(docs, begin, allowed, rounds)
            score = self.f1(choice, docs)
            if best is None or score > best[0] + 1e-12:
                best = (score, choice)
        if best is None:
            raise ValueError("the grid has no options")
        return best[1]

    def _ascend(
        self, docs: np.ndarray, start: Sequence[int], allowed: Sequence[int], rounds: int
    ) -> list[int]:
        choice = list(start)
        allowed = list(allowed)
        sums = self.credit[:, :, docs].sum(axis=2)  # [labels, options, 3]
        n_gold = int(self.gold[:, docs].sum())
        for _ in range(rounds):
            changed = False
            for j in range(len(self.labels)):
                rest = sums[np.arange(len(self.labels)), choice].sum(axis=0) - sums[j, choice[j]]
                totals = rest[None, :] + sums[j, allowed]
                scores = [prf(float(t[0]), int(t[1]), float(t[2]), n_gold)[2] for t in totals]
                here = rest + sums[j, choice[j]]
                current = prf(float(here[0]), int(here[1]), float(here[2]), n_gold)[2]
                best = int(np.argmax(scores))
                if scores[best] > current + 1e-12:
                    choice[j], changed = allowed[best], True
            if not changed:
                break
        return choice

    def decoding(self, choice: Sequence[int]) -> Decoding:
        picked = {label: self.options[o] for label, o in zip(self.labels, choice, strict=True)}
        return Decoding(
            thresholds={k: o.threshold for k, o in picked.items()},
            switch_costs={k: o.switch_cost for k, o in picked.items() if o.switch_cost},
            sentence_weights={k: o.sentence_weight for k, o in picked.items() if o.sentence_weight},
            join_gaps={k: o.join_gap for k, o in picked.items() if o.join_gap != JOIN_GAP_CHARS},
            min_chars={k: o.min_chars for k, o in picked.items() if o.min_chars != MIN_SPAN_CHARS},
        )

    def index_of(self, option: Option) -> int:
        return self.options.index(option)


@dataclass
class Sentences:
    """The scored sentences, their network outputs and the gold spans of their articles."""

    frame: pd.DataFrame  # document_id, start (offset of the sentence in its article), text
    inference: Inference
    gold: pd.DataFrame  # document_id, technique, start, end (spans table rows)
    si_gold: pd.DataFrame  # document_id, start, end


def _fragments(
    tagger: TaggerBase, sentences: Sentences, decoding: Decoding, min_confidence: float
) -> list[tuple[str, str, int, int]]:
    """(article, technique, start, end) of every fragment the tagger finds with ``decoding``,
    kept as the analyzer keeps them (confidence at least ``min_confidence``)."""
    tagged = tagger.decode(sentences.inference, decoding=decoding)
    frame = sentences.frame
    return [
        (doc, s.technique, base + s.start, base + s.end)
        for doc, base, t in zip(frame["document_id"], frame["start"], tagged, strict=True)
        for s in t.spans
        if s.confidence >= min_confidence
    ]


def search_table(
    tagger: TaggerBase,
    sentences: Sentences,
    grid: Grid | None = None,
    min_confidence: float = 0.0,
    progress: bool = True,
) -> SearchTable:
    """Decode every technique with every option once and record its FLC credit per article."""
    from tqdm.auto import tqdm

    options = (grid or Grid()).options()
    labels = list(tagger.labels)
    windows, texts = sentences.inference.windows, sentences.inference.texts
    offsets, probs = sentences.inference.token_arrays()
    sentence = sentences.inference.sentence_probs()
    frame = sentences.frame
    docs = sorted(set(frame["document_id"]))
    where = {d: n for n, d in enumerate(docs)}
    credit = np.zeros((len(labels), len(options), len(docs), 3))
    gold = np.zeros((len(labels), len(docs)))
    gold_rows = list(sentences.gold[["document_id", "technique", "start", "end"]].itertuples(index=False))
    for (doc, technique), (_, _, _, n) in flc_credit(gold_rows, []).items():
        if technique in labels:
            gold[labels.index(technique), where[doc]] = n
    steps = tqdm(total=len(labels) * len(options), desc="decoding options", disable=not progress)
    for j, label in enumerate(labels):
        gold_j = [g for g in gold_rows if g[1] == label]
        # options differing only in clean-up rules share one decode (the grid lists them together)
        decoded_key: tuple[float, float, float] | None = None
        merged: dict[int, list[Any]] = {}  # merged spans per text for ``decoded_key``
        for o, option in enumerate(options):
            key = (option.threshold, option.switch_cost, option.sentence_weight)
            if key != decoded_key:
                p = probs[..., j : j + 1]
                if option.sentence_weight and sentence is not None:
                    p = fuse_sentence(p, sentence[:, None, j : j + 1], np.array([option.sentence_weight]))
                decoded = decode_windows(
                    offsets, p, [label], np.array([option.threshold]), np.array([option.switch_cost])
                )
                per_text: dict[int, list[Any]] = defaultdict(list)
                for window, spans in zip(windows, decoded, strict=True):
                    per_text[window["text_index"]] += spans
                decoded_key, merged = key, {i: merge_spans(spans) for i, spans in per_text.items()}
            rules = Decoding(join_gaps={label: option.join_gap}, min_chars={label: option.min_chars})
            pred = [
                (frame["document_id"].iat[i], label, base + s.start, base + s.end)
                for i, spans in merged.items()
                for base in (int(frame["start"].iat[i]),)
                for s in tidy_spans(texts[i], spans, rules)
                if s.confidence >= min_confidence
            ]
            for (doc, _), (dp, n_pred, dr, _) in flc_credit(gold_j, pred).items():
                credit[j, o, where[doc]] = (dp, n_pred, dr)
            steps.update()
    steps.close()
    return SearchTable(labels, options, docs, credit, gold)


@dataclass
class TuningResult:
    """The chosen decoding and how it scores under the protocol."""

    decoding: Decoding
    folds: list[dict[str, Any]] = field(default_factory=list)  # per fold: scores of both decodings
    final: dict[str, dict[str, float]] = field(default_factory=dict)  # on all articles (in-sample)

    def summary(self) -> dict[str, dict[str, tuple[float, float]]]:
        """(mean, sd) over folds of each metric, for ``own`` and ``tuned`` decoding."""
        out: dict[str, dict[str, tuple[float, float]]] = {}
        for which in ("own", "tuned"):
            metrics = self.folds[0][which].keys() if self.folds else []
            out[which] = {
                m: (
                    float(np.mean([f[which][m] for f in self.folds])),
                    float(np.std([f[which][m] for f in self.folds], ddof=1)) if len(self.folds) > 1 else 0.0,
                )
                for m in metrics
            }
        return out

    def flc_gains(self) -> list[float]:
        """Tuned minus own FLC F1 on each held-out fold (both scored on the same articles)."""
        return [f["tuned"]["flc_f1"] - f["own"]["flc_f1"] for f in self.folds]

    def beats_own(self) -> bool:
        """Whether the tuned decoding is better than the model's own under the protocol: a
        decoding that loses on held-out folds must not replace the one the model ships with."""
        gains = self.flc_gains()
        return bool(gains) and float(np.mean(gains)) > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "decoding": self.decoding.to_dict(),
            "folds": self.folds,
            "final": self.final,
            "summary": {k: {m: list(v) for m, v in d.items()} for k, d in self.summary().items()},
        }


def span_scores(fragments: list[tuple[str, str, int, int]], sentences: Sentences) -> dict[str, float]:
    """SI and FLC (P, R, F1) of fragments against the gold spans of the same articles."""
    si = si_scores(
        list(sentences.si_gold[["document_id", "start", "end"]].itertuples(index=False, name=None)),
        [(d, s, e) for d, _, s, e in fragments],
    )
    flc = flc_scores(
        list(sentences.gold[["document_id", "technique", "start", "end"]].itertuples(index=False, name=None)),
        fragments,
    )
    return {
        "si_f1": si["f1"],
        "si_precision": si["precision"],
        "si_recall": si["recall"],
        "flc_f1": flc["f1"],
        "flc_precision": flc["precision"],
        "flc_recall": flc["recall"],
    }


def _subset(sentences: Sentences, docs: set[str]) -> Sentences:
    keep = sentences.frame["document_id"].isin(docs).to_numpy()
    rows = np.flatnonzero(keep)
    index = {int(old): new for new, old in enumerate(rows)}
    windows = [
        w | {"text_index": index[w["text_index"]]}
        for w in sentences.inference.windows
        if keep[w["text_index"]]
    ]
    picked = [k for k, w in enumerate(sentences.inference.windows) if keep[w["text_index"]]]
    outputs = {name: [values[k] for k in picked] for name, values in sentences.inference.outputs.items()}
    inference = Inference([sentences.inference.texts[i] for i in rows], windows, outputs)
    return Sentences(
        sentences.frame.iloc[rows].reset_index(drop=True),
        inference,
        sentences.gold[sentences.gold["document_id"].isin(docs)],
        sentences.si_gold[sentences.si_gold["document_id"].isin(docs)],
    )


def tune(
    tagger: TaggerBase,
    sentences: Sentences,
    groups: Mapping[str, str],
    *,
    k: int = 5,
    seed: int = 13,
    grid: Grid | None = None,
    min_confidence: float = 0.0,
    progress: bool = True,
    shared: bool = False,
    rounds: int = 1,
    table: SearchTable | None = None,
) -> TuningResult:
    """Choose a decoding per fold on the other folds' articles, score both decodings on the
    fold (grouped by ``groups``, the protocol's story groups), then choose on everything."""
    table = table or search_table(tagger, sentences, grid, min_confidence, progress)
    own = tagger.decoding
    default = own.arrays(table.labels, tagger.config.token_threshold)[0]
    start = [
        table.index_of(Option(float(min(table.options, key=lambda o: abs(o.threshold - t)).threshold)))
        for t in default
    ]
    where = {d: n for n, d in enumerate(table.documents)}
    weights = {d: float(max(1, (sentences.gold["document_id"] == d).sum())) for d in table.documents}
    folds: list[Fold] = grouped_folds({d: groups[d] for d in table.documents}, k, seed, weights)
    result = TuningResult(decoding=own)
    for fold in folds:
        train = np.array([where[d] for d in fold.train])
        chosen = table.decoding(table.choose(train, start, rounds=rounds, shared=shared))
        held = _subset(sentences, set(fold.test))
        result.folds.append(
            {
                "fold": fold.index,
                "articles": len(fold.test),
                "documents": list(fold.test),
                "decoding": chosen.to_dict(),  # chosen without this fold
                "own": span_scores(_fragments(tagger, held, own, min_confidence), held),
                "tuned": span_scores(_fragments(tagger, held, chosen, min_confidence), held),
            }
        )
        log.info(
            "fold %d: FLC %.3f -> %.3f",
            fold.index,
            result.folds[-1]["own"]["flc_f1"],
            result.folds[-1]["tuned"]["flc_f1"],
        )
    choice = table.choose(np.arange(len(table.documents)), start, rounds=rounds, shared=shared)
    result.decoding = table.decoding(choice)
    result.final = {
        "own": span_scores(_fragments(tagger, sentences, own, min_confidence), sentences),
        "tuned": span_scores(_fragments(tagger, sentences, result.decoding, min_confidence), sentences),
    }
    return result


def labelled_sentences(tagger: TaggerBase, manifest: Manifest, split: str = "val") -> Sentences:
    """The span-labelled PTC sentences of ``split`` through the network once."""
    from mindlens.evaluation.predictions import span_sentences

    frame = span_sentences(manifest, [PTC], split)
    docs = set(frame["document_id"])
    spans = manifest.table("spans")
    si = manifest.table("si_spans")
    return Sentences(
        frame[["document_id", "start", "text"]].reset_index(drop=True),
        tagger.infer(frame["text"].tolist()),
        spans[spans["document_id"].isin(docs)],
        si[si["document_id"].isin(docs)],
    )


def summary_table(result: TuningResult) -> str:
    """Markdown: the model's own decoding vs the tuned one, grouped CV over the articles'
    stories (mean ± sd), and both on every article (the tuned one in-sample)."""
    summary = result.summary()
    rows = ["| decoding | SI F1 | FLC F1 | FLC P | FLC R |", "|---|---|---|---|---|"]
    for which, name in (("own", "the model's own"), ("tuned", "tuned per technique")):
        cells = [f"{summary[which][m][0]:.3f} ± {summary[which][m][1]:.3f}" for m in ("si_f1", "flc_f1")]
        cells += [f"{summary[which][m][0]:.3f}" for m in ("flc_precision", "flc_recall")]
        rows.append(f"| {name} (grouped {len(result.folds)}-fold) | " + " | ".join(cells) + " |")
    for which, name in (
        ("own", "the model's own, all articles"),
        ("tuned", "tuned, all articles (in-sample)"),
    ):
        final = result.final[which]
        cells = [f"{final[m]:.3f}" for m in ("si_f1", "flc_f1", "flc_precision", "flc_recall")]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    gains = result.flc_gains()
    if len(gains) > 1:
        rows.append(
            f"\nFLC gain on the same folds: {np.mean(gains):+.3f} ± {np.std(gains, ddof=1):.3f} "
            f"(folds better: {sum(g > 0 for g in gains)} of {len(gains)})"
        )
    return "\n".join(rows)


FUSION_WEIGHTS = (0.0, 0.3, 0.6)
CLEANUP = {"join_gaps": (0, JOIN_GAP_CHARS, 60), "min_chars": (MIN_SPAN_CHARS, 10)}


def grid(fusion: bool = False, cleanup: bool = False) -> Grid:
    """The default grid, optionally with sentence-head fusion and the clean-up rules varied."""
    return Grid(
        sentence_weights=FUSION_WEIGHTS if fusion else (0.0,),
        **(CLEANUP if cleanup else {}),
    )
