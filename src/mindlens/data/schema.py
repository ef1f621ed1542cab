"""Typed records shared by every data source.

All offsets are Python ``str`` character offsets into ``Document.text``,
end exclusive; a leading byte-order mark is kept, as PTC's offsets count it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mindlens import taxonomy


@dataclass(frozen=True)
class Document:
    id: str
    source: str
    text: str
    title: str = ""
    split: str = "train"


@dataclass(frozen=True)
class Span:
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
