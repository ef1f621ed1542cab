"""Stop Clickbait (Chakraborty et al. 2016): news headlines, clickbait or not.

Layout under ``<data_dir>/stop-clickbait/dataset``: ``clickbait_data.gz`` and
``non_clickbait_data.gz``, gzip UTF-8, each headline followed by a blank line.
Each headline is one document (text and title both the headline); clickbait ones
carry a ``clickbait`` document label. There is no official split, so every
document is ``train`` and the pipeline draws a seeded split stratified by the
document labels (``stratify_key`` gives the same stratum per document).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from mindlens import taxonomy
from mindlens.data.sources.base import lazy_remote, require_dir
from mindlens.schema import Document, DocumentLabel, SourceData, document_id

NAME = "clickbait"
FOLDER = "stop-clickbait"
FILES = {"cb": "clickbait_data.gz", "ncb": "non_clickbait_data.gz"}  # id prefix -> file
TECHNIQUE = taxonomy.map_label(NAME, "clickbait")

__all__ = ["NAME", "FOLDER", "load", "read_headlines", "stratify_key"]


__getattr__ = lazy_remote(NAME, __name__)


def read_headlines(path: Path) -> Iterator[str]:
    """The non-blank lines of a gzip headline file, stripped, in file order."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for line in handle:
            headline = line.strip()
            if headline:
                yield headline


def stratify_key(doc: Document) -> str:
    """The class of a headline from its id (``cb-*`` clickbait, ``ncb-*`` not)."""
    return "clickbait" if doc.native_id.startswith("cb-") else "not_clickbait"


def load(data_dir: Path) -> SourceData:
    """Every headline as a ``train`` document; ids ``cb-<n>`` / ``ncb-<n>`` (0-based, file order)."""
    root = require_dir(Path(data_dir) / FOLDER / "dataset", "Stop Clickbait")
    documents: list[Document] = []
    labels: list[DocumentLabel] = []
    for prefix, filename in FILES.items():
        for n, headline in enumerate(read_headlines(root / filename)):
            doc_id = document_id(NAME, f"{prefix}-{n}")
            documents.append(Document(id=doc_id, source=NAME, text=headline, title=headline, split="train"))
            if prefix == "cb":
                labels.append(DocumentLabel(doc_id, TECHNIQUE))
    return SourceData(
        name=NAME,
        documents=documents,
        labels=labels,
        label_space=(TECHNIQUE,),
        granularity="document",
        native_split=False,
    )
