"""Fit the TC model that reads the article (``models.tc_context``) on the processed dataset
and attach it to an analyzer bundle, where it becomes the bundle's technique classifier
(PTC TC predictions, evaluation, and each fragment's ``tc_confidence``).

Only the given splits are read, so a model attached to V1 can be fitted on V1's own
training part and scored honestly on the validation part V1 never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mindlens.data.dataset import Manifest
from mindlens.models.analyzer import Analyzer
from mindlens.models.tc_context import TCContextClassifier
from mindlens.training.release import derive_bundle


def tc_examples(
    manifest: Manifest, splits: Sequence[str] = ("train",), sources: Sequence[str] = ("ptc",)
) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Every gold technique span of these splits and sources as (document text, start, end)
    with its technique."""
    texts = manifest.texts()
    spans = manifest.table("spans")
    spans = spans[spans["split"].isin(splits) & spans["source"].isin(sources)]
    examples = [
        (texts[d], int(s), int(e))
        for d, s, e in spans[["document_id", "start", "end"]].itertuples(index=False)
    ]
    return examples, spans["technique"].tolist()


def fit_tc_model(
    manifest: Manifest,
    splits: Sequence[str] = ("train",),
    sources: Sequence[str] = ("ptc",),
    **params: Any,
) -> TCContextClassifier:
    """A TC model fitted on the gold spans of ``splits`` (its defaults unless ``params``)."""
    examples, labels = tc_examples(manifest, splits, sources)
    if not examples:
        raise ValueError(f"no gold technique spans in splits {list(splits)} of sources {list(sources)}")
    return TCContextClassifier(**params).fit(examples, labels)


def attach_tc_model(bundle: Path, out: Path, model: TCContextClassifier) -> Path:
    """Copy the analyzer bundle at ``bundle`` to ``out`` with ``model`` as its TC model."""

    def attach(analyzer: Analyzer) -> None:
        analyzer.tc_model = model

    return derive_bundle(bundle, out, attach)
