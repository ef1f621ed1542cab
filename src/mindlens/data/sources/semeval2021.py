"""SemEval-2021 Task 6: persuasion techniques in meme texts.

Layout under ``<data_dir>/semeval2021-task6/data``: ``{training,dev}_set_task2.txt``
(JSON list of ``{id, text, labels: [{start, end, technique, text_fragment}]}``) gives
the documents and spans; ``{training,dev}_set_task1.txt`` (same ids, ``labels`` a
list of technique names) gives whole-meme labels. Training is ``train``, dev is
``val`` (a native split). The test set is held out and not read here.

A few published spans are a character or two off; they are realigned on their
``text_fragment`` when it sits within ``SHIFT`` characters, otherwise dropped with
a warning (never silently mislabelled), as are spans covering only whitespace.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from mindlens import taxonomy
from mindlens.data.sources.base import lazy_remote, require_dir
from mindlens.schema import Document, DocumentLabel, SourceData, Span, document_id

NAME = "semeval2021"
FOLDER = "semeval2021-task6"
SPLITS = {"train": "training_set", "val": "dev_set"}  # MindLens split -> file stem
SHIFT = 2  # how far (characters) a misaligned span may be moved onto its fragment

log = logging.getLogger(__name__)

__all__ = ["NAME", "FOLDER", "load", "read_task2", "read_task1", "align_span"]


__getattr__ = lazy_remote(NAME, __name__)


def _read_json(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON list of memes")
    return records


def align_span(text: str, start: int, end: int, fragment: str) -> tuple[int, int] | None:
    """Offsets of ``fragment`` at or within ``SHIFT`` characters of ``start``; None if absent."""
    if fragment and text[start:end] == fragment:
        return start, end
    if not fragment:
        return None
    for delta in sorted(range(-SHIFT, SHIFT + 1), key=abs):
        s = start + delta
        if s >= 0 and text[s : s + len(fragment)] == fragment:
            return s, s + len(fragment)
    return None


def read_task2(path: Path, split: str) -> tuple[list[Document], list[Span], int]:
    """Documents and spans of one task2 file, plus how many spans had to be dropped."""
    documents: list[Document] = []
    spans: list[Span] = []
    dropped = 0
    for meme in _read_json(path):
        doc_id = document_id(NAME, meme["id"])
        text = meme["text"]
        documents.append(Document(id=doc_id, source=NAME, text=text, title="", split=split))
        for label in meme["labels"]:
            technique = taxonomy.map_label(NAME, label["technique"])
            fragment = label.get("text_fragment", label.get("text", ""))
            if not fragment.strip():  # one training span covers only a newline
                dropped += 1
                log.warning(
                    "%s: meme %s: span %s-%s covers only whitespace; dropped",
                    path.name,
                    meme["id"],
                    label["start"],
                    label["end"],
                )
                continue
            aligned = align_span(text, int(label["start"]), int(label["end"]), fragment)
            if aligned is None:
                dropped += 1
                log.warning(
                    "%s: meme %s: span %s-%s %r not found near its offsets; dropped",
                    path.name,
                    meme["id"],
                    label["start"],
                    label["end"],
                    fragment,
                )
                continue
            if aligned != (label["start"], label["end"]):
                log.info(
                    "%s: meme %s: span %s-%s realigned to %s-%s",
                    path.name,
                    meme["id"],
                    label["start"],
                    label["end"],
                    *aligned,
                )
            spans.append(Span(doc_id, aligned[0], aligned[1], technique))
    return documents, spans, dropped


def read_task1(path: Path) -> list[DocumentLabel]:
    """Whole-meme labels of one task1 file (one per distinct mapped technique)."""
    labels: list[DocumentLabel] = []
    for meme in _read_json(path):
        doc_id = document_id(NAME, meme["id"])
        for technique in dict.fromkeys(taxonomy.map_label(NAME, lb) for lb in meme["labels"]):
            labels.append(DocumentLabel(doc_id, technique))
    return labels


def load(data_dir: Path) -> SourceData:
    """Training memes (``train``) and dev memes (``val``) with spans and meme-level labels."""
    root = require_dir(Path(data_dir) / FOLDER / "data", "SemEval-2021 Task 6")
    documents: list[Document] = []
    spans: list[Span] = []
    labels: list[DocumentLabel] = []
    for split, stem in SPLITS.items():
        docs, split_spans, dropped = read_task2(root / f"{stem}_task2.txt", split)
        if dropped:
            log.warning("%s %s: dropped %d unusable spans", NAME, split, dropped)
        known = {d.id for d in docs}
        split_labels = read_task1(root / f"{stem}_task1.txt")
        unknown = sorted({lb.document_id for lb in split_labels} - known)
        if unknown:
            raise ValueError(f"{stem}_task1.txt labels memes missing from {stem}_task2.txt: {unknown[:5]}")
        documents += docs
        spans += split_spans
        labels += split_labels
    return SourceData(
        name=NAME,
        documents=documents,
        spans=spans,
        labels=labels,
        label_space=tuple(dict.fromkeys(taxonomy.SOURCE_LABELS[NAME].values())),
        granularity="span",
        native_split=True,
    )
