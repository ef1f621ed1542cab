"""Word tokens with offsets and BIO tags per technique (for span models).

Tags are per technique because spans of different techniques overlap in PTC:
one tag sequence per technique keeps every span representable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mindlens.preprocessing.labels import overlaps
from mindlens.schema import Span

_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def bio_tags(
    tokens: Sequence[Token], spans: Iterable[Span], techniques: Sequence[str]
) -> dict[str, list[str]]:
    """``{technique: ["O", "B", "I", ...]}``: a token is inside a span if they share a character."""
    tags = {t: ["O"] * len(tokens) for t in techniques}
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.technique not in tags:
            continue
        row = tags[span.technique]
        inside = [i for i, tok in enumerate(tokens) if overlaps(tok.start, tok.end, span.start, span.end)]
        for n, i in enumerate(inside):
            # A span that starts right after another of the same technique still starts with B.
            row[i] = "B" if n == 0 else "I"
    return tags


def spans_from_bio(tokens: Sequence[Token], tags: dict[str, list[str]], document_id: str = "") -> list[Span]:
    """The inverse of ``bio_tags`` (up to token boundaries)."""
    spans: list[Span] = []
    for technique, row in tags.items():
        start = end = None
        for tok, tag in zip(tokens, row, strict=False):
            if tag == "B" or (tag == "I" and start is None):
                if start is not None:
                    spans.append(Span(document_id, start, end, technique))
                start, end = tok.start, tok.end
            elif tag == "I":
                end = tok.end
            else:
                if start is not None:
                    spans.append(Span(document_id, start, end, technique))
                start = end = None
        if start is not None:
            spans.append(Span(document_id, start, end, technique))
    return sorted(spans, key=lambda s: (s.start, s.end, s.technique))
