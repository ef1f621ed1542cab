"""LOGIC and LOGICCLIMATE (Jin et al. 2022): sentences labelled with logical fallacies.

Layout under ``<data_dir>/logic-fallacy-jin2022/data``: ``edu_{train,dev}.csv``
(text ``source_article``, label ``updated_label``) and ``climate_{train,dev}.csv``
(text ``source_article``, labels ``logical_fallacies``, comma-separated). Texts may
span several lines inside quotes, so the csv module reads them. ``train`` stays
``train`` and ``dev`` becomes ``val``; the test files are held out.

Some climate rows have an empty text (the article could not be quoted); a label
without text teaches nothing, so those rows are skipped with a warning.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from mindlens import taxonomy
from mindlens.data.sources.base import lazy_remote, require_dir
from mindlens.schema import Document, DocumentLabel, SourceData, document_id

NAME = "logic"
FOLDER = "logic-fallacy-jin2022"
TEXT_COLUMN = "source_article"
LABEL_COLUMNS = {"edu": "updated_label", "climate": "logical_fallacies"}
SPLITS = {"train": "train", "dev": "val"}  # file suffix -> MindLens split

log = logging.getLogger(__name__)

__all__ = ["NAME", "FOLDER", "load", "read_csv", "parse_labels", "CsvPart"]


__getattr__ = lazy_remote(NAME, __name__)


@dataclass
class CsvPart:
    """What one CSV file contributes (``rows`` counts every data row read)."""

    documents: list[Document]
    labels: list[DocumentLabel]
    rows: int
    skipped_empty: int


def parse_labels(value: str) -> list[str]:
    """Mapped techniques of a label cell (comma-separated, whitespace ignored, deduplicated)."""
    names = [part.strip() for part in value.split(",")]
    return list(dict.fromkeys(taxonomy.map_label(NAME, n) for n in names if n))


def read_csv(path: Path, subset: str, part: str, split: str) -> CsvPart:
    """One file; native ids ``<subset>-<part>-<row>`` with ``row`` the 0-based data row."""
    label_column = LABEL_COLUMNS[subset]
    documents: list[Document] = []
    labels: list[DocumentLabel] = []
    skipped = rows = 0
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {TEXT_COLUMN, label_column} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        for row_no, row in enumerate(reader):
            rows += 1
            text = row[TEXT_COLUMN] or ""
            if not text.strip():
                skipped += 1
                log.debug("%s: row %d has no text; skipped", path.name, row_no)
                continue
            doc_id = document_id(NAME, f"{subset}-{part}-{row_no}")
            documents.append(Document(id=doc_id, source=NAME, text=text, title="", split=split))
            labels += [DocumentLabel(doc_id, t) for t in parse_labels(row[label_column] or "")]
    return CsvPart(documents, labels, rows, skipped)


def load(data_dir: Path) -> SourceData:
    """Edu and climate train (``train``) and dev (``val``) sentences with fallacy labels."""
    root = require_dir(Path(data_dir) / FOLDER / "data", "LOGIC")
    documents: list[Document] = []
    labels: list[DocumentLabel] = []
    for subset in LABEL_COLUMNS:
        for part, split in SPLITS.items():
            result = read_csv(root / f"{subset}_{part}.csv", subset, part, split)
            if result.skipped_empty:
                log.warning(
                    "%s %s_%s: skipped %d rows without text", NAME, subset, part, result.skipped_empty
                )
            documents += result.documents
            labels += result.labels
    return SourceData(
        name=NAME,
        documents=documents,
        labels=labels,
        label_space=tuple(dict.fromkeys(taxonomy.SOURCE_LABELS[NAME].values())),
        granularity="document",
        native_split=True,
    )
