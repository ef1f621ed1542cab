"""Quotation and speaker detection (preprocessing/quotes.py)."""

from __future__ import annotations

import pytest

from mindlens.preprocessing.quotes import Quote, find_quotes, quote_of


def spans(text: str) -> list[tuple[str, str | None]]:
    return [(text[q.start : q.end], q.speaker) for q in find_quotes(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"They are traitors," the senator said.', [("They are traitors,", "the senator")]),
        ('"They are traitors," said Jane Doe on Monday.', [("They are traitors,", "Jane Doe")]),
        ("“Lock them up,” Trump told the crowd.", [("Lock them up,", "Trump")]),
        ("“We will win,” she added.", [("We will win,", "she")]),
        ('Jane Doe said: "This is a disgrace."', [("This is a disgrace.", "Jane Doe")]),
        ("According to Smith, “the plan is a hoax.”", [("the plan is a hoax.", "Smith")]),
        ("Critics call it «a sham» and move on.", [("a sham", None)]),
        ("He called it ‘a witch hunt’ again.", [("a witch hunt", None)]),
    ],
)
def test_quotes_and_speakers(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert spans(text) == expected


def test_apostrophes_are_not_quotes() -> None:
    assert find_quotes("The people’s choice wasn’t theirs, and ’tis fine.") == []
    assert find_quotes("It's the nation's day.") == []


def test_offsets_index_the_original_text() -> None:
    text = '\ufeffTitle\n\nThe mayor said: "Enough is enough." Then "more" came.'
    quotes = find_quotes(text)
    assert [text[q.start : q.end] for q in quotes] == ["Enough is enough.", "more"]
    assert quotes[0].speaker == "The mayor"


def test_an_open_quote_runs_to_the_end_of_its_paragraph() -> None:
    text = "“This goes on and on\nA new paragraph without quotes."
    (quote,) = find_quotes(text)
    assert text[quote.start : quote.end] == "This goes on and on"


def test_several_quotes_in_one_paragraph_are_separate() -> None:
    text = '"One," he said. "Two," she said. Plain words.'
    assert spans(text) == [("One,", "he"), ("Two,", "she")]


def test_text_without_quotes() -> None:
    assert find_quotes("Plain reporting without any quotation at all.") == []
    assert find_quotes("") == []


def test_quote_of_needs_most_of_the_fragment_inside() -> None:
    quotes = [Quote(10, 30, "Doe")]
    assert quote_of(quotes, 12, 20) == quotes[0]
    assert quote_of(quotes, 25, 40) is None  # 5 of 15 characters inside
    assert quote_of(quotes, 0, 5) is None
    assert quote_of([], 0, 5) is None


def test_quoted_share() -> None:
    from mindlens.preprocessing.quotes import quoted_share

    quotes = [Quote(10, 20), Quote(30, 35)]
    assert quoted_share(quotes, 10, 20) == 1.0
    assert quoted_share(quotes, 0, 40) == 15 / 40
    assert quoted_share(quotes, 20, 30) == 0.0
    assert quoted_share(quotes, 5, 5) == 0.0
