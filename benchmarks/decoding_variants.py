"""Which decoding levers pay under the protocol: per-technique thresholds, Viterbi switch
costs, sentence-head fusion, one shared cost or one per technique, one or three rounds.

Runs a bundle's network once over the PTC ``val`` sentences (articles it never trained
on), decodes every technique with every option of the widest grid once, then scores each
variant by grouped 5-fold cross-validation over the val articles' story groups (decoding
chosen on four folds, scored on the fifth) against the bundle's own decoding on the same
folds. Prints a Markdown table (docs/DECODING.md quotes it).

    mindlens data prepare && python benchmarks/decoding_variants.py [--bundle models/v1]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mindlens.config import get_settings
from mindlens.data.dataset import Manifest
from mindlens.models.analyzer import Analyzer
from mindlens.validation import protocol, tune_decoding
from mindlens.validation.tune_decoding import Option, SearchTable

# Two credit tables: the network-side levers with fixed clean-up rules, and the clean-up
# rules varied without fusion (all five at once would take four times as long).
GRIDS = {"fusion": tune_decoding.grid(fusion=True), "cleanup": tune_decoding.grid(cleanup=True)}
VARIANTS: dict[str, tuple[str, Callable[[Option], bool]]] = {
    "thresholds": ("fusion", lambda o: o.switch_cost == 0 and o.sentence_weight == 0),
    "thresholds + switch cost": ("fusion", lambda o: o.sentence_weight == 0),
    "thresholds + switch cost + fusion": ("fusion", lambda o: True),
    "thresholds + switch cost + clean-up rules": ("cleanup", lambda o: True),
}


def restricted(table: SearchTable, keep: Callable[[Option], bool]) -> SearchTable:
    """The same credit table over a subset of the options."""
    picked = [n for n, o in enumerate(table.options) if keep(o)]
    return SearchTable(
        table.labels, [table.options[n] for n in picked], table.documents, table.credit[:, picked], table.gold
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("models/v1"))
    args = parser.parse_args()
    settings = get_settings()
    manifest = Manifest.read(settings.processed_dir)
    analyzer = Analyzer.load(args.bundle)
    tagger = analyzer.require_span_model()
    sentences = tune_decoding.labelled_sentences(tagger, manifest, "val")
    groups = protocol.ptc_groups(manifest, settings)
    tables = {
        name: tune_decoding.search_table(tagger, sentences, grid, min_confidence=analyzer.min_confidence)
        for name, grid in GRIDS.items()
    }
    print(
        f"data {manifest.content_hash[:12]}, {len(sentences.frame['document_id'].unique())} val articles, bundle {args.bundle}\n"
    )
    print(
        "| options per technique | cost | rounds | FLC F1 (mean ± sd) | SI F1 | FLC gain vs own | folds better |"
    )
    print("|---|---|---|---|---|---|---|")
    own = None
    for name, (table_name, keep) in VARIANTS.items():
        for shared in (False, True):
            if shared and name == "thresholds":
                continue  # no cost or weight to share
            for rounds in (1, 3):
                result = tune_decoding.tune(
                    tagger,
                    sentences,
                    groups,
                    min_confidence=analyzer.min_confidence,
                    shared=shared,
                    rounds=rounds,
                    table=restricted(tables[table_name], keep),
                )
                summary = result.summary()
                own = own or summary["own"]
                gains = [f["tuned"]["flc_f1"] - f["own"]["flc_f1"] for f in result.folds]
                flc, si = summary["tuned"]["flc_f1"], summary["tuned"]["si_f1"]
                print(
                    f"| {name} | {'shared' if shared else 'per technique'} | {rounds} | "
                    f"{flc[0]:.3f} ± {flc[1]:.3f} | {si[0]:.3f} ± {si[1]:.3f} | "
                    f"{np.mean(gains):+.3f} ± {np.std(gains, ddof=1):.3f} | {sum(g > 0 for g in gains)}/{len(gains)} |"
                )
    if own is not None:
        print(
            f"| the bundle's own decoding | – | – | {own['flc_f1'][0]:.3f} ± {own['flc_f1'][1]:.3f} | "
            f"{own['si_f1'][0]:.3f} ± {own['si_f1'][1]:.3f} | – | – |"
        )


if __name__ == "__main__":
    main()
