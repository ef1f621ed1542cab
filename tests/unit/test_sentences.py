from mindlens.preprocessing.sentences import split_sentences


def _roundtrip(text):
    sentences = split_sentences(text)
    for s in sentences:
        assert text[s.start : s.end] == s.text
    return [s.text for s in sentences]


def test_splits_on_sentence_punctuation_and_keeps_offsets():
    text = "  The vote passed. Critics were furious!  Was it fair?\nNew line here"
    assert _roundtrip(text) == ["The vote passed.", "Critics were furious!", "Was it fair?", "New line here"]


def test_does_not_split_after_abbreviations_or_initials():
    text = "Dr. Smith met Mr. Jones in the U.S. on Monday. J. Doe agreed."
    assert _roundtrip(text) == ["Dr. Smith met Mr. Jones in the U.S. on Monday.", "J. Doe agreed."]


def test_quotes_after_the_full_stop_stay_with_the_sentence():
    text = 'He said "this is a disgrace." Then he left.'
    assert _roundtrip(text) == ['He said "this is a disgrace."', "Then he left."]


def test_one_per_line_mode_and_bom_are_respected():
    text = "\ufeffTitle line. Still title\n\nFirst sentence. Same line\n"
    sentences = split_sentences(text, one_per_line=True)
    assert [s.text for s in sentences] == ["Title line. Still title", "First sentence. Same line"]
    assert sentences[0].start == 1  # the BOM is character 0 and is not part of the sentence


def test_blank_text_gives_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n \t") == []
