"""``tagger.json``: V1 models stay readable by V1 servers, newer formats are refused,
heads are checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mindlens.models.tagger_config import CONFIG, FORMAT, FORMAT_V1, HEADS, TaggerConfig, output_names

LABELS = ["loaded_language", "name_calling", "slogans", "doubt"]


def test_config_formats(tmp_path: Path) -> None:
    v1 = TaggerConfig(labels=LABELS, backbone="minilm")
    v1.save(tmp_path)
    saved = json.loads((tmp_path / CONFIG).read_text())
    assert saved["format"] == FORMAT_V1 and "heads" not in saved  # V1 servers can read it
    assert TaggerConfig.load(tmp_path).heads == ["token", "sentence"]
    TaggerConfig(labels=LABELS, backbone="minilm", heads=["tc", "clickbait"]).save(tmp_path)
    assert json.loads((tmp_path / CONFIG).read_text())["format"] == FORMAT
    assert TaggerConfig.load(tmp_path).heads == ["tc", "clickbait"]
    (tmp_path / CONFIG).write_text(json.dumps(saved | {"format": "mindlens.tagger/9"}))
    with pytest.raises(ValueError, match="mindlens.tagger/9"):
        TaggerConfig.load(tmp_path)
    with pytest.raises(ValueError, match="heads"):
        TaggerConfig(labels=LABELS, backbone="x", heads=["spans"])


def test_heads_keep_the_network_order() -> None:
    config = TaggerConfig(labels=LABELS, backbone="x", heads=["clickbait", "token"])
    assert config.heads == ["token", "clickbait"]
    assert output_names(HEADS) == [
        "token_logits",
        "sentence_logits",
        "tc_token_logits",
        "tc_context_logits",
        "clickbait_logits",
    ]
    assert output_names(["tc"]) == ["tc_token_logits", "tc_context_logits"]
