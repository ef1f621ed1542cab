"""Propaganda Techniques Corpus (SemEval-2020 Task 11) reader.

Layout under ``<data_dir>/ptc-semeval2020-task11/datasets``: ``train-articles/
article<ID>.txt`` (title, blank line, one sentence per line; UTF-8, BOM kept)
and ``train-task-flc-tc.labels`` (``id<TAB>technique<TAB>start<TAB>end``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mindlens import taxonomy
from mindlens.data.schema import Document, Span

SOURCE = "ptc"
FOLDER = "ptc-semeval2020-task11/datasets"
_ARTICLE = re.compile(r"article(\d+)\.txt$")


class DataNotFoundError(FileNotFoundError):
    """A dataset is missing from the configured data directory."""


def ptc_root(data_dir: Path) -> Path:
    root = Path(data_dir) / FOLDER
    if not (root / "train-articles").is_dir():
        raise DataNotFoundError(
            f"PTC not found under {root}: set MINDLENS_DATA_DIR to the folder holding "
            f"'{FOLDER.split('/')[0]}/' (e.g. ../shared/datasets)"
        )
    return root


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
        yield Document(id=match.group(1), source=SOURCE, text=text, title=title, split=split)


def read_labels(path: Path) -> list[Span]:
    """Technique spans of a ``*-task-flc-tc.labels`` file, mapped onto the taxonomy."""
    spans: list[Span] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 4:
                raise ValueError(f"{path}:{line_no}: expected 4 tab-separated fields")
            doc_id, label, start, end = fields
            spans.append(Span(doc_id, int(start), int(end), taxonomy.map_label(SOURCE, label)))
    return spans


def load_train(data_dir: Path, max_articles: int | None = None) -> tuple[list[Document], list[Span]]:
    """The labelled training articles and their technique spans."""
    root = ptc_root(data_dir)
    documents = list(iter_articles(root / "train-articles", split="train"))
    if max_articles is not None:
        documents = documents[:max_articles]
    keep = {d.id for d in documents}
    spans = [s for s in read_labels(root / "train-task-flc-tc.labels") if s.document_id in keep]
    return documents, spans
