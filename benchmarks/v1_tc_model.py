"""V1 with the TC model that reads the article, on the validation articles neither saw.

Fits the TC model on the processed dataset's ``train`` split (the articles V1 trained on),
attaches it to a copy of the V1 bundle (what ``mindlens registry attach-tc-model`` does)
and prints TC micro/macro-F1 on the PTC ``val`` spans for V1's own TC head and for the
attached model, with the dataset's content hash (docs/TC_MODEL.md quotes this output).

    mindlens data prepare && python benchmarks/v1_tc_model.py [--bundle models/v1]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.predictions import tc_span_items
from mindlens.evaluation.spans import tc_scores
from mindlens.models.analyzer import Analyzer
from mindlens.training.tc_context import attach_tc_model, fit_tc_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("models/v1"))
    args = parser.parse_args()
    manifest = Manifest.read(get_settings().processed_dir)
    texts = manifest.texts()
    spans = manifest.table("spans")
    spans = spans[(spans["split"] == "val") & (spans["source"] == "ptc")]
    v1 = Analyzer.load(args.bundle)
    with tempfile.TemporaryDirectory() as tmp:
        with_tc = Analyzer.load(attach_tc_model(args.bundle, Path(tmp), fit_tc_model(manifest, ("train",))))
    gold = list(spans[["document_id", "start", "end", "technique"]].itertuples(index=False, name=None))
    items, contexts = tc_span_items(manifest, spans)
    head_labels, head_probs = v1.classify_spans(items, contexts if v1.reads_context else None)
    tc_labels, tc_probs = with_tc.classify_fragments([(texts[d], s, e) for d, s, e, _ in gold])
    print(f"data {manifest.content_hash[:12]}, {len(gold)} val spans")
    for name, labels, probs in (
        ("V1 TC head", head_labels, head_probs),
        ("V1 + TC model", tc_labels, tc_probs),
    ):
        predicted = [(d, s, e, labels[j]) for (d, s, e, _), j in zip(gold, probs.argmax(axis=1), strict=True)]
        scores = tc_scores(gold, predicted)
        print(f"{name:<14} TC micro-F1 {scores['micro_f1']:.3f}  macro-F1 {scores['macro_f1']:.3f}")


if __name__ == "__main__":
    main()
