"""Quotations and who speaks them, with character offsets into the original text.

Reporting quotes propaganda: "They are traitors," the senator said. The words use a
technique, the reporter does not. A reader (and the document score) should know which
fragments sit inside a quotation and, where the text says so, whose words they are.

Rules, kept deliberately simple and tested on news prose:
- Double quotes (straight ``"``, curly ``“ ”``, low ``„``, guillemets ``« »``) open and
  close a quotation; a quotation left open runs to the end of its paragraph (news style
  reopens a quote at each paragraph of a long quotation).
- Single curly quotes ``‘ ’`` count only when they look like quotation marks (after a
  space or line start, closed before a space or punctuation), so apostrophes
  (``don’t``, ``the people’s``) are not quotes. Straight single quotes are ignored.
- The speaker comes from attribution next to the quote: ``"…," said Jane Doe`` /
  ``"…," Doe said`` / ``"…," she said`` / ``Jane Doe said: "…"`` /
  ``according to Jane Doe, "…"``. Pronouns are returned as written (``he``); no
  coreference is attempted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = {'"': '"', "“": "”", "„": "“”", "«": "»", "‘": "’"}
_SINGLE_OPEN = re.compile(r"(?:(?<=^)|(?<=[\s(\[—–-]))‘(?=\S)", re.MULTILINE)
_SAY = (
    r"(?:said|says|say|told|tells|wrote|writes|added|adds|stated|states|declared|declares|"
    r"claimed|claims|insisted|insists|argued|argues|warned|warns|tweeted|tweets|posted|"
    r"explained|explains|asked|asks|noted|notes|continued|continues|replied|replies|"
    r"remarked|announced|announces|shouted|yelled|screamed|admitted|admits|"
    r"suggested|suggests|testified|concluded)"
)
# A speaker: a pronoun, or one to five capitalised words (titles and initials allowed),
# optionally preceded by "the"/"a" and a lower-case role ("the former president").
_NAME = r"(?:[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|bin|al|la|le)){0,4})"
_ROLE = r"(?:(?:[Tt]he|[Aa]n?)\s+(?:[a-z][\w-]*\s+){0,3}[a-z][\w-]*(?:\s+" + _NAME + r")?)"
_PRONOUN = r"(?:he|she|they|we|I|it)"


def _speaker_group(name: str) -> str:
    return rf"(?P<{name}>{_NAME}|{_ROLE}|{_PRONOUN})"


# after a closing quote: , said Jane Doe | , Doe said | , she added
_AFTER = re.compile(
    rf"^[\s,]*(?:{_SAY}\s+{_speaker_group('s1')}"
    rf"|{_speaker_group('s2')}\s+(?:has\s+|had\s+|also\s+|then\s+)?{_SAY})\b"
)
# before an opening quote: Jane Doe said: | according to Jane Doe,
_BEFORE = re.compile(
    rf"(?:{_speaker_group('s1')}\s+(?:has\s+|had\s+|also\s+)?{_SAY}"
    rf"|[Aa]ccording\s+to\s+{_speaker_group('s2')})[\s,:]*$"
)
# capitalised words that end up next to a quote without being anyone
_NOT_SPEAKERS = {
    "The",
    "This",
    "That",
    "It",
    "But",
    "And",
    "In",
    "On",
    "A",
    "An",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Today",
    "Yesterday",
}


@dataclass(frozen=True)
class Quote:
    """A quotation: ``text[start:end]`` is the quoted words (marks excluded)."""

    start: int
    end: int
    speaker: str | None = None


def _closing_index(text: str, opener: str, start: int, para_end: int) -> int | None:
    """Index of the mark closing a quotation opened just before ``start``, within the
    paragraph; None when it stays open."""
    closers = OPENERS[opener]
    for i in range(start, para_end):
        char = text[i]
        if opener == "‘":
            # a closing single quote is followed by a space, punctuation or the end
            if char == "’" and (i + 1 >= len(text) or not text[i + 1].isalnum()):
                return i
            continue
        if char in closers:
            return i
    return None


def _openers(text: str) -> list[int]:
    """Candidate opening marks, in order (single curly quotes only where they open)."""
    singles = {m.start() for m in _SINGLE_OPEN.finditer(text)}
    return [i for i, ch in enumerate(text) if (ch in OPENERS and ch != "‘") or i in singles]


def _clean_speaker(raw: str | None) -> str | None:
    if not raw:
        return None
    speaker = raw.strip(" ,.:;")
    first = speaker.split()[0] if speaker.split() else ""
    if first in _NOT_SPEAKERS and len(speaker.split()) == 1:
        return None
    return speaker or None


def _speaker(text: str, quote_start: int, quote_end: int, para_start: int, para_end: int) -> str | None:
    """The speaker named right after the closing mark or right before the opening mark."""
    after = _AFTER.match(text[quote_end + 1 : min(para_end, quote_end + 80)])
    if after:
        return _clean_speaker(after.group("s1") or after.group("s2"))
    before = _BEFORE.search(text[max(para_start, quote_start - 1 - 80) : quote_start - 1])
    if before:
        return _clean_speaker(before.group("s1") or before.group("s2"))
    return None


def find_quotes(text: str) -> list[Quote]:
    """Every quotation in ``text`` with its speaker where the text names one."""
    quotes: list[Quote] = []
    position = 0
    for opener_at in _openers(text):
        if opener_at < position:
            continue
        para_end = text.find("\n", opener_at)
        para_end = len(text) if para_end < 0 else para_end
        para_start = text.rfind("\n", 0, opener_at) + 1
        start = opener_at + 1
        close = _closing_index(text, text[opener_at], start, para_end)
        if text[opener_at] == '"' and close is None and text.count('"', para_start, para_end) % 2 == 0:
            continue  # a balanced paragraph with a stray straight quote before this one
        end = para_end if close is None else close
        if end - start < 1 or not text[start:end].strip():
            position = end + 1
            continue
        speaker = _speaker(text, start, end, para_start, para_end)
        quotes.append(Quote(start, end, speaker))
        position = end + 1
    return quotes


def quote_of(quotes: list[Quote], start: int, end: int) -> Quote | None:
    """The quotation holding most of the fragment ``[start, end)`` (at least half of it)."""
    best, best_overlap = None, 0
    for quote in quotes:
        overlap = min(end, quote.end) - max(start, quote.start)
        if overlap > best_overlap:
            best, best_overlap = quote, overlap
    if best is None or best_overlap * 2 < max(1, end - start):
        return None
    return best


def quoted_share(quotes: list[Quote], start: int, end: int) -> float:
    """The part of ``[start, end)`` that lies inside quotations (0 to 1)."""
    if end <= start:
        return 0.0
    inside = sum(max(0, min(end, q.end) - max(start, q.start)) for q in quotes)
    return min(1.0, inside / (end - start))
