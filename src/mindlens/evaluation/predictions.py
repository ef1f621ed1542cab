"""Model predictions on the processed dataset, as tables that metrics and error analysis read.

``sentence_predictions`` gives one row per sentence of the span-labelled
sources: gold and predicted techniques and one probability column per label
(``p__<technique>``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.models.analyzer import Analyzer
from mindlens.models.windows import Context

PROB_PREFIX = "p__"


def prob_columns(labels: Sequence[str]) -> list[str]:
    return [f"{PROB_PREFIX}{label}" for label in labels]


def span_sentences(manifest: Manifest, sources: Sequence[str], split: str | None = None) -> pd.DataFrame:
    """Sentences with span labels from ``sources`` (optionally one split)."""
    frame = manifest.table("sentences")
    keep = frame["source"].isin(sources) & frame["span_labelled"]
    if split is not None:
        keep &= frame["split"] == split
    return frame[keep].reset_index(drop=True)


def sentence_contexts(manifest: Manifest, frame: pd.DataFrame) -> list[Context]:
    """(previous, next) sentence of each row of a sentences frame, from the whole sentences
    table (a context model reads a sentence with its neighbours, labelled or not)."""
    table = manifest.table("sentences")
    table = table[table["document_id"].isin(set(frame["document_id"]))]
    text = dict(
        zip(zip(table["document_id"], table["sentence_index"], strict=False), table["text"], strict=False)
    )
    return [
        (text.get((d, i - 1), ""), text.get((d, i + 1), ""))
        for d, i in zip(frame["document_id"], frame["sentence_index"], strict=False)
    ]


def span_in_sentences(
    text: str, bounds: Sequence[tuple[int, int]], start: int, end: int
) -> tuple[tuple[str, int, int], Context]:
    """A span in its context for TC: the text of the sentences holding it (``bounds``:
    sorted sentence offsets into ``text``), the span's offsets in that text, and the
    sentences around them."""
    starts = [b[0] for b in bounds]
    first = max(0, bisect_right(starts, start) - 1)
    last = max(first, bisect_right(starts, end - 1) - 1)
    lo = min(start, bounds[first][0]) if bounds else start
    hi = max(end, bounds[last][1]) if bounds else end
    prev = text[slice(*bounds[first - 1])] if bounds and first > 0 else ""
    nxt = text[slice(*bounds[last + 1])] if last + 1 < len(bounds) else ""
    return (text[lo:hi], start - lo, end - lo), (prev, nxt)


def tc_span_items(
    manifest: Manifest, spans: pd.DataFrame
) -> tuple[list[tuple[str, int, int]], list[Context]]:
    """Each gold span (rows of the spans table) in the sentences that hold it, for TC."""
    texts = manifest.texts()
    sentences = manifest.table("sentences")
    sentences = sentences[sentences["document_id"].isin(set(spans["document_id"]))]
    bounds = {
        doc: list(zip(group["start"], group["end"], strict=False))
        for doc, group in sentences.sort_values(["document_id", "start"]).groupby("document_id")
    }
    items, contexts = [], []
    for doc, start, end in spans[["document_id", "start", "end"]].itertuples(index=False):
        item, context = span_in_sentences(texts[doc], bounds.get(doc, []), int(start), int(end))
        items.append(item)
        contexts.append(context)
    return items, contexts


def sentence_predictions(
    analyzer: Analyzer,
    manifest: Manifest,
    settings: Settings,
    split: str = "val",
    threshold: float | None = None,
    documents: Collection[str] | None = None,
) -> pd.DataFrame:
    """Gold vs predicted techniques for every span-labelled sentence of ``split`` (of
    ``documents`` only, when given), with the fragments found in it (``fragments``: (start,
    end, technique, confidence) in document offsets)."""
    frame = span_sentences(manifest, settings.train.baseline.sources, split)
    if documents is not None:
        frame = frame[frame["document_id"].isin(set(documents))].reset_index(drop=True)
    labels = analyzer.sentence_labels
    threshold = analyzer.min_confidence if threshold is None else threshold
    contexts = sentence_contexts(manifest, frame) if analyzer.reads_context else None
    probs, fragments = analyzer.tag_sentences(frame["text"].tolist(), threshold, contexts)
    known = set(labels)
    out = frame[["document_id", "source", "split", "sentence_index", "start", "end", "text"]].copy()
    out["gold"] = [[t for t in gold if t in known] for gold in frame["labels"]]
    out["pred"] = [[labels[j] for j in np.flatnonzero(row >= threshold)] for row in probs]
    out["fragments"] = [
        [
            (base + f.start, base + f.end, f.technique, f.confidence)
            for f in found
            if f.confidence >= threshold
        ]
        for base, found in zip(frame["start"], fragments, strict=False)
    ]
    probs_frame = pd.DataFrame(probs, columns=prob_columns(labels), index=out.index)
    return pd.concat([out, probs_frame], axis=1)


def document_predictions(
    analyzer: Analyzer, manifest: Manifest, sources: Sequence[str], split: str = "val"
) -> pd.DataFrame:
    """Whole-document gold labels vs the analyzer's document scores for ``sources``."""
    docs = manifest.table("documents")
    docs = docs[docs["source"].isin(sources) & (docs["split"] == split)].reset_index(drop=True)
    labels = manifest.table("doc_labels")
    gold = labels.groupby("document_id")["technique"].agg(list).to_dict()
    rows = []
    for doc in docs.itertuples(index=False):
        scores = analyzer.document_scores(doc.text)
        rows.append(
            {
                "document_id": doc.document_id,
                "source": doc.source,
                "text": doc.text,
                "gold": sorted(gold.get(doc.document_id, [])),
                "scores": scores,
            }
        )
    return pd.DataFrame(rows, columns=["document_id", "source", "text", "gold", "scores"])
