import pytest

from mindlens import taxonomy


def test_every_technique_has_ui_text_and_a_known_trait():
    for technique in taxonomy.TECHNIQUES:
        assert technique.definition and technique.example and technique.name
        assert taxonomy.trait(technique.trait)
        assert technique.color.startswith("#")


def test_every_trait_has_techniques():
    for trait in taxonomy.TRAITS:
        assert taxonomy.techniques_of_trait(trait.id)


def test_all_fourteen_ptc_labels_map_to_distinct_techniques():
    mapping = taxonomy.SOURCE_LABELS["ptc"]
    assert len(mapping) == 14
    assert len(set(mapping.values())) == 14


def test_unknown_labels_fail_loudly():
    with pytest.raises(taxonomy.UnknownLabelError, match="Obfuscation"):
        taxonomy.map_label("ptc", "Obfuscation")
    with pytest.raises(taxonomy.UnknownLabelError, match="no label mapping"):
        taxonomy.map_label("nope", "Doubt")
    with pytest.raises(taxonomy.UnknownLabelError):
        taxonomy.technique("made_up")
