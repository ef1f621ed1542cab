"""Precomputed lexicon lookups (features.matching, empath_categories) against the
straightforward reference: a word matches if one of its ``variants`` is in the lexicon."""

from __future__ import annotations

import itertools

from mindlens.features import lexicons as lx
from mindlens.features.empath_categories import empath_forms, empath_index
from mindlens.features.matching import inflected_forms, inflections, match_lexicon, variants
from mindlens.preprocessing.tokens import tokenize

TRICKY = (
    "slaughtered",
    "slaughtering",
    "slammed",
    "slamming",
    "slams",
    "worries",
    "worried",
    "hating",
    "hated",
    "terrorists",
    "bullies",
    "stunningly",
    "lies",
    "ties",
    "is",
    "ed",
    "ing",
    "ies",
    "sses",
    "alled",
    "",
)
SUFFIXES = ("", "s", "es", "d", "ed", "ing", "ly", "ies", "ied", "er", "est", "'s")


def _reference(word: str, lexicon: frozenset[str]) -> bool:
    return any(f in lexicon for f in variants(word))


def _words(lexicon: frozenset[str] | list[str]) -> set[str]:
    """Tricky words, every entry with suffixes and its last letter doubled or dropped."""
    words = set(TRICKY)
    for entry in lexicon:
        for stem in (entry, entry[:-1], entry + entry[-1:]):
            words.update(stem + s for s in SUFFIXES)
    return words


def test_inflections_cover_every_word_variants_maps_back():
    lexicon = frozenset({"slaughter", "slam", "worry", "hate", "be"})
    for word in _words(lexicon):
        for form in variants(word):
            if form in lexicon:
                assert word in inflections(form), (word, form)


def test_inflected_forms_agree_with_variants():
    for lexicon in (lx.LOADED_WORDS, lx.HYPERBOLIC_WORDS, lx.ABSOLUTES):
        forms = inflected_forms(lexicon)
        for word in _words(lexicon):
            assert (word in forms) == _reference(word, lexicon), word
    assert {"slaughtered", "slammed", "worries"} <= inflected_forms(frozenset({"slaughter", "slam", "worry"}))


def test_empath_forms_take_the_first_known_variant():
    index = empath_index()
    forms = empath_forms()
    for word in itertools.chain(_words(list(index)[:400]), _words(["terrorist", "fear", "hate"])):
        known = next((f for f in variants(word) if f in index), None)
        assert forms.get(word) == (index[known] if known is not None else None), word


def test_match_lexicon_words_phrases_and_curly_apostrophes():
    text = "They slammed the so-called plan; it’s barbaric and he slaughtered worries."
    words = [t for t in tokenize(text) if t.text[0].isalnum()]
    found = [m for _, _, m in match_lexicon(text, words, frozenset({"slam", "so-called", "it's", "worry"}))]
    assert found == ["slammed", "so-called", "it’s", "worries"]
    assert match_lexicon(text, words, frozenset({"slam"}), inflect=False) == []
