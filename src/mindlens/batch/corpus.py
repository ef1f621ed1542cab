"""Reading a corpus to score: a folder of ``.txt`` files, a JSON-lines file or a Parquet file.

Every document has an ``id`` and a ``text``, and may have a ``title``, a ``source`` and a
``date``. A folder's files are its documents (id: the path below the folder without
``.txt``; source: the sub-folder, when a file sits in one). Everything is checked before any
scoring starts, and a bad document is named by its file and line or row, so a run over
thousands of documents never fails half-way through on input it could have refused at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FIELDS = ("id", "text", "title", "source", "date")
OPTIONAL = ("title", "source", "date")
FORMATS = {".jsonl": "jsonl", ".parquet": "parquet"}


class CorpusError(ValueError):
    """The corpus cannot be read; the message names the file and the line or row at fault."""


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str | None = None
    source: str | None = None
    date: dt.date | None = None

    def fingerprint_bytes(self) -> bytes:
        parts = (self.id, self.text, self.title or "", self.source or "", self.date or "")
        return "\x1f".join(str(p) for p in parts).encode() + b"\x1e"


def corpus_format(path: Path) -> str:
    """``folder``, ``jsonl`` or ``parquet``; ``CorpusError`` for anything else."""
    if path.is_dir():
        return "folder"
    if not path.exists():
        raise CorpusError(f"no such corpus: {path}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CorpusError(
            f"{path}: unknown corpus format {path.suffix or '(no suffix)'!r}; "
            "give a folder of .txt files, a .jsonl file or a .parquet file"
        )
    return fmt


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        return value.to_pydatetime().date()
    if isinstance(value, str):
        text = value.strip()
        for parse in (dt.date.fromisoformat, lambda t: dt.datetime.fromisoformat(t).date()):
            try:
                return parse(text)
            except ValueError:
                pass
    raise CorpusError(f"{where}: 'date' {value!r} is not an ISO date (YYYY-MM-DD)")


def _optional_text(record: Mapping[str, Any], field: str, where: str) -> str | None:
    value = record.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CorpusError(f"{where}: {field!r} must be a string, not {type(value).__name__}")
    return value.strip() or None


def document_from(record: Any, where: str) -> Document:
    """A checked ``Document`` from one JSON object or Parquet row (``where`` names it)."""
    if not isinstance(record, Mapping):
        raise CorpusError(f"{where}: expected an object with 'id' and 'text', got {type(record).__name__}")
    missing = [f for f in ("id", "text") if record.get(f) is None]
    if missing:
        raise CorpusError(f"{where}: missing {' and '.join(repr(f) for f in missing)}")
    doc_id, text = record["id"], record["text"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        raise CorpusError(f"{where}: 'id' must be a string or an integer, not {type(doc_id).__name__}")
    doc_id = str(doc_id).strip()
    if not doc_id:
        raise CorpusError(f"{where}: 'id' is empty")
    if not isinstance(text, str):
        raise CorpusError(f"{where}: 'text' must be a string, not {type(text).__name__}")
    if not text.strip():
        raise CorpusError(f"{where}: 'text' of document {doc_id!r} is empty")
    return Document(
        doc_id,
        text,
        _optional_text(record, "title", where),
        _optional_text(record, "source", where),
        _date(record.get("date"), where),
    )


def _from_folder(folder: Path) -> Iterator[tuple[Document, str]]:
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise CorpusError(f"{folder}: no .txt files in this folder")
    for path in files:
        relative = path.relative_to(folder)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise CorpusError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
        source = relative.parent.as_posix() if relative.parent != Path(".") else None
        record = {"id": relative.with_suffix("").as_posix(), "text": text, "source": source}
        yield document_from(record, str(path)), str(path)


def _from_jsonl(path: Path) -> Iterator[tuple[Document, str]]:
    with open(path, encoding="utf-8") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path} line {number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise CorpusError(f"{where}: not JSON ({err.msg})") from None
                yield document_from(record, where), where
        except UnicodeDecodeError as err:
            raise CorpusError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def _from_parquet(path: Path) -> Iterator[tuple[Document, str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise CorpusError(f"{path}: not a readable Parquet file ({err})") from None
    missing = [f for f in ("id", "text") if f not in table.column_names]
    if missing:
        raise CorpusError(
            f"{path}: missing column {' and '.join(repr(f) for f in missing)} "
            f"(has {', '.join(table.column_names)})"
        )
    columns = [c for c in FIELDS if c in table.column_names]
    for number, record in enumerate(table.select(columns).to_pylist()):
        where = f"{path} row {number}"
        yield document_from(record, where), where


def read_corpus(path: Path, max_documents: int | None = None) -> list[Document]:
    """Every document of the corpus at ``path`` (the first ``max_documents`` when given),
    checked: ids unique, texts non-empty, dates ISO. ``CorpusError`` names the bad one."""
    path = Path(path)
    if max_documents is not None and max_documents < 1:
        raise CorpusError(f"max_documents must be at least 1, not {max_documents}")
    reader = {"folder": _from_folder, "jsonl": _from_jsonl, "parquet": _from_parquet}[corpus_format(path)]
    documents: list[Document] = []
    seen: dict[str, str] = {}
    for document, where in reader(path):
        if document.id in seen:
            raise CorpusError(f"{where}: duplicate id {document.id!r} (first at {seen[document.id]})")
        seen[document.id] = where
        documents.append(document)
        if max_documents is not None and len(documents) >= max_documents:
            break
    if not documents:
        raise CorpusError(f"{path}: the corpus holds no documents")
    return documents


def corpus_fingerprint(documents: list[Document]) -> str:
    """sha256 over every document's fields: the same documents give the same fingerprint
    whatever file they came from (a rerun resumes only over the same corpus)."""
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.fingerprint_bytes())
    return digest.hexdigest()


def as_records(documents: list[Document]) -> list[dict[str, Any]]:
    return [asdict(d) for d in documents]
