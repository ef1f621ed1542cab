"""Building, splitting and validating the processed dataset on small hand-made sources."""

import pandas as pd
import pytest

from mindlens.data.dataset import (
    TABLES,
    Manifest,
    assign_splits,
    build_tables,
    near_duplicates,
    write_dataset,
)
from mindlens.data.validation import validate_manifest, validate_tables
from mindlens.schema import Document, DocumentLabel, SourceData, Span


def _headlines(n=40):
    docs = [
        Document(f"clickbait:{i}", "clickbait", f"Headline number {i} is here", split="train")
        for i in range(n)
    ]
    labels = [DocumentLabel(d.id, "clickbait") for d in docs[: n // 2]]
    return SourceData("clickbait", docs, labels=labels, label_space=("clickbait",), granularity="document")


def _articles():
    docs = [
        Document("ptc:1", "ptc", "Title\n\nThey are traitors.\nCalm news.\n"),
        Document("ptc:2", "ptc", "Other title\n\nNothing to see here.\n"),
        Document("ptc:3", "ptc", "Test article\n\nUnlabelled text.\n", split="unlabelled"),
    ]
    spans = [Span("ptc:1", 16, 24, "name_calling")]
    return SourceData("ptc", docs, spans=spans, label_space=("name_calling",))


def test_stratified_split_keeps_the_label_ratio_and_is_seeded():
    data = _headlines()
    splits = assign_splits(data, 0.25, seed=3)
    positives = {lb.document_id for lb in data.labels}
    val = [d for d, s in splits.items() if s == "val"]
    assert len(val) == 10 and sum(d in positives for d in val) == 5
    assert splits == assign_splits(data, 0.25, seed=3)
    assert splits != assign_splits(data, 0.25, seed=4)


def test_native_splits_are_kept():
    docs = [Document("logic:a", "logic", "x", split="train"), Document("logic:b", "logic", "y", split="val")]
    data = SourceData("logic", docs, native_split=True)
    assert assign_splits(data, 0.5, seed=1) == {"logic:a": "train", "logic:b": "val"}


def test_tables_carry_span_text_sentence_labels_and_splits():
    tables = build_tables([_articles(), _headlines(8)], 0.5, seed=1)
    spans = tables["spans"]
    assert spans.loc[0, "text"] == "traitors"
    sentences = tables["sentences"].set_index("text")
    assert sentences.loc["They are traitors.", "labels"] == ["name_calling"]
    assert sentences.loc["Calm news.", "labels"] == []
    assert tables["documents"].set_index("document_id").loc["ptc:3", "split"] == "unlabelled"
    assert not sentences.loc["Headline number 0 is here", "span_labelled"]


def test_cap_samples_per_split():
    tables = build_tables([_headlines(40)], 0.25, seed=1, max_documents=4)
    assert tables["documents"]["split"].value_counts().to_dict() == {"train": 4, "val": 4}


def test_near_duplicates_across_splits_are_found():
    docs = pd.DataFrame(
        {
            "document_id": ["a", "b", "c", "d"],
            "source": ["s"] * 4,
            "split": ["train", "val", "train", "train"],
            "text": ["The SAME text!", "the same   text", "other", "Other."],
        }
    )
    found = near_duplicates(docs)
    assert set(found["document_id"]) == {"a", "b"}  # c/d are duplicates inside one split only


def test_write_and_validate_round_trip(tmp_path):
    tables = build_tables([_articles()], 0.5, seed=1)
    manifest = write_dataset(tables, tmp_path, max_documents=10)
    assert Manifest.read(tmp_path).content_hash == manifest.content_hash
    report = validate_manifest(tmp_path / "manifest.json")
    assert report.ok, report.render()


@pytest.mark.parametrize(
    "tamper, check",
    [
        (lambda t: t["spans"].__setitem__("start", t["spans"]["start"] + 1), "span offsets match text"),
        (lambda t: t["spans"].__setitem__("technique", "made_up"), "schema: spans"),
        (lambda t: t["sentences"].__setitem__("split", "val"), "no document in two splits"),
        (lambda t: t["documents"].__setitem__("text", " "), "schema: documents"),
    ],
)
def test_validation_names_the_failing_check(tmp_path, tamper, check):
    tables = build_tables([_articles()], 0.5, seed=1)
    manifest = write_dataset(tables, tmp_path)
    tables = {name: manifest.table(name) for name in TABLES}
    tamper(tables)
    report = validate_tables(tables, manifest)
    assert not report.ok
    failed = {c.name for c in report.checks if c.status == "fail"}
    assert check in failed, report.render()
    assert "FAILED" in report.render()


def test_pipeline_stage_fails_with_the_report_when_a_check_fails(tmp_path):
    """The DAG's validate_data task raises, so the run fails with the report in its log."""
    from mindlens import pipeline
    from mindlens.data.validation import DataValidationError

    tables = build_tables([_articles()], 0.5, seed=1)
    tables["spans"]["text"] = "something else"
    write_dataset(tables, tmp_path)
    with pytest.raises(DataValidationError, match="FAIL  span offsets match text"):
        pipeline.validate_data(str(tmp_path / "manifest.json"))
