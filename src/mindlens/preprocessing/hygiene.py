"""The one rule for text that reaches MindLens: every text field of every endpoint (``/analyze``,
``/analyze/batch``, ``POST /feedback``) and the demo checks it here.

Rejected, never silently repaired (a repair would change the text whose hash feedback joins on;
``strip_disallowed`` is for text MindLens extracts itself, a fetched page, whose cleaned form it returns):
lone UTF-16 surrogates (U+D800..U+DFFF: not valid Unicode, they cannot be encoded, a tokenizer
fails on them) and control characters (C0 and C1, DEL) other than tab, newline and carriage
return. The message names the field, the character and its position.
"""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

ALLOWED_CONTROLS = "\t\n\r"
# C0 controls except \t \n \r, DEL and the C1 controls; lone surrogates (a decoded JSON string
# holds a surrogate only when it was unpaired: pairs become one astral code point).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")

RULE = (
    "valid Unicode without control characters (tab, newline and carriage return are allowed; "
    "lone UTF-16 surrogates and other C0/C1 control characters are rejected with 422)"
)


def text_problem(value: str, field: str = "text") -> str | None:
    """Why ``value`` is refused (one readable sentence), or None when it is fine."""
    for pattern, what in ((_SURROGATE, "a lone UTF-16 surrogate"), (_CONTROL, "a control character")):
        found = pattern.search(value)
        if found is not None:
            what = "a NUL character" if found.group() == "\x00" else what
            return (
                f"{field} contains {what} (U+{ord(found.group()):04X}) at position {found.start()}; "
                "send valid Unicode text (tab, newline and carriage return are the only control "
                "characters allowed)"
            )
    return None


class BadTextError(ValueError):
    """A text with a lone surrogate or a control character (422), outside pydantic."""


def check_text(value: str, field: str = "text") -> str:
    """``value`` unchanged, or ``BadTextError`` saying what is wrong with it."""
    problem = text_problem(value, field)
    if problem is not None:
        raise BadTextError(problem)
    return value


def validate_text(value: str, field: str = "text") -> str:
    """``check_text`` for pydantic validators: a ``bad_character`` error (422) naming the problem."""
    problem = text_problem(value, field)
    if problem is not None:
        raise PydanticCustomError("bad_character", problem)
    return value


def strip_disallowed(value: str) -> str:
    """``value`` without the characters ``check_text`` refuses, for text MindLens did not get
    from the client but extracted itself (a fetched web page): there is no sender to ask for a
    clean copy, and the response returns the cleaned text, so offsets and hashes refer to it."""
    return _CONTROL.sub("", _SURROGATE.sub("", value))
