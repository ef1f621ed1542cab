"""Label shapes: sentence labels from spans, multi-hot matrices."""

import numpy as np

from mindlens.preprocessing.labels import indicator, sentence_labels
from mindlens.preprocessing.sentences import split_sentences
from mindlens.schema import Span


def test_sentence_labels_take_every_overlapping_span():
    text = "Alpha beta. Gamma delta. Epsilon."
    sentences = split_sentences(text)
    spans = [
        Span("d", 6, 16, "loaded_language"),  # crosses sentences 0 and 1
        Span("d", 25, 32, "doubt"),
        Span("d", 11, 12, "slogans"),
    ]  # the space between sentences 0 and 1 only
    assert sentence_labels(sentences, spans) == [{"loaded_language"}, {"loaded_language"}, {"doubt"}]


def test_indicator_is_multi_hot_in_label_order_and_ignores_unknown_ids():
    m = indicator([["b"], ["a", "b", "zz"], [], ("a",)], ["a", "b"])
    assert m.dtype == bool
    assert m.tolist() == [[False, True], [True, True], [False, False], [True, False]]
    assert indicator([], ["a", "b"]).shape == (0, 2)
    assert indicator(iter([["a"]]), []).shape == (1, 0)
    assert np.array_equal(indicator([{"a"}], ["a"]), np.array([[True]]))
