"""Empath category signals (features.empath_categories)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindlens.features.signals import Signal, compute_signals


def _sig(text: str, name: str) -> Signal:
    return compute_signals(text)[name]


def test_empath_categories_per_token():
    text = "The terrorists threatened violence and war."
    signals = compute_signals(text)
    for category in ("terrorism", "violence", "war"):
        assert signals[f"empath_{category}"].value > 0, category
    assert signals["empath_war"].value == pytest.approx(len(signals["empath_war"].evidence) / 6)
    assert _sig("The committee met on Tuesday.", "empath_fear").value == 0.0


def test_empath_lexicon_ships_inside_the_package():
    import empath

    assert (Path(empath.__file__).parent / "data" / "categories.tsv").is_file()
