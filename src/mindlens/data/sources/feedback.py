"""Reviewed user feedback: texts users reported through ``POST /feedback``, labelled by a
reviewer in Label Studio's feedback-review project and pulled by ``mindlens labels
pull-feedback`` (or the ``mindlens_label_sync`` DAG).

Layout: ``<state_dir>/labels/feedback/<content hash>.jsonl`` in the curated JSONL format
(one snapshot, replaced atomically on each pull). A source of its own, not part of
``label_studio``, so the retrain job can train on these examples and score agreement
with them by source name (``feedback:<id>``). Every document is ``train``: the examples
exist to be learned; the fixed evaluation sets of the other sources judge the model.
"""

from __future__ import annotations

from pathlib import Path

from mindlens.config import get_settings
from mindlens.data.sources import curated
from mindlens.data.sources.remote import RemoteFile
from mindlens.paths import LABELS_FEEDBACK, Paths
from mindlens.schema import SourceData

NAME = "feedback"
FOLDER = Paths(Path()).labels_feedback.as_posix()  # relative to the state directory, not the data directory
REMOTE: tuple[RemoteFile, ...] = ()  # produced locally: nothing to fetch
ORIGIN = LABELS_FEEDBACK
EXTRA_KEYS = frozenset({"origin"})

__all__ = ["NAME", "FOLDER", "REMOTE", "load", "default_folder"]


def default_folder() -> Path:
    return get_settings().paths.labels_feedback


def load(data_dir: Path | None = None, folder: Path | None = None) -> SourceData:
    """Every reviewed feedback record (``data_dir`` is unused); none before the first pull."""
    records = curated.read_folder(default_folder() if folder is None else Path(folder), EXTRA_KEYS)
    for record in records:
        declared = record.extra.get("origin", ORIGIN)
        if declared != ORIGIN:
            raise ValueError(f"{record.where}: origin {declared!r} is not {ORIGIN!r}")
    return curated.to_source_data(NAME, ((r.id, r) for r in records), native_split=True)
