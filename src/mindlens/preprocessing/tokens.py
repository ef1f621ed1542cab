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
        open_span: tuple[int, int] | None = None  # (start, end) of the span being read
        for tok, tag in zip(tokens, row, strict=False):
            if tag == "I" and open_span is not None:
                open_span = (open_span[0], tok.end)
            elif tag in ("B", "I"):
                # "B", or an "I" with no span open, starts a span.
                if open_span is not None:
                    spans.append(Span(document_id, open_span[0], open_span[1], technique))
                open_span = (tok.start, tok.end)
            else:
                if open_span is not None:
                    spans.append(Span(document_id, open_span[0], open_span[1], technique))
                open_span = None
        if open_span is not None:
            spans.append(Span(document_id, open_span[0], open_span[1], technique))
    return sorted(spans, key=lambda s: (s.start, s.end, s.technique))
