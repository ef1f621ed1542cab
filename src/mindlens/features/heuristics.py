"""Heuristic signals: cheap, explainable text measurements shown with every analysis.

They back up model predictions with evidence a reader can check (the words that
fired, with character offsets) and double as model features (``signal_vector``).
Everything runs offline: VADER and Empath read lexicons shipped in their
packages; textstat is used only for its bundled pyphen syllable counter and its
Flesch constants, because textstat 0.7.13's English syllable path calls
``nltk.download("cmudict")`` when the corpus is missing.

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

Passive voice: a form of be/get (am, is, are, was, were, be, been, being, get, got,
...), up to three fillers (-ly adverbs, "not", "also", "already", ..., or further
be-forms as in "is being"), then a past participle (regular -ed minus a stop-list,
or an irregular form). Participial adjectives of state ("He is interested in
music", "She was tired") count only with a "by" agent, since they describe a
state rather than hide who acted. Intransitive participles ("gone", "fallen")
are not listed: "he is gone" is not passive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mindlens.features import lexicons as lx
from mindlens.preprocessing.sentences import split_sentences
from mindlens.preprocessing.tokens import Token, tokenize
from mindlens.taxonomy import technique

Evidence = list[tuple[int, int, str]]


@dataclass
class Signal:
    """One measured signal; ``evidence`` holds ``(start, end, text)`` spans into the input."""

    name: str
    value: float
    description: str
    evidence: Evidence = field(default_factory=list)


EMPATH_CATEGORIES: tuple[str, ...] = (
    "anger",
    "fear",
    "hate",
    "violence",
    "negative_emotion",
    "positive_emotion",
    "aggression",
    "shame",
    "war",
    "terrorism",
    "crime",
    "power",
    "pride",
    "nervousness",
    "heroic",
    "independence",
    "deception",
    "ridicule",
    "disgust",
)

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

# Which signals lend support to which technique (only techniques with a heuristic cue).
TECHNIQUE_SIGNALS: dict[str, tuple[str, ...]] = {
    "loaded_language": (
        "loaded_words",
        "sentiment_neg",
        "empath_negative_emotion",
        "empath_anger",
        "empath_hate",
        "empath_disgust",
    ),
    "name_calling": ("loaded_words", "empath_ridicule", "empath_hate"),
    "exaggeration_minimisation": ("superlatives", "absolutes", "clickbait_hyperbolic"),
    "doubt": ("question_rate", "empath_deception"),
    "appeal_to_fear": (
        "empath_fear",
        "empath_violence",
        "empath_terrorism",
        "empath_crime",
        "empath_war",
        "empath_nervousness",
    ),
    "flag_waving": ("empath_pride", "empath_heroic", "empath_independence", "empath_power"),
    "causal_oversimplification": ("absolutes",),
    "slogans": ("exclamation_rate", "all_caps_rate"),
    "black_and_white_fallacy": ("absolutes",),
    "whataboutism_strawman_red_herring": ("question_rate",),
    "bandwagon": ("absolutes", "clickbait_second_person"),
    "appeal_to_emotion": (
        "sentiment_intensity",
        "empath_negative_emotion",
        "empath_positive_emotion",
        "empath_shame",
        "exclamation_rate",
    ),
    "glittering_generalities": ("sentiment_pos", "empath_positive_emotion", "empath_pride"),
    "smears": ("loaded_words", "empath_crime", "empath_deception", "empath_shame"),
    "ad_hominem": ("loaded_words", "empath_ridicule", "clickbait_second_person"),
    "faulty_generalization": ("absolutes",),
    "obfuscation": ("passive_ratio",),
    "clickbait": (
        "clickbait_phrases",
        "clickbait_hyperbolic",
        "clickbait_second_person",
        "clickbait_headline_punct",
        "clickbait_starts_with_number",
        "exclamation_rate",
    ),
}


def _check_technique_signals() -> None:
    for technique_id, names in TECHNIQUE_SIGNALS.items():
        technique(technique_id)  # raises UnknownLabelError for ids the taxonomy lacks
        unknown = set(names) - set(SIGNAL_NAMES)
        if unknown:
            raise ValueError(f"TECHNIQUE_SIGNALS[{technique_id!r}] names unknown signals {unknown}")


_check_technique_signals()


# --- lazily loaded resources (paid once per process) ------------------------------


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _empath_index() -> dict[str, tuple[str, ...]]:
    """word -> the selected Empath categories it belongs to (Empath's bundled lexicon only)."""
    from empath import Empath

    cats = Empath().cats
    missing = [c for c in EMPATH_CATEGORIES if c not in cats]
    if missing:
        raise KeyError(f"Empath lexicon lacks categories {missing}")
    index: dict[str, list[str]] = {}
    for category in EMPATH_CATEGORIES:
        for word in set(cats[category]):
            index.setdefault(word.lower(), []).append(category)
    return {word: tuple(c) for word, c in index.items()}


@lru_cache(maxsize=1)
def _readability_tools() -> tuple[Any, dict[str, float]]:
    """textstat's pyphen hyphenator and English Flesch constants (no cmudict, no network)."""
    from textstat.backend.utils import get_pyphen
    from textstat.backend.utils.constants import LANG_CONFIGS

    return get_pyphen("en_US"), dict(LANG_CONFIGS["en"])


def warm_up() -> None:
    """Load every lexicon now, so the first request does not pay for it."""
    _vader()
    _empath_index()
    _readability_tools()
    _phrase_regex(lx.LOADED_WORDS)


# --- helpers ----------------------------------------------------------------------

_WORDLIKE = re.compile(r"\w")


def _norm(word: str) -> str:
    return word.lower().replace("’", "'")


def _word_tokens(tokens: Sequence[Token]) -> list[Token]:
    return [t for t in tokens if _WORDLIKE.match(t.text)]


def _variants(word: str) -> Iterable[str]:
    """The word and a few de-inflected guesses, so 'slaughtered' finds 'slaughter'."""
    yield word
    if word.endswith(("ies", "ied")):
        yield word[:-3] + "y"
    for suffix in ("s", "es", "d", "ed", "ing", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            yield stem
            if suffix == "ing":
                yield stem + "e"
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "slammed" -> "slam"
                yield stem[:-1]


@lru_cache(maxsize=16)
def _phrase_regex(lexicon: frozenset[str]) -> re.Pattern[str] | None:
    phrases = sorted((p for p in lexicon if re.search(r"[\s-]", p)), key=len, reverse=True)
    if not phrases:
        return None
    parts = [r"[\s\-–]+".join(map(re.escape, re.split(r"[\s-]+", p))) for p in phrases]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _match_lexicon(
    text: str, words: Sequence[Token], lexicon: frozenset[str], inflect: bool = True
) -> Evidence:
    """Spans of lexicon entries: phrases by regex, single words per token."""
    hits: Evidence = []
    regex = _phrase_regex(lexicon)
    if regex is not None:
        hits.extend((m.start(), m.end(), m.group()) for m in regex.finditer(text))
    covered = [(s, e) for s, e, _ in hits]
    for tok in words:
        w = _norm(tok.text)
        forms = _variants(w) if inflect else (w,)
        inside_phrase = any(s <= tok.start and tok.end <= e for s, e in covered)
        if not inside_phrase and any(f in lexicon for f in forms):
            hits.append((tok.start, tok.end, tok.text))
    return sorted(hits)


def _rate(count: float, total: int) -> float:
    return count / total if total else 0.0


# --- individual signal groups ----------------------------------------------------


def _sentiment(text: str, words: Sequence[Token]) -> dict[str, tuple[float, Evidence]]:
    analyzer = _vader()
    scores = analyzer.polarity_scores(text)
    pos_ev: Evidence = []
    neg_ev: Evidence = []
    for tok in words:
        valence = analyzer.lexicon.get(_norm(tok.text))
        if valence:
            (pos_ev if valence > 0 else neg_ev).append((tok.start, tok.end, tok.text))
    compound = float(scores.get("compound", 0.0))
    return {
        "sentiment_compound": (compound, sorted(pos_ev + neg_ev)),
        "sentiment_pos": (float(scores.get("pos", 0.0)), pos_ev),
        "sentiment_neg": (float(scores.get("neg", 0.0)), neg_ev),
        "sentiment_neu": (float(scores.get("neu", 0.0)), []),
        "sentiment_intensity": (abs(compound), sorted(pos_ev + neg_ev)),
    }


def _empath(words: Sequence[Token]) -> dict[str, tuple[float, Evidence]]:
    index = _empath_index()
    hits: dict[str, Evidence] = {c: [] for c in EMPATH_CATEGORIES}
    for tok in words:
        # Empath lists some inflections but not others ("terrorist", not "terrorists"):
        # the exact form wins, else the first de-inflected form it knows.
        forms = (f for f in _variants(_norm(tok.text)) if f in index)
        for category in index.get(next(forms, ""), ()):
            hits[category].append((tok.start, tok.end, tok.text))
    return {f"empath_{c}": (_rate(len(ev), len(words)), ev) for c, ev in hits.items()}


_CLICKBAIT = re.compile("|".join(f"(?:{p})" for p in lx.CLICKBAIT_PATTERNS), re.IGNORECASE)
_NUMBER = re.compile(r"^\d[\d,.]*$")


def _clickbait(
    text: str,
    words: Sequence[Token],
    sentences: Sequence[Any],
) -> dict[str, tuple[float, Evidence]]:
    phrases = [(m.start(), m.end(), m.group()) for m in _CLICKBAIT.finditer(text)]
    you = [(t.start, t.end, t.text) for t in words if _norm(t.text) in lx.SECOND_PERSON]
    headline: Evidence = []
    if sentences:
        first = sentences[0]
        stripped = first.text.rstrip("\"'”’)] ")
        if stripped and stripped[-1] in "?!":
            end = first.start + len(stripped)
            headline = [(end - 1, end, stripped[-1])]
    opener: Evidence = []
    if words and (_NUMBER.match(words[0].text) or _norm(words[0].text) in lx.NUMBER_WORDS):
        opener = [(words[0].start, words[0].end, words[0].text)]
    return {
        "clickbait_hyperbolic": (
            _rate(len(ev := _match_lexicon(text, words, lx.HYPERBOLIC_WORDS)), len(words)),
            ev,
        ),
        "clickbait_phrases": (_rate(len(phrases), len(sentences)), phrases),
        "clickbait_second_person": (_rate(len(you), len(words)), you),
        "clickbait_headline_punct": (float(bool(headline)), headline),
        "clickbait_starts_with_number": (float(bool(opener)), opener),
    }


def _is_filler(word: str) -> bool:
    return word in lx.PASSIVE_ADVERBS or (len(word) > 3 and word.endswith("ly") and word.isalpha())


def _is_participle(tokens: Sequence[Token], j: int) -> bool:
    word = _norm(tokens[j].text)
    if word in lx.STATIVE_PARTICIPLES:
        return j + 1 < len(tokens) and _norm(tokens[j + 1].text) == "by"
    if word in lx.IRREGULAR_PARTICIPLES:
        return True
    return word.endswith("ed") and len(word) >= 4 and word.isalpha() and word not in lx.NOT_PARTICIPLES


_AUXILIARIES = lx.BE_FORMS | lx.GET_FORMS


def passive_spans(text: str, tokens: Sequence[Token] | None = None) -> Evidence:
    """Spans from the auxiliary to the participle of each passive clause.

    Punctuation tokens break a candidate, so a clause never spans a comma.
    """
    tokens = tokenize(text) if tokens is None else tokens
    spans: Evidence = []
    i = 0
    while i < len(tokens):
        if _norm(tokens[i].text) in _AUXILIARIES:
            j = i + 1
            while j < len(tokens) and j - i <= 3 and _is_filler(_norm(tokens[j].text)):
                j += 1
            if j < len(tokens) and j - i <= 4 and _is_participle(tokens, j):
                start, end = tokens[i].start, tokens[j].end
                spans.append((start, end, text[start:end]))
                i = j + 1
                continue
        i += 1
    return spans


_ADJ_SUFFIXES = (
    "ous",
    "ful",
    "ive",
    "able",
    "ible",
    "al",
    "ic",
    "ent",
    "ant",
    "less",
    "ing",
    "ed",
    "ish",
    "ly",
)
_PLAIN_ADJECTIVES = frozenset(
    {
        "popular",
        "common",
        "similar",
        "familiar",
        "clear",
        "corrupt",
        "evil",
        "extreme",
        "intense",
        "severe",
        "secure",
        "wanted",
        "hated",
    }
)


def superlative_spans(text: str, words: Sequence[Token]) -> Evidence:
    spans: Evidence = []
    for k, tok in enumerate(words):
        w = _norm(tok.text)
        if w in ("most", "least") and k + 1 < len(words):
            nxt = words[k + 1]
            n = _norm(nxt.text)
            adjacent = not text[tok.end : nxt.start].strip()
            if adjacent and n.isalpha() and (n in _PLAIN_ADJECTIVES or n.endswith(_ADJ_SUFFIXES)):
                spans.append((tok.start, nxt.end, text[tok.start : nxt.end]))
        elif w in lx.IRREGULAR_SUPERLATIVES or (
            len(w) >= 5 and w.endswith("est") and w.isalpha() and w not in lx.NOT_SUPERLATIVES
        ):
            spans.append((tok.start, tok.end, tok.text))
    return spans


def _all_caps(words: Sequence[Token]) -> Evidence:
    return [
        (t.start, t.end, t.text)
        for t in words
        if t.text.isupper() and sum(c.isalpha() for c in t.text) >= 2 and t.text.upper() not in lx.ACRONYMS
    ]


def _readability(words: Sequence[Token], n_sentences: int) -> dict[str, tuple[float, Evidence]]:
    if not words or not n_sentences:
        return {n: (0.0, []) for n in ("flesch_reading_ease", "flesch_kincaid_grade", "avg_sentence_length")}
    _, cfg = _readability_tools()
    syllables = sum(_syllables(_norm(t.text)) for t in words)
    wps = len(words) / n_sentences
    spw = syllables / len(words)
    fre = cfg["fre_base"] - cfg["fre_sentence_length"] * wps - cfg["fre_syll_per_word"] * spw
    fk = 0.39 * wps + 11.8 * spw - 15.59
    return {
        "flesch_reading_ease": (fre, []),
        "flesch_kincaid_grade": (fk, []),
        "avg_sentence_length": (wps, []),
    }


@lru_cache(maxsize=65536)
def _syllables(word: str) -> int:
    """The estimate textstat itself falls back to without cmudict: hyphenation points + 1."""
    hyphenator, _ = _readability_tools()
    return len(hyphenator.positions(word)) + 1


def _punctuation(text: str, char: str) -> Evidence:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(re.escape(char) + "+", text)]


# --- public API ------------------------------------------------------------------


def compute_signals(text: str) -> dict[str, Signal]:
    """Every signal in ``SIGNAL_NAMES`` order; evidence offsets index into ``text``."""
    tokens = tokenize(text)
    words = _word_tokens(tokens)
    sentences = split_sentences(text)
    n_words, n_sent = len(words), len(sentences)
    if not n_words:  # nothing to measure: zeros, not errors or stray punctuation evidence
        return {name: Signal(name, 0.0, _DESCRIPTIONS[name]) for name in SIGNAL_NAMES}

    raw: dict[str, tuple[float, Evidence]] = {}
    raw.update(_sentiment(text, words))
    raw.update(_empath(words))
    loaded = _match_lexicon(text, words, lx.LOADED_WORDS)
    raw["loaded_words"] = (_rate(len(loaded), n_words), loaded)
    raw.update(_clickbait(text, words, sentences))
    passive = passive_spans(text, tokens)
    raw["passive_ratio"] = (_rate(len(passive), n_sent), passive)
    sup = superlative_spans(text, words)
    raw["superlatives"] = (_rate(len(sup), n_words), sup)
    absolutes = _match_lexicon(text, words, lx.ABSOLUTES, inflect=False)
    raw["absolutes"] = (_rate(len(absolutes), n_words), absolutes)
    bangs, questions = _punctuation(text, "!"), _punctuation(text, "?")
    raw["exclamation_rate"] = (_rate(text.count("!"), n_sent), bangs)
    raw["question_rate"] = (_rate(text.count("?"), n_sent), questions)
    caps = _all_caps(words)
    raw["all_caps_rate"] = (_rate(len(caps), n_words), caps)
    raw.update(_readability(words, n_sent))

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


def evidence_for(technique_id: str, signals: Mapping[str, Signal]) -> list[dict[str, Any]]:
    """The signals that fired (value > 0) among those linked to ``technique_id``.

    Unknown technique ids raise ``UnknownLabelError``; known techniques without a
    heuristic cue return an empty list.
    """
    technique(technique_id)
    out: list[dict[str, Any]] = []
    for name in TECHNIQUE_SIGNALS.get(technique_id, ()):
        signal = signals.get(name)
        if signal is None or signal.value <= 0:
            continue
        out.append(
            {
                "signal": name,
                "value": signal.value,
                "description": signal.description,
                "evidence": [{"start": s, "end": e, "text": t} for s, e, t in signal.evidence],
            }
        )
    return out
