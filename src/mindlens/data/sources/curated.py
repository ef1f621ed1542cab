"""MindLens's own curated examples: JSONL files under ``<repo>/data/curated/``.

One JSON object per line::

    {"id": "...", "text": "...", "title": "...", "genre": "...",
     "spans": [{"start": 0, "end": 5, "technique": "slogans", "text": "..."}],
     "labels": ["clickbait"], "no_technique": false,
     "hard_negative": false, "split": "train"}

``title``, ``genre``, ``spans[].text``, ``no_technique``, ``hard_negative`` and ``split``
are optional; techniques are MindLens ids. ``hard_negative`` marks a text that looks
manipulative but is not (or only in its labelled spans); ``split`` (``train`` or ``test``)
fixes the example's split: when any record of a folder declares one, the source keeps the
splits as given (``native_split``), records without one reading as ``train``; otherwise
every document is ``train`` and the pipeline assigns a seeded split as before. Every line is validated and a bad one raises ``ValueError`` naming
``file:line`` and the problem, because a silently skipped example is a wrong negative.
A record must say what it shows: at least one span or label, or ``no_technique: true``.
The folder may not exist yet (the set is filled later): that reads as no documents.
Label Studio exports use the same format and parser (see ``label_studio``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from mindlens import taxonomy
from mindlens.config import RESOURCE_ROOT
from mindlens.data.sources.remote import RemoteFile
from mindlens.schema import Document, DocumentLabel, SourceData, Span, document_id

NAME = "curated"
FOLDER = "data/curated"  # a repository folder (RESOURCE_ROOT), not under the data directory
REMOTE: tuple[RemoteFile, ...] = ()  # part of the repository: nothing to fetch
KEYS = frozenset(
    {"id", "text", "title", "genre", "spans", "labels", "no_technique", "hard_negative", "split"}
)
RECORD_SPLITS = ("train", "test")  # the fixed splits a record may declare
SPAN_KEYS = frozenset({"start", "end", "technique", "text"})

__all__ = [
    "NAME",
    "FOLDER",
    "REMOTE",
    "RECORD_SPLITS",
    "Record",
    "parse_record",
    "read_jsonl",
    "read_folder",
    "to_source_data",
    "load",
    "write_jsonl",
    "default_folder",
]


@dataclass(frozen=True)
class Record:
    """One validated example; ``extra`` holds the allowed keys beyond the common format."""

    id: str
    text: str
    title: str = ""
    genre: str | None = None
    spans: tuple[tuple[int, int, str], ...] = ()
    labels: tuple[str, ...] = ()
    no_technique: bool = False
    where: str = ""
    hard_negative: bool = False
    split: str | None = None  # as declared; None when the record gives none
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def default_folder() -> Path:
    return RESOURCE_ROOT / FOLDER


def _technique(value: Any, where: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: {what} must be a technique id string, got {value!r}")
    try:
        return taxonomy.map_label("mindlens", value)
    except taxonomy.UnknownLabelError as err:
        raise taxonomy.UnknownLabelError(f"{where}: {what}: {err}") from None


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_span(raw: Any, text: str, where: str, i: int) -> tuple[int, int, str]:
    what = f"spans[{i}]"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: {what} must be an object")
    unknown = set(raw) - SPAN_KEYS
    if unknown:
        raise ValueError(f"{where}: {what} has unknown keys {sorted(unknown)}")
    start, end = raw.get("start"), raw.get("end")
    if not (_is_int(start) and _is_int(end)):
        raise ValueError(f"{where}: {what} needs integer start and end, got {start!r}, {end!r}")
    if not 0 <= start < end <= len(text):
        raise ValueError(
            f"{where}: {what} offsets {start}-{end} are empty or outside the text (length {len(text)})"
        )
    technique = _technique(raw.get("technique"), where, f"{what}.technique")
    if "text" in raw and raw["text"] != text[start:end]:
        raise ValueError(
            f"{where}: {what} text {raw['text']!r} does not match text[{start}:{end}] = {text[start:end]!r}"
        )
    return start, end, technique


def parse_record(obj: Any, where: str, allowed_extra: frozenset[str] = frozenset()) -> Record:
    """Validate one decoded JSON object; ``where`` (``file:line``) prefixes every error."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    unknown = set(obj) - KEYS - allowed_extra
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(KEYS)}")
    rid, text = obj.get("id"), obj.get("text")
    if not isinstance(rid, str) or not rid.strip():
        raise ValueError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: 'text' must be a non-empty string")
    for key in ("title", "genre"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"{where}: {key!r} must be a string")
    raw_spans, raw_labels = obj.get("spans", []), obj.get("labels", [])
    if not isinstance(raw_spans, list) or not isinstance(raw_labels, list):
        raise ValueError(f"{where}: 'spans' and 'labels' must be lists")
    no_technique = obj.get("no_technique", False)
    if not isinstance(no_technique, bool):
        raise ValueError(f"{where}: 'no_technique' must be true or false")
    hard_negative = obj.get("hard_negative", False)
    if not isinstance(hard_negative, bool):
        raise ValueError(f"{where}: 'hard_negative' must be true or false")
    split = obj.get("split")
    if split is not None and split not in RECORD_SPLITS:
        raise ValueError(f"{where}: 'split' must be one of {list(RECORD_SPLITS)}, got {split!r}")
    spans = tuple(_parse_span(s, text, where, i) for i, s in enumerate(raw_spans))
    labels = tuple(dict.fromkeys(_technique(lb, where, f"labels[{i}]") for i, lb in enumerate(raw_labels)))
    if no_technique and (spans or labels):
        raise ValueError(f"{where}: 'no_technique' is true but spans or labels are given")
    if not (no_technique or spans or labels):
        raise ValueError(f"{where}: no spans or labels; set 'no_technique': true for a clean example")
    return Record(
        id=rid,
        text=text,
        title=obj.get("title") or "",
        genre=obj.get("genre"),
        spans=spans,
        labels=labels,
        no_technique=no_technique,
        where=where,
        hard_negative=hard_negative,
        split=split,
        extra={k: obj[k] for k in allowed_extra if k in obj},
    )


