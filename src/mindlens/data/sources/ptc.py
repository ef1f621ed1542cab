"""Propaganda Techniques Corpus (SemEval-2020 Task 11).

Layout under ``<data_dir>/ptc-semeval2020-task11/datasets``: ``train-articles/
article<ID>.txt`` (title, blank line, one sentence per line; UTF-8, BOM kept),
``train-task-flc-tc.labels`` (``id<TAB>technique<TAB>start<TAB>end``) and the
unlabelled ``test-articles/`` (kept as split ``unlabelled`` for self-training).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mindlens import taxonomy
from mindlens.data.sources.base import DataNotFoundError, lazy_remote, require_dir
from mindlens.schema import Document, PropagandaSpan, SourceData, Span, document_id

NAME = "ptc"
FOLDER = "ptc-semeval2020-task11"
ROOT = f"{FOLDER}/datasets"
_ARTICLE = re.compile(r"article(\d+)\.txt$")

__all__ = [
    "NAME",
    "FOLDER",
    "DataNotFoundError",
    "load",
    "load_train",
    "read_article",
    "iter_articles",
    "read_labels",
    "read_si_labels",
]
__getattr__ = lazy_remote(NAME, __name__)  # REMOTE: pinned files (sources/remote.py)


def read_article(path: Path) -> str:
    """Article text exactly as the offsets count it (UTF-8, BOM kept, newlines untouched)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def iter_articles(folder: Path, split: str = "train") -> Iterator[Document]:
    for path in sorted(Path(folder).glob("article*.txt")):
        match = _ARTICLE.search(path.name)
        if not match:
            continue
        text = read_article(path)
        title = text.lstrip("\ufeff").split("\n", 1)[0].strip()
        yield Document(id=document_id(NAME, match.group(1)), source=NAME, text=text, title=title, split=split)


def _tsv(path: Path, fields: int) -> Iterator[list[str]]:
    """Rows of a PTC labels file, each checked for its number of tab-separated fields."""
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = line.rstrip("\n").split("\t")
            if len(row) != fields:
                raise ValueError(f"{path}:{line_no}: expected {fields} tab-separated fields")
            yield row


def read_labels(path: Path) -> list[Span]:
    """Technique spans of a ``*-task-flc-tc.labels`` file, mapped onto the taxonomy."""
    return [
        Span(document_id(NAME, native), int(start), int(end), taxonomy.map_label(NAME, label))
        for native, label, start, end in _tsv(path, 4)
    ]


def read_si_labels(path: Path) -> list[PropagandaSpan]:
    """Merged propaganda spans of a ``*-task-si.labels`` file (``id<TAB>start<TAB>end``)."""
    return [
        PropagandaSpan(document_id(NAME, native), int(start), int(end))
        for native, start, end in _tsv(path, 3)
    ]


def load_train(data_dir: Path, max_articles: int | None = None) -> tuple[list[Document], list[Span]]:
    """The labelled training articles (optionally the first N) and their spans."""
    root = require_dir(Path(data_dir) / ROOT / "train-articles", "PTC").parent
    documents = list(iter_articles(root / "train-articles", split="train"))
    if max_articles is not None:
        documents = documents[:max_articles]
    keep = {d.id for d in documents}
    spans = [s for s in read_labels(root / "train-task-flc-tc.labels") if s.document_id in keep]
    return documents, spans


def load(data_dir: Path) -> SourceData:
    """Training articles with technique and propaganda spans, plus the unlabelled test articles."""
    documents, spans = load_train(data_dir)
    si = read_si_labels(Path(data_dir) / ROOT / "train-task-si.labels")
    test_dir = Path(data_dir) / ROOT / "test-articles"
    if test_dir.is_dir():
        documents += list(iter_articles(test_dir, split="unlabelled"))
    return SourceData(
        name=NAME,
        documents=documents,
        spans=spans,
        propaganda_spans=si,
        label_space=tuple(dict.fromkeys(taxonomy.SOURCE_LABELS[NAME].values())),
        granularity="span",
        native_split=False,
    )
