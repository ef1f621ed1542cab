"""The processed sentence dataset every model trains on.

One row per sentence: document id, split, offsets, text and the technique
ids whose spans overlap it. Written to Parquet beside a manifest with the
content hash, row counts and label counts, so a training run can say
exactly which data it saw.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from mindlens.data.schema import Document, Span
from mindlens.preprocessing.labels import sentence_labels
from mindlens.preprocessing.sentences import split_sentences

COLUMNS = ["document_id", "source", "split", "sentence_index", "start", "end", "text", "labels"]


@dataclass
class Manifest:
    path: str
    content_hash: str
    rows: dict[str, int]
    documents: dict[str, int]
    label_counts: dict[str, int]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls(**json.loads(Path(path).read_text()))


def split_documents(ids: Sequence[str], val_fraction: float, seed: int) -> dict[str, str]:
    """Deterministic document-level split: the same ids and seed give the same split."""
    ordered = sorted(set(ids))
    random.Random(seed).shuffle(ordered)
    n_val = max(1, round(len(ordered) * val_fraction)) if len(ordered) > 1 else 0
    return {doc_id: ("val" if i < n_val else "train") for i, doc_id in enumerate(ordered)}


def sentence_table(
    documents: Sequence[Document], spans: Sequence[Span], splits: dict[str, str]
) -> pd.DataFrame:
    """Sentences of every document with the techniques overlapping each."""
    by_doc: dict[str, list[Span]] = {}
    for span in spans:
        by_doc.setdefault(span.document_id, []).append(span)
    rows = []
    for doc in documents:
        sentences = split_sentences(doc.text, one_per_line=doc.source == "ptc")
        labels = sentence_labels(sentences, by_doc.get(doc.id, []))
        for i, (sentence, techniques) in enumerate(zip(sentences, labels)):
            rows.append((doc.id, doc.source, splits.get(doc.id, doc.split), i,
                         sentence.start, sentence.end, sentence.text, sorted(techniques)))
    return pd.DataFrame(rows, columns=COLUMNS)


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 over a canonical JSON rendering of the rows (stable across Parquet writers)."""
    digest = hashlib.sha256()
    for record in frame[COLUMNS].itertuples(index=False):
        values = [list(v) if not isinstance(v, (str, int)) else v for v in record]
        digest.update(json.dumps(values, ensure_ascii=False, default=int).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def write_dataset(frame: pd.DataFrame, out_dir: Path, name: str = "sentences") -> Manifest:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)  # atomic: readers never see half a file
    counts = Counter(label for labels in frame["labels"] for label in labels)
    manifest = Manifest(
        path=str(path),
        content_hash=content_hash(frame),
        rows={k: int(v) for k, v in frame["split"].value_counts().sort_index().items()},
        documents={k: int(v) for k, v in
                   frame.groupby("split")["document_id"].nunique().sort_index().items()},
        label_counts=dict(sorted(counts.items())),
    )
    (out_dir / f"{name}.manifest.json").write_text(manifest.to_json())
    return manifest


def read_dataset(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    frame["labels"] = frame["labels"].map(list)
    return frame
