"""Data tests on the real PTC training articles."""

from collections import Counter

import pytest
from conftest import data_dir, needs_ptc

from mindlens import taxonomy
from mindlens.data.dataset import build_tables, content_hash, split_documents
from mindlens.data.sources import ptc
from mindlens.preprocessing.labels import overlaps
from mindlens.preprocessing.sentences import split_sentences

pytestmark = needs_ptc


@pytest.fixture(scope="module")
def corpus():
    return ptc.load(data_dir())


def test_counts_match_the_published_corpus(corpus):
    train = [d for d in corpus.documents if d.split == "train"]
    assert len(train) == 371
    assert sum(d.split == "unlabelled" for d in corpus.documents) == 90
    assert len(corpus.spans) == 6128
    assert set(Counter(s.technique for s in corpus.spans)) == set(taxonomy.SOURCE_LABELS["ptc"].values())
    assert set(corpus.label_space) == set(taxonomy.SOURCE_LABELS["ptc"].values())
    assert len(corpus.propaganda_spans) == 5468


def test_propaganda_spans_cover_technique_spans(corpus):
    """SI spans are the merged technique spans: each technique span overlaps one."""
    by_doc = {}
    for si in corpus.propaganda_spans:
        by_doc.setdefault(si.document_id, []).append(si)
    for span in corpus.spans[:1500]:
        assert any(
            overlaps(si.start, si.end, span.start, span.end) for si in by_doc.get(span.document_id, [])
        )


def test_span_offsets_lie_inside_their_article(corpus):
    texts = {d.id: d.text for d in corpus.documents}
    for span in corpus.spans:
        assert span.end <= len(texts[span.document_id])
        assert texts[span.document_id][span.start : span.end].strip()


def test_bom_is_kept_so_offsets_stay_true(corpus):
    bom = {d.native_id for d in corpus.documents if d.text.startswith("\ufeff")}
    assert {"705409419", "712382330"} <= bom


def test_sentences_round_trip_on_every_article(corpus):
    for doc in corpus.documents:
        sentences = split_sentences(doc.text, one_per_line=True)
        assert sentences, doc.id
        lines = [line.strip(" \t\ufeff\r") for line in doc.text.split("\n") if line.strip(" \t\ufeff\r")]
        assert [s.text for s in sentences] == lines
        for s in sentences:
            assert doc.text[s.start : s.end] == s.text


@pytest.fixture(scope="module")
def tables(corpus):
    return build_tables([corpus], val_fraction=0.2, seed=13)


def test_every_span_labels_the_sentences_it_touches(corpus, tables):
    sentences = tables["sentences"]
    by_doc = {doc_id: group for doc_id, group in sentences.groupby("document_id")}
    for span in corpus.spans[:2000]:
        rows = by_doc[span.document_id]
        hit = rows[[overlaps(s, e, span.start, span.end) for s, e in zip(rows.start, rows.end, strict=False)]]
        assert len(hit) >= 1
        assert all(span.technique in labels for labels in hit["labels"])


def test_split_is_by_document_deterministic_and_hash_stable(corpus, tables):
    ids = [d.id for d in corpus.documents if d.split == "train"]
    first = split_documents(ids, 0.2, seed=13)
    assert first == split_documents(list(reversed(ids)), 0.2, seed=13)
    assert first != split_documents(ids, 0.2, seed=14)
    assert sum(v == "val" for v in first.values()) == round(0.2 * len(ids))
    docs = tables["documents"]
    assert set(docs["split"]) == {"train", "val", "unlabelled"}
    assert tables["sentences"].groupby("document_id")["split"].nunique().max() == 1
    assert content_hash(tables) == content_hash(build_tables([corpus], val_fraction=0.2, seed=13))


def test_missing_data_dir_gives_a_clear_error(tmp_path):
    with pytest.raises(ptc.DataNotFoundError, match="MINDLENS_DATA_DIR"):
        ptc.load(tmp_path)
