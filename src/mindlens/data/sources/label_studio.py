"""Labels exported from Label Studio, already converted to the curated JSONL format.

Layout: ``<labels_dir>/{curated,feedback}/*.jsonl`` (default ``<state_dir>/labels``).
``curated`` holds relabelled curated examples and is read here, with the origin kept in
the document id (``label_studio:curated/<id>``); ``feedback`` holds reviewed user
feedback and is read by the ``feedback`` source (so the retrain job can find those
examples by source name, and no text is read twice). Parsing and validation are
``curated``'s; a record may carry an ``origin`` field, which must match its folder.
Missing folders read as no documents.
"""

from __future__ import annotations

from pathlib import Path

from mindlens.config import get_settings
from mindlens.data.sources import curated
from mindlens.data.sources.remote import RemoteFile
from mindlens.paths import LABELS_CURATED, LABELS_FEEDBACK, Paths
from mindlens.schema import SourceData

NAME = "label_studio"
FOLDER = Paths(Path()).labels.as_posix()  # relative to the state directory, not the data directory
REMOTE: tuple[RemoteFile, ...] = ()  # produced locally: nothing to fetch
ORIGINS = (LABELS_CURATED, LABELS_FEEDBACK)  # the folders a pull may write
READ_ORIGINS = (LABELS_CURATED,)  # the folders this source reads (feedback: its own source)
EXTRA_KEYS = frozenset({"origin"})

__all__ = ["NAME", "FOLDER", "REMOTE", "ORIGINS", "load", "default_labels_dir"]


def default_labels_dir() -> Path:
    return get_settings().paths.labels


def load(data_dir: Path | None = None, labels_dir: Path | None = None) -> SourceData:
    """Every exported record, ids ``<origin>/<record id>`` (``data_dir`` is unused)."""
    root = default_labels_dir() if labels_dir is None else Path(labels_dir)
    pairs: list[tuple[str, curated.Record]] = []
    for origin in READ_ORIGINS:
        for record in curated.read_folder(root / origin, EXTRA_KEYS):
            declared = record.extra.get("origin", origin)
            if declared != origin:
                raise ValueError(f"{record.where}: origin {declared!r} does not match its folder {origin!r}")
            pairs.append((f"{origin}/{record.id}", record))
    return curated.to_source_data(NAME, pairs)
