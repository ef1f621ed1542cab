"""Counts a researcher checks first: per source, per split, per technique (and a chart)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mindlens import taxonomy
from mindlens.data.dataset import Manifest


def document_counts(manifest: Manifest) -> pd.DataFrame:
    """Documents per source (rows) and split (columns)."""
    docs = manifest.table("documents")
    return docs.pivot_table(
        index="source", columns="split", values="document_id", aggfunc="count", fill_value=0
    )


def label_counts(manifest: Manifest) -> pd.DataFrame:
    """Spans plus whole-document labels per technique (rows) and source (columns)."""
    frames = [manifest.table(name)[["source", "technique"]] for name in ("spans", "doc_labels")]
    labels = pd.concat(frames, ignore_index=True)
    table = labels.pivot_table(index="technique", columns="source", aggfunc="size", fill_value=0)
    return table.reindex([t for t in taxonomy.TECHNIQUE_IDS if t in table.index])


def label_chart(manifest: Manifest, path: Path) -> Path:
    """Horizontal stacked bars of label counts per technique, one colour per source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = label_counts(manifest)
    counts.index = [taxonomy.technique(t).name for t in counts.index]
    ax = counts.iloc[::-1].plot.barh(stacked=True, figsize=(9, 0.33 * len(counts) + 1.5))
    ax.set_xlabel("labels (spans + document labels)")
    ax.set_title("MindLens training data per technique and source")
    fig = ax.get_figure()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
