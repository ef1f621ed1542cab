"""The ``data prepare`` stage: every configured source in, processed tables and manifest out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tqdm import tqdm

from mindlens.config import Settings
from mindlens.data.dataset import Manifest, build_tables, write_dataset
from mindlens.data.sources import get_source
from mindlens.schema import SourceData

log = logging.getLogger(__name__)


def load_sources(settings: Settings, names: Sequence[str] | None = None) -> list[SourceData]:
    loaded = []
    for name in tqdm(names or settings.data.sources, desc="reading sources", unit="source"):
        data = get_source(name).load(settings.data_dir)
        log.info(
            "%s: %d documents, %d spans, %d document labels",
            name,
            len(data.documents),
            len(data.spans),
            len(data.labels),
        )
        loaded.append(data)
    return loaded


def prepare_dataset(
    settings: Settings, max_documents: int | None = None, sources: Sequence[str] | None = None
) -> Manifest:
    """Read the sources, split by document, write ``<state_dir>/data/*.parquet``."""
    cap = max_documents if max_documents is not None else settings.data.max_documents
    loaded = load_sources(settings, sources)
    tables = build_tables(loaded, settings.data.val_fraction, settings.data.seed, max_documents=cap)
    return write_dataset(
        tables,
        settings.paths.processed_data,
        max_documents=cap,
        label_spaces={d.name: list(d.label_space) for d in loaded},
    )