def read_jsonl(path: Path, allowed_extra: frozenset[str] = frozenset()) -> list[Record]:
    """Every record of one file (blank lines ignored)."""
    records: list[Record] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: invalid JSON: {err}") from None
            records.append(parse_record(obj, where, allowed_extra))
    return records


def read_folder(folder: Path, allowed_extra: frozenset[str] = frozenset()) -> list[Record]:
    """Records of every ``*.jsonl`` under ``folder`` (sorted); ids must be unique; none if absent."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    records: list[Record] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*.jsonl")):
        for record in read_jsonl(path, allowed_extra):
            if record.id in seen:
                raise ValueError(f"{record.where}: duplicate id {record.id!r} (first at {seen[record.id]})")
            seen[record.id] = record.where
            records.append(record)
    return records


def to_source_data(
    name: str, records: Iterable[tuple[str, Record]], native_split: bool | None = None
) -> SourceData:
    """A source of ``(native id, record)`` pairs.

    With native splits (by default: when any record declares a ``split``) each document
    keeps its record's split (``train`` when it gives none) and the pipeline leaves it
    alone; without, every document is ``train`` and gets a seeded split later."""
    pairs = list(records)
    if native_split is None:
        native_split = any(record.split is not None for _, record in pairs)
    documents: list[Document] = []
    spans: list[Span] = []
    labels: list[DocumentLabel] = []
    for native, record in pairs:
        doc_id = document_id(name, native)
        split = (record.split or "train") if native_split else "train"
        documents.append(
            Document(
                id=doc_id,
                source=name,
                text=record.text,
                title=record.title,
                split=split,
                hard_negative=record.hard_negative,
            )
        )
        spans += [Span(doc_id, start, end, technique) for start, end, technique in record.spans]
        labels += [DocumentLabel(doc_id, technique) for technique in record.labels]
    return SourceData(
        name=name,
        documents=documents,
        spans=spans,
        labels=labels,
        label_space=taxonomy.TECHNIQUE_IDS,
        granularity="span",
        native_split=native_split,
    )


def load(data_dir: Path | None = None, folder: Path | None = None) -> SourceData:
    """The curated examples (``data_dir`` is unused: they live in the repository)."""
    records = read_folder(default_folder() if folder is None else Path(folder))
    return to_source_data(NAME, ((r.id, r) for r in records))


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """Write records one JSON object per line (UTF-8, parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(dict(record), ensure_ascii=False) + "\n")
    return path
