"""Text cleaning that never moves offsets silently.

``normalize`` returns the cleaned text together with an offset map, so any
span found on the cleaned text maps back to the original characters the user
sent (and the original always remains the reference for stored offsets).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

_REPLACE = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u2026": "...",
}
_DROP = {"\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad"}
_SPACE = {" ", "\t", "\r", "\f", "\v"}


@dataclass(frozen=True)
class Normalized:
    text: str
    offsets: tuple[int, ...]  # offsets[i] = index in the original of normalized char i
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalized text back onto the original."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}-{end} outside normalized text of length {len(self.text)}")
        if start == end:
            point = self.offsets[start] if start < len(self.offsets) else self.original_length
            return point, point
        return self.offsets[start], self.offsets[end - 1] + 1

    def to_normalized(self, position: int) -> int:
        """The first normalized character at or after an original position."""
        return bisect.bisect_left(self.offsets, position)


def normalize(text: str, *, collapse_spaces: bool = True) -> Normalized:
    """Unify quotes and dashes, drop invisible characters, collapse runs of
    spaces (never newlines: they are sentence boundaries)."""
    chars: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for i, char in enumerate(text):
        if char in _DROP:
            continue
        replacement = _REPLACE.get(char, char)
        if collapse_spaces and replacement in _SPACE | {" "}:
            if previous_space:
                continue
            replacement, previous_space = " ", True
        else:
            previous_space = False
        for piece in replacement:
            chars.append(piece)
            offsets.append(i)
    return Normalized("".join(chars), tuple(offsets), len(text))
