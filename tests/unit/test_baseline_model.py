import json

import numpy as np
import pytest

from mindlens.models.analyzer import Analyzer
from mindlens.models.baseline import TfidfOvrClassifier

TEXTS = [
    "they are traitors and liars",
    "the traitors lied again",
    "meeting at noon today",
    "the weather is mild today",
    "liars and traitors everywhere",
    "lunch is served at noon",
] * 3
LABELS = [["name_calling"], ["name_calling"], [], [], ["name_calling", "loaded_language"], []] * 3
TECHNIQUES = ["name_calling", "loaded_language", "slogans"]


def _model():
    return TfidfOvrClassifier(TECHNIQUES, min_df=1, C=10.0).fit(TEXTS, LABELS)


def test_learns_a_separable_toy_problem():
    model = _model()
    assert model.predict(["traitors and liars"]) == [["name_calling"]]
    assert model.predict(["noon meeting"]) == [[]]
    # a label never seen positive is predicted with near-zero confidence
    assert model.predict_proba(["anything"])[0, TECHNIQUES.index("slogans")] < 0.01


def test_json_round_trip_gives_identical_probabilities(tmp_path):
    model = _model()
    model.save(tmp_path / "m.json")
    json.loads((tmp_path / "m.json").read_text())  # plain JSON, no pickle
    loaded = TfidfOvrClassifier.load(tmp_path / "m.json")
    probe = ["liars at noon", "a completely new sentence"]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe))


def test_rejects_foreign_files(tmp_path):
    with pytest.raises(ValueError, match="format"):
        TfidfOvrClassifier.from_dict({"format": "pickle"})


def test_analyzer_bundle_round_trip_and_document_scores(tmp_path):
    analyzer = Analyzer(_model(), min_confidence=0.5)
    loaded = Analyzer.load(analyzer.save(tmp_path / "bundle"))
    text = "They are traitors and liars. Lunch is at noon."
    result = loaded.analyze(text)
    assert [s["text"] for s in result["sentences"]] == ["They are traitors and liars.", "Lunch is at noon."]
    assert result["sentences"][0]["techniques"][0]["technique"] == "name_calling"
    assert result["sentences"][1]["techniques"] == []
    doc = result["document"]
    assert doc["techniques"]["name_calling"] == max(
        t["confidence"] for t in result["sentences"][0]["techniques"]
    )
    assert doc["traits"]["attacks_on_people"] >= doc["techniques"]["name_calling"]
    assert loaded.analyze("", min_confidence=0.1)["sentences"] == []


def test_heuristic_signals_as_features_round_trip(tmp_path):
    model = TfidfOvrClassifier(TECHNIQUES, min_df=1, C=10.0, use_signals=True).fit(TEXTS, LABELS)
    assert model.coef_.shape[1] == len(model.vectorizer.vocabulary_) + len(model.signal_mean_)
    model.save(tmp_path / "m.json.gz", digits=6)
    loaded = TfidfOvrClassifier.load(tmp_path / "m.json.gz")
    probe = ["TRAITORS!!! They are liars", "lunch at noon"]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe), atol=1e-4)
    assert loaded.predict(["they are traitors and liars"]) == [["name_calling"]]


def test_title_is_the_given_one_the_first_line_or_the_first_sentence():
    from mindlens.models.analyzer import title_of

    assert title_of("Body text.", "  A headline ") == "A headline"
    assert title_of("\ufeffShort headline\n\nBody.", None) == "Short headline"
    paragraph = "This is a long opening sentence of a paragraph that goes on. " * 4
    assert title_of(paragraph, None) == "This is a long opening sentence of a paragraph that goes on."
    assert title_of("   ", None) == ""


def test_fragments_say_whether_they_are_quoted_and_by_whom():
    analyzer = Analyzer(_model(), min_confidence=0.5)
    text = '"They are traitors and liars," the senator said. Liars and traitors everywhere.'
    spans = analyzer.analyze(text)["spans"]
    by_sentence = {s["sentence"]: s for s in spans if s["technique"] == "name_calling"}
    assert by_sentence[0]["quoted"] is True and by_sentence[0]["speaker"] == "the senator"
    assert by_sentence[1]["quoted"] is False and by_sentence[1]["speaker"] is None


def test_quoted_weight_discounts_only_quoted_sentences_in_document_scores():
    analyzer = Analyzer(_model(), min_confidence=0.5)
    quoted = '"They are traitors and liars," the senator said. Lunch is at noon.'
    full = analyzer.analyze(quoted)["document"]["techniques"]["name_calling"]
    half = analyzer.analyze(quoted, quoted_weight=0.5)["document"]["techniques"]["name_calling"]
    assert half < full
    plain = "They are traitors and liars, the senator said. Lunch is at noon."
    assert (
        analyzer.analyze(plain, quoted_weight=0.5)["document"]["techniques"]["name_calling"]
        == analyzer.analyze(plain)["document"]["techniques"]["name_calling"]
    )
    with pytest.raises(ValueError, match="quoted_weight"):
        analyzer.analyze(quoted, quoted_weight=1.5)
