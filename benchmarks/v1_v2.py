"""V1 → V2 beside the TF-IDF baseline, every metric, with the protocol's ± sd.

The three models are scored on the same PTC ``val`` articles, in grouped folds over their
stories (the protocol's groups, 5 folds): mean ± sd over folds. Every model trained on the
``train`` split only (V1's network, V2's TC model, the TF-IDF candidate fitted here), so no
val article was seen in training; V2's fragment decoding for each fold is the one chosen on
the *other* folds (``tune_decoding``), never on the fold it is scored on. The whole-split
figures of the other sources (memes, LOGIC, clickbait, curated) come from each model's full
evaluation, once. Prints Markdown (the README's V1 → V2 table is this output).

    mindlens data prepare && python benchmarks/v1_v2.py [--v1 models/v1] [--v2 models/v2]
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import numpy as np

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.evaluate import evaluate_analyzer
from mindlens.models.analyzer import Analyzer
from mindlens.training.baseline import fit_analyzer
from mindlens.validation import protocol, tune_decoding

FOLD_METRICS = ["si_f1", "tc_micro_f1", "tc_macro_f1", "flc_f1", "micro_f1", "macro_f1", "slc_f1", "ece"]
WHOLE_METRICS = ["semeval2021_micro_f1", "logic_micro_f1", "clickbait_f1"]
CURATED = [
    "curated_test_micro_f1",
    "curated_test_hard_negative_fp_rate",
    "curated_test_hard_negative_fragment_rate",
]


def with_decoding(analyzer: Analyzer, decoding: dict[str, Any]) -> Analyzer:
    """A copy of the analyzer whose span model decodes with ``decoding``."""
    changed = copy.copy(analyzer)
    changed.span_model = copy.copy(analyzer.require_span_model())
    changed.span_model.config = copy.deepcopy(analyzer.require_span_model().config)
    changed.span_model.config.decoding = decoding
    return changed


def serving_cost(models: dict[str, Analyzer], manifest: Manifest, rounds: int = 3) -> str:
    """p50 of ``analyze`` per PTC test article for each model, measured in alternating rounds of
    one run (absolute times depend on the machine and its load; the ratio is the figure)."""
    import time

    docs = manifest.table("documents")
    texts = docs[(docs["source"] == "ptc") & (docs["split"] == "unlabelled")]["text"].head(20).tolist()
    timings: dict[str, list[float]] = {name: [] for name in models}
    for analyzer in models.values():
        analyzer.analyze(texts[0])  # warm-up
    for _ in range(rounds):
        for name, analyzer in models.items():
            for text in texts:
                started = time.perf_counter()
                analyzer.analyze(text)
                timings[name].append((time.perf_counter() - started) * 1000)
    p50 = {name: float(np.percentile(t, 50)) for name, t in timings.items()}
    return ", ".join(f"{name} {ms:.0f} ms" for name, ms in p50.items()) + (
        f"; V2 / V1 = {p50['V2'] / p50['V1']:.2f}" if "V1" in p50 and "V2" in p50 else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v1", type=Path, default=Path("models/v1"))
    parser.add_argument("--v2", type=Path, default=Path("models/v2"))
    args = parser.parse_args()
    settings = get_settings()
    manifest = Manifest.read(settings.processed_dir)
    models = {
        "TF-IDF": fit_analyzer(manifest, settings),
        "V1": Analyzer.load(args.v1),
        "V2": Analyzer.load(args.v2),
    }
    v2 = models["V2"]
    tagger = with_decoding(v2, {}).require_span_model()  # V1's decoding: the tuning starts from it
    sentences = tune_decoding.labelled_sentences(tagger, manifest, "val")
    groups = protocol.ptc_groups(manifest, settings)
    tuning = tune_decoding.tune(
        tagger,
        sentences,
        groups,
        k=settings.protocol.k,
        seed=settings.protocol.seed,
        min_confidence=v2.min_confidence,
        progress=False,
    )
    per_fold: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    for fold in tuning.folds:
        for name, analyzer in models.items():
            scored = with_decoding(analyzer, fold["decoding"]) if name == "V2" else analyzer
            result = evaluate_analyzer(scored, manifest, settings, "val", documents=fold["documents"])
            per_fold[name].append({k.removeprefix("val_"): v for k, v in result.metrics.items()})
    whole = {name: evaluate_analyzer(a, manifest, settings, "val").metrics for name, a in models.items()}
    print(
        f"data {manifest.content_hash[:12]}; {sum(f['articles'] for f in tuning.folds)} val articles in "
        f"{len(tuning.folds)} story-grouped folds (mean ± sd over folds; V2's decoding per fold chosen on the others)\n"
    )
    names = list(models)
    print("| metric | " + " | ".join(names) + " | V2 − V1 (paired, same folds) |")
    print("|---|" + "---|" * (len(names) + 1))
    for metric in FOLD_METRICS:
        cells = []
        for name in names:
            values = [f[metric] for f in per_fold[name] if metric in f]
            cells.append(f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}" if values else "–")
        diffs = [
            b[metric] - a[metric]
            for a, b in zip(per_fold["V1"], per_fold["V2"], strict=True)
            if metric in a and metric in b
        ]
        diff = f"{np.mean(diffs):+.3f} ± {np.std(diffs, ddof=1):.3f}" if diffs else "–"
        print(f"| {metric} (PTC val folds) | " + " | ".join(cells) + f" | {diff} |")
    for metric in WHOLE_METRICS + CURATED:
        key = metric if metric.startswith("curated_") else f"val_{metric}"
        cells = [
            (f"{whole[n][key]:.0f}" if metric.endswith("_ms") else f"{whole[n][key]:.3f}")
            if key in whole[n]
            else "–"
            for n in names
        ]
        print(f"| {metric} (whole split) | " + " | ".join(cells) + " | |")
    print(
        f"\nanalyze p50 per PTC test article, {len(names)} models in alternating rounds: {serving_cost(models, manifest)}"
    )


if __name__ == "__main__":
    main()
