import gzip
import json

import numpy as np
import pytest

from mindlens.models.tc_context import (
    DEFAULT_FEATURES,
    FAMILIES,
    TCContextClassifier,
    fit_mix_weight,
    log_linear_mix,
)
from mindlens.models.tc_features import (
    REPETITION_NAMES,
    DocumentView,
    Fragment,
    check_fragment,
    repetition_features,
)

DOCS = [
    "Border crisis\n\nThe traitors in parliament lied again.\n\nWe must stop the invasion now. "
    "We will stop the invasion, they said.\n\nCorrupt liars run the country.",
    "Market news\n\nShares rose on Monday.\n\nThe traitors sold out the nation! "
    "We build the wall, build the wall.\n\nWhat a shameful disgrace.",
    "Weather report\n\nSo-called experts got it wrong.\n\nA shameful, disgusting betrayal of voters. "
    "To stop the invasion, we say, stop the invasion.",
]


def _find(doc: str, phrase: str, nth: int = 0) -> tuple[str, int, int]:
    start = -1
    for _ in range(nth + 1):
        start = doc.index(phrase, start + 1)
    return (doc, start, start + len(phrase))


def _data() -> tuple[list[tuple[str, int, int]], list[str]]:
    examples, labels = [], []
    for doc in DOCS:
        for phrase, label in (
            ("traitors", "name_calling"),
            ("liars", "name_calling"),
            ("experts", "name_calling"),
            ("shameful", "loaded_language"),
            ("disgusting", "loaded_language"),
            ("disgrace", "loaded_language"),
        ):
            if phrase in doc:
                examples.append(_find(doc, phrase))
                labels.append(label)
        for phrase in ("stop the invasion", "build the wall"):
            if doc.count(phrase) >= 2:
                examples.append(_find(doc, phrase, nth=1))
                labels.append("repetition")
    return examples * 3, labels * 3


LABELS = ["name_calling", "loaded_language", "repetition", "slogans"]


@pytest.fixture(scope="module")
def model() -> TCContextClassifier:
    examples, labels = _data()
    return TCContextClassifier(LABELS, features=FAMILIES, min_df=1, C=10.0).fit(examples, labels)


