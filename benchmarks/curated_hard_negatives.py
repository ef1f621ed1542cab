"""Hard-negative false alarms beside every CPU candidate, on the fixed curated test part.

Fits the TF-IDF candidates of ``configs/default.yaml`` (``tfidf``: PTC only;
``tfidf-curated``: PTC plus the curated train part) on the prepared dataset, optionally
loads saved bundles (the shipped tagger), and prints one Markdown row per candidate:
the share of curated test hard negatives with a flagged sentence and with a fragment,
curated test micro-F1, and PTC ``val`` sentence micro-F1 and FLC F1. Comparing two
versions of ``data/curated/`` means preparing each into its own state dir
(``data/curated/README.md`` gives the commands).

    mindlens data prepare && python benchmarks/curated_hard_negatives.py [--bundle models/v2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest
from mindlens.evaluation.evaluate import evaluate_analyzer
from mindlens.models.analyzer import Analyzer
from mindlens.training.baseline import fit_analyzer

CANDIDATES = {"tfidf": {"sources": ["ptc"]}, "tfidf-curated": {"sources": ["ptc", "curated"]}}
COLUMNS = (
    ("hard-neg FP rate", "curated_test_hard_negative_fp_rate"),
    ("hard-neg fragment rate", "curated_test_hard_negative_fragment_rate"),
    ("curated test micro-F1", "curated_test_micro_f1"),
    ("PTC val micro-F1", "val_micro_f1"),
    ("PTC val FLC F1", "val_flc_f1"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, action="append", default=[], help="also evaluate a bundle")
    parser.add_argument("--only", action="append", choices=sorted(CANDIDATES), help="candidates to fit")
    args = parser.parse_args()
    settings = get_settings()
    manifest = Manifest.read(settings.processed_dir)
    docs = manifest.table("documents")
    curated = docs[docs["source"] == "curated"]
    print(
        f"curated: {int((curated['split'] == 'train').sum())} train "
        f"({int((curated['hard_negative'] & (curated['split'] == 'train')).sum())} hard negatives), "
        f"{int((curated['split'] == 'test').sum())} test "
        f"({int((curated['hard_negative'] & (curated['split'] == 'test')).sum())} hard negatives)\n"
    )
    analyzers: dict[str, Analyzer] = {str(b): Analyzer.load(b) for b in args.bundle}
    for name in args.only or CANDIDATES:
        analyzers[name] = fit_analyzer(manifest, settings, CANDIDATES[name])
    print("| candidate | " + " | ".join(c for c, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for name, analyzer in analyzers.items():
        metrics = evaluate_analyzer(analyzer, manifest, settings, "val").metrics
        cells = (f"{metrics[key]:.3f}" if key in metrics else "n/a" for _, key in COLUMNS)
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
