"""The model card is written from release.json: a derived release (V2) says how it was made
and what the protocol measured; a trained one (V1) does not pretend to."""

from __future__ import annotations

import json

from mindlens.model_card import render
from mindlens.training.release import SHIPPED_RELEASES


def _release(folder):  # the manifest as read_release returns it (checksums are tested elsewhere)
    return json.loads((folder / "release.json").read_text())


def test_derived_release_card_has_its_steps_protocol_and_in_sample_warning() -> None:
    v2 = _release(SHIPPED_RELEASES[1])  # models/v2: tune-decoding, with the protocol's figures
    card = render(v2, "mindlens registry model-card", "models/v2/release.json")
    assert card.startswith(f"# Model card: MindLens analyzer {v2['version']}")
    assert "from models/v2/release.json" in card
    assert "## How it was made" in card and "tune-decoding" in card and "--device cpu" in card
    tuned = v2["protocol"]["decoding"]["tuned"]["flc_f1"]
    assert "## Under the protocol" in card and f"{tuned[0]:.3f} ± {tuned[1]:.3f}" in card
    assert "are optimistic" in card and "reads the whole article" in card
    assert f"{v2['metrics']['val_flc_f1']:.3f}" in card


def test_trained_release_card_has_no_derivation_or_protocol_section() -> None:
    v1 = _release(SHIPPED_RELEASES[0])
    card = render(v1, "mindlens registry model-card --release models/v1", "models/v1/release.json")
    assert "## How it was made" not in card and "## Under the protocol" not in card
    assert "are optimistic" not in card and v1["training"]["command"] in card


def test_a_patch_that_keeps_the_decoding_shows_the_base_protocol_as_the_bases() -> None:
    v21 = _release(SHIPPED_RELEASES[2])  # models/v2.1: requantized, decoding unchanged
    card = render(v21, "mindlens registry model-card", "models/v2.1/release.json")
    assert "## Under the protocol" in card and "Measured on release 1.1.0, whose decoding" in card
    assert "are optimistic" in card and "requantize" in card
    v2_card = render(_release(SHIPPED_RELEASES[1]), "mindlens registry model-card")
    assert "Measured on release" not in v2_card
