from mindlens.preprocessing.normalize import normalize
from mindlens.preprocessing.tokens import bio_tags, spans_from_bio, tokenize
from mindlens.schema import Span


def test_normalize_maps_every_character_back():
    text = "\ufeff“Shame”  on\u00a0them —\u200b now…"
    n = normalize(text)
    assert n.text == '"Shame" on them - now...'
    # every normalized span maps back onto the original characters it came from
    start = n.text.index("Shame")
    assert text[slice(*n.to_original(start, start + 5))] == "Shame"
    quoted = n.text.index('"Shame"')
    assert text[slice(*n.to_original(quoted, quoted + 7))] == "“Shame”"
    dots = n.text.index("...")
    assert text[slice(*n.to_original(dots, dots + 3))] == "…"
    assert n.to_normalized(text.index("on")) == n.text.index("on")


def test_normalize_keeps_newlines_and_plain_text_unchanged():
    text = "Line one.\nLine two."
    n = normalize(text)
    assert n.text == text and n.offsets == tuple(range(len(text)))


def test_tokens_and_bio_per_technique_with_overlaps():
    text = "They are corrupt traitors, frankly."
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["They", "are", "corrupt", "traitors", ",", "frankly", "."]
    spans = [Span("d", 9, 25, "loaded_language"), Span("d", 17, 25, "name_calling")]
    tags = bio_tags(tokens, spans, ["loaded_language", "name_calling", "doubt"])
    assert tags["loaded_language"] == ["O", "O", "B", "I", "O", "O", "O"]
    assert tags["name_calling"] == ["O", "O", "O", "B", "O", "O", "O"]
    assert tags["doubt"] == ["O"] * 7
    back = spans_from_bio(tokens, tags, "d")
    assert {(s.start, s.end, s.technique) for s in back} == {
        (9, 25, "loaded_language"),
        (17, 25, "name_calling"),
    }


def test_adjacent_spans_of_one_technique_stay_separate():
    text = "Evil men. Evil deeds."
    tokens = tokenize(text)
    spans = [Span("d", 0, 8, "loaded_language"), Span("d", 10, 20, "loaded_language")]
    tags = bio_tags(tokens, spans, ["loaded_language"])
    assert tags["loaded_language"] == ["B", "I", "O", "B", "I", "O"]
    assert len(spans_from_bio(tokens, tags)) == 2
