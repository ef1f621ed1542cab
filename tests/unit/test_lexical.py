"""Lexicon signals (features.lexical): absolutes, clickbait cues, loaded words; lexicon sizes."""

from __future__ import annotations

from mindlens.features import lexicons as lx
from mindlens.features.signals import SIGNAL_NAMES, Signal, compute_signals


def _sig(text: str, name: str) -> Signal:
    return compute_signals(text)[name]


def _matched(text: str, name: str) -> list[str]:
    return [m for _, _, m in _sig(text, name).evidence]


def test_absolutes_match_words_and_phrases_without_double_counting():
    text = "Everyone knows they always lie. Nobody, without exception, trusts each and every one."
    assert _matched(text, "absolutes") == [
        "Everyone",
        "always",
        "Nobody",
        "without exception",
        "each and every",
    ]
    assert _sig("The committee met on Tuesday.", "absolutes").value == 0.0


def test_clickbait_headline_versus_news_headline():
    bait = compute_signals("You won't believe what happened next!")
    news = compute_signals("Senate passes budget bill")
    assert [m for _, _, m in bait["clickbait_phrases"].evidence] == [
        "You won't believe",
        "what happened next",
    ]
    assert bait["clickbait_second_person"].value > 0
    assert bait["clickbait_headline_punct"].value == 1.0
    for name in SIGNAL_NAMES:
        if name.startswith("clickbait_"):
            assert news[name].value == 0.0, name


def test_clickbait_numbers_at_the_start():
    signals = compute_signals("17 things you didn't know about cats")
    assert signals["clickbait_starts_with_number"].value == 1.0
    assert _matched("17 things you didn't know about cats", "clickbait_phrases") == ["17 things"]
    assert _sig("Seven reasons to stay home", "clickbait_starts_with_number").value == 1.0
    assert _sig("One man was arrested", "clickbait_starts_with_number").value == 0.0


def test_hyperbolic_words_and_second_person():
    text = "This amazing, unbelievable trick is shocking and your friends love it."
    assert _matched(text, "clickbait_hyperbolic") == ["amazing", "unbelievable", "shocking"]
    assert _matched(text, "clickbait_second_person") == ["your"]


def test_loaded_words_with_inflections_and_phrases():
    text = "The regime's barbaric crackdown slaughtered the so-called experts."
    assert _matched(text, "loaded_words") == ["barbaric", "crackdown", "slaughtered", "so-called"]
    assert _sig("The committee met on Tuesday.", "loaded_words").value == 0.0


def test_lexicon_sizes():
    assert len(lx.LOADED_WORDS) >= 140
    assert len(lx.HYPERBOLIC_WORDS) >= 75
    assert len(lx.CLICKBAIT_PATTERNS) >= 45
