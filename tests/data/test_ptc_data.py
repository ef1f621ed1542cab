"""Data tests on the real PTC training articles."""

from collections import Counter

import pytest

from conftest import data_dir, needs_ptc
from mindlens import taxonomy
from mindlens.data import ptc
from mindlens.data.dataset import content_hash, sentence_table, split_documents
from mindlens.preprocessing.labels import overlaps
from mindlens.preprocessing.sentences import split_sentences

pytestmark = needs_ptc


@pytest.fixture(scope="module")
def corpus():
    return ptc.load_train(data_dir())


def test_counts_match_the_published_corpus(corpus):
    documents, spans = corpus
    assert len(documents) == 371
    assert len(spans) == 6128
    assert set(Counter(s.technique for s in spans)) == set(taxonomy.TECHNIQUE_IDS)


def test_span_offsets_lie_inside_their_article(corpus):
    documents, spans = corpus
    texts = {d.id: d.text for d in documents}
    for span in spans:
        assert span.end <= len(texts[span.document_id])
        assert texts[span.document_id][span.start:span.end].strip()


def test_bom_is_kept_so_offsets_stay_true(corpus):
    documents, _ = corpus
    bom = {d.id for d in documents if d.text.startswith("\ufeff")}
    assert {"705409419", "712382330"} <= bom


def test_sentences_round_trip_on_every_article(corpus):
    documents, _ = corpus
    for doc in documents:
        sentences = split_sentences(doc.text, one_per_line=True)
        assert sentences, doc.id
        lines = [line.strip(" \t\ufeff\r") for line in doc.text.split("\n") if line.strip(" \t\ufeff\r")]
        assert [s.text for s in sentences] == lines
        for s in sentences:
            assert doc.text[s.start:s.end] == s.text


def test_every_span_labels_the_sentences_it_touches(corpus):
    documents, spans = corpus
    table = sentence_table(documents, spans, {})
    by_doc = {doc_id: group for doc_id, group in table.groupby("document_id")}
    for span in spans[:2000]:
        rows = by_doc[span.document_id]
        hit = rows[[overlaps(s, e, span.start, span.end) for s, e in zip(rows.start, rows.end)]]
        assert len(hit) >= 1
        assert all(span.technique in labels for labels in hit["labels"])


def test_split_is_by_document_deterministic_and_hash_stable(corpus):
    documents, spans = corpus
    ids = [d.id for d in documents]
    first = split_documents(ids, 0.2, seed=13)
    assert first == split_documents(list(reversed(ids)), 0.2, seed=13)
    assert first != split_documents(ids, 0.2, seed=14)
    assert sum(v == "val" for v in first.values()) == round(0.2 * len(ids))
    table = sentence_table(documents[:20], spans, first)
    assert table.groupby("document_id")["split"].nunique().max() == 1
    assert content_hash(table) == content_hash(sentence_table(documents[:20], spans, first))


def test_missing_data_dir_gives_a_clear_error(tmp_path):
    with pytest.raises(ptc.DataNotFoundError, match="MINDLENS_DATA_DIR"):
        ptc.load_train(tmp_path)
