"""Typed records shared by every data source: documents, spans, document labels.

They sit in the bottom layer with ``config`` and ``taxonomy`` (they need nothing but
the taxonomy) because both ``preprocessing`` (BIO tags, sentence labels) and ``data``
speak them.

All offsets are Python ``str`` character offsets into ``Document.text``,
end exclusive; a leading byte-order mark is kept, as PTC's offsets count it.
Document ids are ``<source>:<native id>`` so they are unique across sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mindlens import taxonomy

SPLITS = ("train", "val", "test", "unlabelled")


@dataclass(frozen=True)
class Document:
    id: str
    source: str
    text: str
    title: str = ""
    split: str = "train"
    hard_negative: bool = False  # looks manipulative but is not (curated checks of false positives)

    def __post_init__(self) -> None:
        if not self.id.startswith(f"{self.source}:"):
            raise ValueError(f"document id {self.id!r} must start with '{self.source}:'")
        if self.split not in SPLITS:
            raise ValueError(f"document {self.id}: unknown split {self.split!r}; known: {SPLITS}")

    @property
    def native_id(self) -> str:
        return self.id.split(":", 1)[1]


def document_id(source: str, native_id: str | int) -> str:
    return f"{source}:{native_id}"


@dataclass(frozen=True)
class Span:
    """A fragment of a document that uses a technique."""

    document_id: str
    start: int
    end: int
    technique: str

    def __post_init__(self) -> None:
        taxonomy.technique(self.technique)
        if not 0 <= self.start < self.end:
            raise ValueError(
                f"span {self.start}-{self.end} in document {self.document_id} is empty or negative"
            )


@dataclass(frozen=True)
class DocumentLabel:
    """A technique that a whole document uses, where the source gives no span."""

    document_id: str
    technique: str

    def __post_init__(self) -> None:
        taxonomy.technique(self.technique)


@dataclass(frozen=True)
class PropagandaSpan:
    """A fragment marked as propaganda without a technique (PTC's span identification task)."""

    document_id: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"propaganda span {self.start}-{self.end} in {self.document_id} is empty")


@dataclass
class SourceData:
    """Everything one source contributes.

    ``label_space`` lists the techniques the source annotates: a document of
    the source that lacks one of them is a negative for it; techniques outside
    it are unknown for the source's documents (not negatives).
    ``native_split`` says whether the documents' ``split`` comes from the
    source; otherwise the pipeline assigns a seeded split.
    """

    name: str
    documents: list[Document]
    spans: list[Span] = field(default_factory=list)
    labels: list[DocumentLabel] = field(default_factory=list)
    propaganda_spans: list[PropagandaSpan] = field(default_factory=list)
    label_space: tuple[str, ...] = ()
    granularity: Literal["span", "document"] = "span"
    native_split: bool = False
