"""The signal list and compute_signals (features.signals): contracts, caching, offline."""

from __future__ import annotations

import socket

import pytest

from mindlens.features import signals as signals_module
from mindlens.features.empath_categories import EMPATH_CATEGORIES, empath_forms, empath_index
from mindlens.features.readability import hyphenation, readability_tools, syllables
from mindlens.features.sentiment import vader
from mindlens.features.signals import SIGNAL_NAMES, compute_signals, describe_signals, signal_vector

ARTICLE = (
    "BREAKING: “You won't believe this!” The regime’s barbaric crackdown was approved by "
    "officials. Everyone knows the most corrupt minister always lies. Is this the greatest "
    "scandal ever?\nThe US and NATO were not even told. 17 things they hid from you."
)


@pytest.mark.parametrize("text", ["", "   \n\t", "...", "!!!"])
def test_empty_text_gives_zeros(text):
    signals = compute_signals(text)
    assert list(signals) == list(SIGNAL_NAMES)
    assert all(s.value == 0.0 and s.evidence == [] for s in signals.values())


def test_evidence_offsets_index_the_original_text():
    signals = compute_signals(ARTICLE)
    fired = [s for s in signals.values() if s.evidence]
    assert len(fired) >= 10
    for s in fired:
        for start, end, matched in s.evidence:
            assert ARTICLE[start:end] == matched, s.name


def test_signal_names_order_is_stable():
    assert SIGNAL_NAMES[:5] == (
        "sentiment_compound",
        "sentiment_pos",
        "sentiment_neg",
        "sentiment_neu",
        "sentiment_intensity",
    )
    assert SIGNAL_NAMES[-3:] == ("flesch_reading_ease", "flesch_kincaid_grade", "avg_sentence_length")
    assert len(set(SIGNAL_NAMES)) == len(SIGNAL_NAMES) == 5 + len(EMPATH_CATEGORIES) + 15
    assert list(compute_signals(ARTICLE)) == list(SIGNAL_NAMES)
    vector = signal_vector(ARTICLE)
    assert list(vector) == list(SIGNAL_NAMES)
    assert all(isinstance(v, float) for v in vector.values())


def test_every_signal_is_described_and_documented():
    described = describe_signals()
    assert [d["name"] for d in described] == list(SIGNAL_NAMES)
    assert all(set(d) == {"name", "description", "range"} and d["description"] for d in described)
    doc = signals_module.__doc__ or ""
    for name in SIGNAL_NAMES:
        documented = name.removeprefix("empath_") if name.startswith("empath_") else name
        assert documented in doc, name


def test_analyzers_are_cached_singletons():
    compute_signals("warm")
    assert vader() is vader()
    assert empath_index() is empath_index()
    hits = vader.cache_info().hits
    compute_signals("again")
    assert vader.cache_info().misses == 1
    assert vader.cache_info().hits > hits


def test_runs_offline(monkeypatch):
    """Fresh lexicon loads and a full analysis never open a socket or call nltk.download."""

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    nltk = pytest.importorskip("nltk")
    monkeypatch.setattr(nltk, "download", no_network)
    for cached in (vader, empath_index, empath_forms, readability_tools, hyphenation, syllables):
        cached.cache_clear()
    assert compute_signals(ARTICLE)["flesch_reading_ease"].value != 0.0
