"""The Label Studio config is generated from the taxonomy and the checked-in copy cannot drift."""

import xml.etree.ElementTree as ET
from collections import Counter

from mindlens import taxonomy
from mindlens.labelling.config import CONFIG_PATH, label_config


def test_config_parses_and_has_every_technique_once():
    root = ET.fromstring(label_config())
    labels = root.find(".//Labels[@name='technique']")
    assert labels is not None and labels.get("toName") == "text"
    values = Counter(label.get("value") for label in labels.iter("Label"))
    assert set(values) == set(taxonomy.TECHNIQUE_IDS) and set(values.values()) == {1}
    for label in labels.iter("Label"):
        t = taxonomy.technique(label.get("value"))
        assert label.get("background") == t.color and t.definition in label.get("hint")
    text = root.find(".//Text[@name='text']")
    assert text is not None and text.get("value") == "$text"


def test_config_has_title_verdict_and_note_controls():
    root = ET.fromstring(label_config())
    clickbait = root.find(".//Choices[@name='clickbait']")
    assert clickbait.get("choice") == "single"
    assert [c.get("value") for c in clickbait.iter("Choice")] == ["clickbait", "not clickbait"]
    verdict = root.find(".//Choices[@name='verdict']")
    assert "no technique" in [c.get("value") for c in verdict.iter("Choice")]
    assert root.find(".//TextArea[@name='note']") is not None
    document = [c.get("value") for c in root.find(".//Choices[@name='document']").iter("Choice")]
    assert set(document) == set(taxonomy.TECHNIQUE_IDS) - {"clickbait"}
    names = [el.get("name") for el in root.iter() if el.get("name")]
    assert len(names) == len(set(names))  # Label Studio needs unique control names


def test_checked_in_config_is_the_generated_one():
    assert CONFIG_PATH.read_text(encoding="utf-8") == label_config(), (
        "label_studio/config.xml is stale: run `mindlens labels config`"
    )