def test_fits_and_predicts_a_tiny_synthetic_set(model):
    examples, labels = _data()
    assert model.predict(examples) == labels
    probs = model.predict_proba(examples)
    assert probs.shape == (len(examples), len(LABELS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    # a label never seen in training gets (almost) no probability
    assert probs[:, LABELS.index("slogans")].max() < 1e-6
    # Fragment objects work as well as tuples; no examples give an empty answer
    assert model.predict([Fragment(*examples[0])]) == labels[:1]
    assert model.predict_proba([]).shape == (0, len(LABELS))


def test_repetition_feature_fires_on_a_planted_repeated_phrase_and_not_otherwise():
    doc = (
        "Title here\n\nThey want open borders for everyone.\n\nNobody voted for this.\n\n"
        "Open borders will ruin us, and open borders is their plan."
    )
    view = DocumentView(doc)
    index = {name: i for i, name in enumerate(REPETITION_NAMES)}
    _, start, end = _find(doc, "open borders", nth=0)
    repeated = repetition_features(view, start, end)
    assert repeated[index["rep_exact_any"]] == 1.0
    assert repeated[index["rep_exact_2"]] == 1.0  # "Open borders" twice more, case ignored
    assert repeated[index["rep_exact_after"]] == 1.0 and repeated[index["rep_exact_before"]] == 0.0
    assert repeated[index["rep_content_all"]] == 1.0
    _, start, end = _find(doc, "Nobody voted")
    single = repetition_features(view, start, end)
    for name in ("rep_exact_any", "rep_exact_log_count", "rep_content_share", "rep_longest_share"):
        assert single[index[name]] == 0.0, name
    # the fragment's own occurrence never counts
    lone = DocumentView("Title\n\nA unique phrase stands alone.")
    _, start, end = _find(lone.text, "unique phrase")
    assert repetition_features(lone, start, end)[index["rep_exact_any"]] == 0.0


def test_json_round_trip_gives_identical_probabilities(model, tmp_path):
    examples, _ = _data()
    probe = examples[:5] + [_find("A new text\n\nthe traitors again and again", "traitors")]
    for name in ("m.json", "m.json.gz"):
        model.save(tmp_path / name)
        loaded = TCContextClassifier.load(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
        assert loaded.labels == model.labels and loaded.features == list(FAMILIES)
    default = TCContextClassifier(LABELS, min_df=1).fit(*_data())
    assert default.features == list(DEFAULT_FEATURES)
    default.save(tmp_path / "d.json")
    np.testing.assert_array_equal(
        TCContextClassifier.load(tmp_path / "d.json").predict_proba(probe), default.predict_proba(probe)
    )


def test_saved_file_is_plain_json_without_pickle(model, tmp_path):
    model.save(tmp_path / "m.json")
    raw = (tmp_path / "m.json").read_bytes()
    data = json.loads(raw)
    assert data["format"] == "mindlens.tc_context/1"
    assert not raw.startswith(b"\x80") and b"pickle" not in raw
    model.save(tmp_path / "m.json.gz")
    assert json.loads(gzip.decompress((tmp_path / "m.json.gz").read_bytes())) == data
    with pytest.raises(ValueError, match="format"):
        TCContextClassifier.from_dict({"format": "pickle"})


def test_class_weighting_favours_rare_techniques(model):
    examples, labels = _data()
    weights = model.class_weight_
    assert weights["repetition"] > weights["loaded_language"] > 0  # repetition is the rarest here
    assert model.to_dict()["class_weight"] == weights
    plain = TCContextClassifier(LABELS, min_df=1, class_weight_power=0.0).fit(examples, labels)
    assert set(plain.class_weight_.values()) == {1.0}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (("", 0, 1), "empty"),
        (("   \n ", 0, 1), "empty"),
        (("some text", 5, 50), "outside"),
        (("some text", -1, 3), "outside"),
        (("some text", 4, 4), "outside"),
        (("some text", 4, 5), "whitespace"),
        (("some text", 0.0, 3), "integers"),
        ("just a string", "text, start, end"),
    ],
)
def test_bad_input_raises_a_clear_value_error(model, item, message):
    with pytest.raises(ValueError, match=message):
        check_fragment(item)
    with pytest.raises(ValueError, match=message):
        model.predict([item])


def test_bad_fit_arguments_raise():
    examples, labels = _data()
    with pytest.raises(ValueError, match="labels"):
        TCContextClassifier().fit(examples, labels[:-1])
    with pytest.raises(ValueError, match="feature families"):
        TCContextClassifier(features=["nope"])
    with pytest.raises(ValueError, match="not among"):
        TCContextClassifier(["name_calling", "repetition"]).fit(examples, labels)


def test_log_linear_mix_and_weight_fit():
    own = np.array([[0.6, 0.4], [0.6, 0.4], [0.3, 0.7]])
    other = np.array([[0.1, 0.9], [0.9, 0.1], [0.2, 0.8]])
    np.testing.assert_allclose(log_linear_mix(own, other, 0.0), own, atol=1e-5)
    np.testing.assert_allclose(log_linear_mix(own, other, 1.0), other, atol=1e-5)
    assert fit_mix_weight(own, other, [1, 0, 1]) > 0.5  # only the other model gets row 0 right
    assert fit_mix_weight(own, other, [0, 0, 1]) < 0.5


def test_two_techniques_give_a_proper_two_column_distribution():
    examples, labels = _data()
    keep = [i for i, label in enumerate(labels) if label != "repetition"]
    model = TCContextClassifier(LABELS, min_df=1, C=10.0).fit(
        [examples[i] for i in keep], [labels[i] for i in keep]
    )
    assert model.predict([examples[i] for i in keep]) == [labels[i] for i in keep]
    probs = model.predict_proba(examples)
    assert probs[:, [LABELS.index("repetition"), LABELS.index("slogans")]].max() < 1e-6
