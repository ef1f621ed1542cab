"""Heuristic signals: cheap, explainable text measurements shown with every analysis.

They back up model predictions with evidence a reader can check (the words that
fired, with character offsets) and double as model features (``signal_vector``).
Everything runs offline: VADER and Empath read lexicons shipped in their
packages, textstat only lends its bundled pyphen syllable counter.

This module holds the list (names, ranges, descriptions, stable order) and runs the
groups, each in its own module: ``sentiment`` (VADER), ``empath_categories``
(Empath), ``lexical`` (loaded words, absolutes, clickbait cues), ``style`` (passive
voice, superlatives, punctuation, capitals), ``readability`` (Flesch). ``evidence``
maps techniques to the signals that support them.

"Per token" means per word token (a ``tokenize`` token containing a letter or
digit); "per sentence" uses ``split_sentences``. Empty text gives all zeros.

=============================  ==============  ===============================================  =================
name                           range           meaning                                          source
=============================  ==============  ===============================================  =================
sentiment_compound             [-1, 1]         overall polarity                                 VADER
sentiment_pos                  [0, 1]          share of positive sentiment                      VADER
sentiment_neg                  [0, 1]          share of negative sentiment                      VADER
sentiment_neu                  [0, 1]          share of neutral text                            VADER
sentiment_intensity            [0, 1]          |compound|: how charged, either way              VADER
empath_<category>              [0, 1]          category hits per token (19 categories below)    Empath lexicon
loaded_words                   [0, 1]          emotionally loaded words per token               lexicons.py
clickbait_hyperbolic           [0, 1]          hyperbolic words per token                       lexicons.py
clickbait_phrases              [0, inf)        clickbait phrase matches per sentence            lexicons.py
clickbait_second_person        [0, 1]          you/your/you're... per token                     lexicons.py
clickbait_headline_punct       {0, 1}          first sentence ends with ? or !                  rules
clickbait_starts_with_number   {0, 1}          text opens with a number ("17 things")           rules
passive_ratio                  [0, inf)        passive clauses per sentence                     rule-based tagger
superlatives                   [0, 1]          superlatives per token (-est, most/least + adj)  rules + lexicons
absolutes                      [0, 1]          absolutes per token (always, never, everyone)    lexicons.py
exclamation_rate               [0, inf)        "!" characters per sentence                      rules
question_rate                  [0, inf)        "?" characters per sentence                      rules
all_caps_rate                  [0, 1]          fully upper-case tokens (not acronyms)/token     rules + lexicons
flesch_reading_ease            (-inf, 121.2]   higher = easier to read                          textstat/pyphen
flesch_kincaid_grade           [-3.4, inf)     US school grade needed to read                   textstat/pyphen
avg_sentence_length            [0, inf)        words per sentence                               rules
=============================  ==============  ===============================================  =================

Empath categories: anger, fear, hate, violence, negative_emotion, positive_emotion,
aggression, shame, war, terrorism, crime, power, pride, nervousness, heroic,
independence, deception, ridicule, disgust (each as ``empath_<category>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mindlens.features import lexicons as lx
from mindlens.features.empath_categories import EMPATH_CATEGORIES, empath_forms, empath_signals
from mindlens.features.lexical import absolutes, clickbait_signals, loaded_words
from mindlens.features.matching import Evidence, Measured, inflected_forms, norm, phrase_regex, word_tokens
from mindlens.features.readability import hyphenation, readability_signals
from mindlens.features.sentiment import sentiment_signals, vader
from mindlens.features.style import style_signals
from mindlens.preprocessing.sentences import split_sentences
from mindlens.preprocessing.tokens import tokenize


@dataclass
class Signal:
    """One measured signal; ``evidence`` holds ``(start, end, text)`` spans into the input."""

    name: str
    value: float
    description: str
    evidence: Evidence = field(default_factory=list)


# (name, range, description) in the stable feature order.
_SPECS: tuple[tuple[str, str, str], ...] = (
    ("sentiment_compound", "[-1, 1]", "VADER compound polarity: -1 very negative, +1 very positive."),
    ("sentiment_pos", "[0, 1]", "VADER share of positive sentiment."),
    ("sentiment_neg", "[0, 1]", "VADER share of negative sentiment."),
    ("sentiment_neu", "[0, 1]", "VADER share of neutral text."),
    ("sentiment_intensity", "[0, 1]", "How emotionally charged the text is, either way (|compound|)."),
    *((f"empath_{c}", "[0, 1]", f"Empath '{c}' lexicon words per token.") for c in EMPATH_CATEGORIES),
    ("loaded_words", "[0, 1]", "Emotionally loaded words per token."),
    ("clickbait_hyperbolic", "[0, 1]", "Hyperbolic words (amazing, shocking, ...) per token."),
    ("clickbait_phrases", "[0, inf)", 'Clickbait phrases ("you won\'t believe", "17 things") per sentence.'),
    ("clickbait_second_person", "[0, 1]", "Direct address to the reader (you, your, ...) per token."),
    (
        "clickbait_headline_punct",
        "{0, 1}",
        "1 if the first sentence ends with a question or exclamation mark.",
    ),
    ("clickbait_starts_with_number", "{0, 1}", '1 if the text opens with a number ("17 things ...").'),
    ("passive_ratio", "[0, inf)", "Passive-voice clauses per sentence (can hide who acted)."),
    ("superlatives", "[0, 1]", "Superlatives (greatest, most dangerous, worst) per token."),
    ("absolutes", "[0, 1]", "All-or-nothing words (always, never, everyone) per token."),
    ("exclamation_rate", "[0, inf)", "Exclamation marks per sentence."),
    ("question_rate", "[0, inf)", "Question marks per sentence."),
    ("all_caps_rate", "[0, 1]", "Fully upper-case words (shouting, acronyms excluded) per token."),
    ("flesch_reading_ease", "(-inf, 121.2]", "Flesch reading ease: higher is easier (60-70 plain English)."),
    ("flesch_kincaid_grade", "[-3.4, inf)", "Flesch-Kincaid US school grade needed to follow the text."),
    ("avg_sentence_length", "[0, inf)", "Average sentence length in words."),
)
SIGNAL_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _SPECS)
_DESCRIPTIONS: dict[str, str] = {name: desc for name, _, desc in _SPECS}


def warm_up() -> None:
    """Load every lexicon now, so the first request does not pay for it."""
    vader()
    empath_forms()
    hyphenation()
    for lexicon in (lx.LOADED_WORDS, lx.HYPERBOLIC_WORDS, lx.ABSOLUTES):
        phrase_regex(lexicon)
    for lexicon in (lx.LOADED_WORDS, lx.HYPERBOLIC_WORDS):
        inflected_forms(lexicon)


def compute_signals(text: str) -> dict[str, Signal]:
    """Every signal in ``SIGNAL_NAMES`` order; evidence offsets index into ``text``."""
    tokens = tokenize(text)
    words = word_tokens(tokens)
    sentences = split_sentences(text)
    if not words:  # nothing to measure: zeros, not errors or stray punctuation evidence
        return {name: Signal(name, 0.0, _DESCRIPTIONS[name]) for name in SIGNAL_NAMES}

    normed = [norm(t.text) for t in words]  # once for every module, not once per module
    raw: Measured = {}
    raw.update(sentiment_signals(text, words, sentences, normed))
    raw.update(empath_signals(words, normed))
    raw.update(loaded_words(text, words, normed))
    raw.update(clickbait_signals(text, words, sentences, normed))
    raw.update(absolutes(text, words, normed))
    raw.update(style_signals(text, tokens, words, len(sentences), normed))
    raw.update(readability_signals(words, len(sentences), normed))

    return {
        name: Signal(name, float(raw[name][0]), _DESCRIPTIONS[name], list(raw[name][1]))
        for name in SIGNAL_NAMES
    }


def signal_vector(text: str) -> dict[str, float]:
    """Flat ``{name: value}`` in ``SIGNAL_NAMES`` order, for model features."""
    signals = compute_signals(text)
    return {name: signals[name].value for name in SIGNAL_NAMES}


def describe_signals() -> list[dict[str, str]]:
    """Name, description and value range of every signal, for the API and docs."""
    return [{"name": name, "description": desc, "range": rng} for name, rng, desc in _SPECS]
