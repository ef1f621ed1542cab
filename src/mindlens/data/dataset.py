"""The processed dataset every model trains on, built from all sources.

Five Parquet tables under ``<state_dir>/data``: ``documents``, ``spans``
(with the span text), ``doc_labels`` (whole-document techniques),
``si_spans`` (propaganda spans without a technique, PTC's SI task) and
``sentences`` (each labelled with the techniques of the spans overlapping
it). A manifest records the content hash, row counts and label counts, so a
training run can say exactly which data it saw.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mindlens.preprocessing.labels import sentence_labels
from mindlens.preprocessing.sentences import split_sentences
from mindlens.schema import SourceData

TABLES = ("documents", "spans", "doc_labels", "si_spans", "sentences")
COLUMNS: dict[str, list[str]] = {
    "documents": ["document_id", "source", "split", "granularity", "title", "text", "hard_negative"],
    "spans": ["document_id", "source", "split", "start", "end", "technique", "text"],
    "doc_labels": ["document_id", "source", "split", "technique"],
    "si_spans": ["document_id", "source", "split", "start", "end", "text"],
    "sentences": [
        "document_id",
        "source",
        "split",
        "sentence_index",
        "start",
        "end",
        "text",
        "labels",
        "span_labelled",
    ],
}
_INT = {"start", "end", "sentence_index"}
MANIFEST = "manifest.json"


def _typed(name: str, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """A table with fixed column types, also when it is empty."""
    frame = pd.DataFrame(rows, columns=COLUMNS[name])
    types = {
        c: (
            "int64"
            if c in _INT
            else "bool"
            if c in ("span_labelled", "hard_negative")
            else "object"
            if c == "labels"
            else "str"
        )
        for c in COLUMNS[name]
    }
    return frame.astype(types)


@dataclass
class Manifest:
    folder: str
    content_hash: str
    tables: dict[str, str]
    rows: dict[str, dict[str, int]]  # table -> "source/split" -> rows
    label_counts: dict[str, dict[str, int]]  # source -> technique -> spans + document labels
    near_duplicates: int = 0
    max_documents: int | None = None
    sources: list[str] = field(default_factory=list)
    label_spaces: dict[str, list[str]] = field(default_factory=dict)  # source -> techniques it labels

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"no processed dataset at {path}; run `mindlens data prepare`")
        return cls(**json.loads(path.read_text()))

    def table(self, name: str) -> pd.DataFrame:
        return read_table(Path(self.tables[name]))

    def texts(self) -> dict[str, str]:
        """Document id -> its text (what span offsets index)."""
        docs = self.table("documents")
        return dict(zip(docs["document_id"], docs["text"], strict=True))


# --- splits -------------------------------------------------------------------------
def split_documents(ids: Sequence[str], val_fraction: float, seed: int) -> dict[str, str]:
    """Deterministic document-level split: the same ids and seed give the same split."""
    ordered = sorted(set(ids))
    random.Random(seed).shuffle(ordered)
    n_val = max(1, round(len(ordered) * val_fraction)) if len(ordered) > 1 else 0
    return {doc_id: ("val" if i < n_val else "train") for i, doc_id in enumerate(ordered)}


def assign_splits(data: SourceData, val_fraction: float, seed: int) -> dict[str, str]:
    """Split of every document. Native splits are kept; otherwise the ``train``
    documents are split by a seeded shuffle, stratified by their document labels
    (so clickbait and honest headlines keep their ratio in both splits)."""
    splits = {doc.id: doc.split for doc in data.documents}
    if data.native_split:
        return splits
    by_doc: dict[str, set[str]] = defaultdict(set)
    for label in data.labels:
        by_doc[label.document_id].add(label.technique)
    strata: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for doc in data.documents:
        if doc.split == "train":
            strata[tuple(sorted(by_doc[doc.id]))].append(doc.id)
    for key, ids in sorted(strata.items()):
        stratum_seed = int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16)
        splits.update(split_documents(ids, val_fraction, stratum_seed))
    return splits


# --- near duplicates ------------------------------------------------------------------
def _fingerprint(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def near_duplicates(documents: pd.DataFrame) -> pd.DataFrame:
    """Documents whose texts are equal up to case, punctuation and spacing but sit in
    different splits (leakage a model would exploit)."""
    frame = documents[documents["split"] != "unlabelled"].assign(
        fingerprint=lambda d: d["text"].map(_fingerprint)
    )
    frame = frame[frame["fingerprint"] != ""]
    groups = frame.groupby("fingerprint")["split"].transform("nunique")
    crossing = frame[groups > 1].sort_values(["fingerprint", "split", "document_id"])
    return crossing[["fingerprint", "document_id", "source", "split"]].reset_index(drop=True)


# --- tables ---------------------------------------------------------------------------
def cap_documents(splits: dict[str, str], max_documents: int | None, seed: int) -> dict[str, str]:
    """A seeded sample of at most ``max_documents`` per split (quick runs keep every split)."""
    if max_documents is None:
        return splits
    by_split: dict[str, list[str]] = defaultdict(list)
    for doc_id, split in sorted(splits.items()):
        by_split[split].append(doc_id)
    kept: dict[str, str] = {}
    for split, ids in by_split.items():
        chosen = ids if len(ids) <= max_documents else random.Random(seed).sample(ids, max_documents)
        kept.update({doc_id: split for doc_id in chosen})
    return kept


def build_tables(
    sources: Sequence[SourceData], val_fraction: float, seed: int, max_documents: int | None = None
) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    for data in sources:
        splits = cap_documents(assign_splits(data, val_fraction, seed), max_documents, seed)
        data = SourceData(
            data.name,
            [d for d in data.documents if d.id in splits],
            [s for s in data.spans if s.document_id in splits],
            [lb for lb in data.labels if lb.document_id in splits],
            [p for p in data.propaganda_spans if p.document_id in splits],
            data.label_space,
            data.granularity,
            data.native_split,
        )
        texts = {doc.id: doc.text for doc in data.documents}
        spans_by_doc = defaultdict(list)
        for span in data.spans:
            if span.document_id not in texts:
                raise ValueError(f"{data.name}: span for unknown document {span.document_id}")
            spans_by_doc[span.document_id].append(span)
            rows["spans"].append(
                (
                    span.document_id,
                    data.name,
                    splits[span.document_id],
                    span.start,
                    span.end,
                    span.technique,
                    texts[span.document_id][span.start : span.end],
                )
            )
        for si in data.propaganda_spans:
            if si.document_id not in texts:
                raise ValueError(f"{data.name}: propaganda span for unknown document {si.document_id}")
            rows["si_spans"].append(
                (
                    si.document_id,
                    data.name,
                    splits[si.document_id],
                    si.start,
                    si.end,
                    texts[si.document_id][si.start : si.end],
                )
            )
        for label in data.labels:
            if label.document_id not in texts:
                raise ValueError(f"{data.name}: label for unknown document {label.document_id}")
            rows["doc_labels"].append(
                (label.document_id, data.name, splits[label.document_id], label.technique)
            )
        span_labelled = data.granularity == "span"
        for doc in data.documents:
            split = splits[doc.id]
            rows["documents"].append(
                (doc.id, data.name, split, data.granularity, doc.title, doc.text, doc.hard_negative)
            )
            sentences = split_sentences(doc.text, one_per_line=data.name == "ptc")
            labels = sentence_labels(sentences, spans_by_doc.get(doc.id, []))
            for i, (sentence, techniques) in enumerate(zip(sentences, labels, strict=False)):
                rows["sentences"].append(
                    (
                        doc.id,
                        data.name,
                        split,
                        i,
                        sentence.start,
                        sentence.end,
                        sentence.text,
                        sorted(techniques),
                        span_labelled,
                    )
                )
    return {name: _typed(name, rows[name]) for name in TABLES}


def content_hash(tables: dict[str, pd.DataFrame]) -> str:
    """sha256 over a canonical JSON rendering of every table (stable across Parquet writers)."""
    digest = hashlib.sha256()
    for name in TABLES:
        if name not in tables:
            continue
        digest.update(f"#{name}\n".encode())
        for record in tables[name][COLUMNS[name]].itertuples(index=False):
            values = [list(v) if not isinstance(v, (str, int, bool)) else v for v in record]
            digest.update(json.dumps(values, ensure_ascii=False, default=int).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    if frame.empty:
        return {}
    keys = frame["source"] + "/" + frame["split"]
    return {k: int(v) for k, v in keys.value_counts().sort_index().items()}


def write_dataset(
    tables: dict[str, pd.DataFrame],
    out_dir: Path,
    *,
    max_documents: int | None = None,
    label_spaces: dict[str, list[str]] | None = None,
) -> Manifest:
    """Write every table atomically, then the manifest (written last: its presence
    means the whole dataset is complete)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in TABLES:
        path = out_dir / f"{name}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        tables[name].to_parquet(tmp, index=False)
        tmp.replace(path)
        paths[name] = str(path)
    duplicates = near_duplicates(tables["documents"])
    duplicates.to_csv(out_dir / "near_duplicates.csv", index=False)
    label_counts: dict[str, Counter] = defaultdict(Counter)
    for frame in (tables["spans"], tables["doc_labels"]):
        for source, technique in zip(frame["source"], frame["technique"], strict=False):
            label_counts[source][technique] += 1
    manifest = Manifest(
        folder=str(out_dir),
        content_hash=content_hash(tables),
        tables=paths,
        rows={name: _counts(tables[name]) for name in TABLES},
        label_counts={s: dict(sorted(c.items())) for s, c in sorted(label_counts.items())},
        near_duplicates=int(duplicates["fingerprint"].nunique()) if not duplicates.empty else 0,
        max_documents=max_documents,
        sources=sorted(tables["documents"]["source"].unique().tolist()),
        label_spaces=dict(sorted((label_spaces or {}).items())),
    )
    tmp = out_dir / f"{MANIFEST}.tmp"
    tmp.write_text(manifest.to_json())
    tmp.replace(out_dir / MANIFEST)
    return manifest


def read_table(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    if "labels" in frame.columns:
        frame["labels"] = frame["labels"].map(list)
    return frame
