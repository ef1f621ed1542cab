"""Technique -> signal mapping and evidence_for (features.evidence)."""

from __future__ import annotations

import pytest

from mindlens.features.evidence import TECHNIQUE_SIGNALS, evidence_for
from mindlens.features.signals import SIGNAL_NAMES, compute_signals
from mindlens.taxonomy import TECHNIQUE_IDS, UnknownLabelError

ARTICLE = (
    "BREAKING: “You won't believe this!” The regime’s barbaric crackdown was approved by "
    "officials. Everyone knows the most corrupt minister always lies. Is this the greatest "
    "scandal ever?\nThe US and NATO were not even told. 17 things they hid from you."
)


def test_technique_signals_reference_known_ids():
    assert set(TECHNIQUE_SIGNALS) <= set(TECHNIQUE_IDS)
    for names in TECHNIQUE_SIGNALS.values():
        assert set(names) <= set(SIGNAL_NAMES)


def test_evidence_for_techniques():
    signals = compute_signals(ARTICLE)
    loaded = evidence_for("loaded_language", signals)
    assert "loaded_words" in [e["signal"] for e in loaded]
    ev = next(e for e in loaded if e["signal"] == "loaded_words")
    assert {"barbaric", "crackdown"} <= {x["text"] for x in ev["evidence"]}
    assert all(e["value"] > 0 for e in loaded)
    exaggeration = {e["signal"] for e in evidence_for("exaggeration_minimisation", signals)}
    assert {"superlatives", "absolutes"} <= exaggeration
    assert evidence_for("circular_reasoning", signals) == []
    assert evidence_for("clickbait", compute_signals("Senate passes budget bill")) == []
    with pytest.raises(UnknownLabelError):
        evidence_for("not_a_technique", signals)
