"""Model predictions on the processed dataset, as tables that metrics and error analysis read.

``sentence_predictions`` gives one row per sentence of the span-labelled
sources: gold and predicted techniques and one probability column per label
(``p__<technique>``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mindlens.config import Settings
from mindlens.data.dataset import Manifest
from mindlens.models.analyzer import Analyzer

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


def sentence_predictions(analyzer: Analyzer, manifest: Manifest, settings: Settings,
                         split: str = "val", threshold: float | None = None) -> pd.DataFrame:
    """Gold vs predicted techniques for every span-labelled sentence of ``split``, with the
    fragments found in it (``fragments``: (start, end, technique, confidence) in document
    offsets)."""
    frame = span_sentences(manifest, settings.train.baseline.sources, split)
    labels = analyzer.sentence_labels
    threshold = analyzer.min_confidence if threshold is None else threshold
    probs, fragments = analyzer.tag_sentences(frame["text"].tolist(), threshold)
    known = set(labels)
    out = frame[["document_id", "source", "split", "sentence_index", "start", "end", "text"]].copy()
    out["gold"] = [[t for t in gold if t in known] for gold in frame["labels"]]
    out["pred"] = [[labels[j] for j in np.flatnonzero(row >= threshold)] for row in probs]
    out["fragments"] = [[(base + f.start, base + f.end, f.technique, f.confidence) for f in found
                         if f.confidence >= threshold]
                        for base, found in zip(frame["start"], fragments)]
    probs_frame = pd.DataFrame(probs, columns=prob_columns(labels), index=out.index)
    return pd.concat([out, probs_frame], axis=1)


def document_predictions(analyzer: Analyzer, manifest: Manifest, sources: Sequence[str],
                         split: str = "val") -> pd.DataFrame:
    """Whole-document gold labels vs the analyzer's document scores for ``sources``."""
    docs = manifest.table("documents")
    docs = docs[docs["source"].isin(sources) & (docs["split"] == split)].reset_index(drop=True)
    labels = manifest.table("doc_labels")
    gold = labels.groupby("document_id")["technique"].agg(list).to_dict()
    rows = []
    for doc in docs.itertuples(index=False):
        scores = analyzer.document_scores(doc.text)
        rows.append({"document_id": doc.document_id, "source": doc.source, "text": doc.text,
                     "gold": sorted(gold.get(doc.document_id, [])), "scores": scores})
    return pd.DataFrame(rows, columns=["document_id", "source", "text", "gold", "scores"])
