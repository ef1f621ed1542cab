"""An analyzer bundle with the TC model that reads the article: saved and loaded as JSON,
used for each fragment's tc_confidence, for PTC TC predictions, and attached to a bundle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_tc_context import DOCS, _data  # the synthetic articles of the TC model tests

from mindlens.evaluation.ptc_predict import predict_tc
from mindlens.models.analyzer import TC_MODEL, Analyzer
from mindlens.models.baseline import TfidfOvrClassifier
from mindlens.models.tc_context import TCContextClassifier
from mindlens.schema import Document

TEXTS = ["they are traitors and liars", "meeting at noon today", "a shameful disgrace"] * 4
LABELS = [["name_calling"], [], ["loaded_language"]] * 4


def _analyzer(with_tc: bool = True) -> Analyzer:
    sentence = TfidfOvrClassifier(["name_calling", "loaded_language"], min_df=1, C=10.0).fit(TEXTS, LABELS)
    tc = TCContextClassifier(min_df=1).fit(*_data()) if with_tc else None
    return Analyzer(sentence, min_confidence=0.3, tc_model=tc)


def test_bundle_round_trip_keeps_the_tc_model(tmp_path) -> None:
    analyzer = _analyzer()
    folder = analyzer.save(tmp_path / "bundle", compact=True)
    manifest = json.loads((folder / "analyzer.json").read_text())
    assert manifest[TC_MODEL] == f"{TC_MODEL}.json.gz"
    loaded = Analyzer.load(folder)
    assert loaded.tc_model is not None
    fragments = [(DOCS[0], DOCS[0].index("traitors"), DOCS[0].index("traitors") + 8)]
    labels, probs = analyzer.classify_fragments(fragments)
    labels2, probs2 = loaded.classify_fragments(fragments)
    assert labels == labels2
    np.testing.assert_allclose(probs, probs2, atol=1e-4)  # weights rounded to 6 digits


def test_fragments_get_the_tc_models_second_opinion() -> None:
    text = "The traitors in parliament lied again. Lunch is at noon."
    with_tc = _analyzer().analyze(text, min_confidence=0.3)["spans"]
    assert with_tc and all(0.0 <= s["tc_confidence"] <= 1.0 for s in with_tc if "tc_confidence" in s)
    assert any("tc_confidence" in s for s in with_tc)
    without = _analyzer(with_tc=False).analyze(text, min_confidence=0.3)["spans"]
    assert all("tc_confidence" not in s for s in without)


def test_ptc_tc_predictions_read_the_article() -> None:
    analyzer = _analyzer()
    doc = DOCS[0]
    second = doc.index("stop the invasion", doc.index("stop the invasion") + 1)
    template = [
        ("a1", doc.index("traitors"), doc.index("traitors") + 8, None),
        ("a1", second, second + 17, None),
    ]
    documents = {"a1": Document(id="ptc:a1", source="ptc", text=doc, split="test")}
    predicted = predict_tc(analyzer, documents, template)
    assert [p[:3] for p in predicted] == [t[:3] for t in template]
    assert predicted[1][3] == "repetition"  # a phrase said twice in the article
    with pytest.raises(ValueError, match="not in the articles folder"):
        predict_tc(analyzer, documents, [("zz", 0, 3, None)])


def test_classify_fragments_needs_a_tc_model() -> None:
    with pytest.raises(ValueError, match="no \\(fitted\\) TC model"):
        _analyzer(with_tc=False).classify_fragments([("text", 0, 4)])


def test_a_bundle_naming_a_foreign_tc_file_is_refused(tmp_path) -> None:
    folder = _analyzer().save(tmp_path / "bundle")
    manifest = json.loads((folder / "analyzer.json").read_text())
    manifest[TC_MODEL] = "../elsewhere.json"
    (folder / "analyzer.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="bad TC model file name"):
        Analyzer.load(folder)
