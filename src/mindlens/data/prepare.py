"""The ``data`` pipeline stage: raw sources in, processed dataset and manifest out."""

from __future__ import annotations

from mindlens.config import Settings
from mindlens.data import ptc
from mindlens.data.dataset import Manifest, sentence_table, split_documents, write_dataset


def prepare_dataset(settings: Settings, max_articles: int | None = None) -> Manifest:
    """Read PTC, split by article, write ``<state_dir>/data/sentences.parquet``."""
    limit = max_articles if max_articles is not None else settings.data.max_articles
    documents, spans = ptc.load_train(settings.data_dir, max_articles=limit)
    splits = split_documents([d.id for d in documents], settings.data.val_fraction,
                             settings.data.seed)
    frame = sentence_table(documents, spans, splits)
    return write_dataset(frame, settings.processed_dir)
