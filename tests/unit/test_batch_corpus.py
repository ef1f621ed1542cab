"""Reading a corpus for batch scoring: the three formats give the same documents, the chunks
cover the corpus, and bad input is refused with the file and line or row named."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from mindlens.batch import BatchError, CorpusError, Document, chunk_bounds, read_corpus
from mindlens.batch.corpus import corpus_fingerprint

RECORDS = [
    {"id": "a1", "text": "First text.", "title": "One", "source": "alpha", "date": "2024-01-05"},
    {"id": "a2", "text": "Second text.", "source": "alpha", "date": "2024-02-10T08:30:00Z"},
    {"id": "b1", "text": "Third text.", "source": "beta"},
]


def _jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_jsonl_and_parquet_give_the_same_checked_documents(tmp_path):
    from_jsonl = read_corpus(_jsonl(tmp_path / "c.jsonl", RECORDS))
    pd.DataFrame(RECORDS).to_parquet(tmp_path / "c.parquet")
    from_parquet = read_corpus(tmp_path / "c.parquet")
    assert from_jsonl == from_parquet
    assert from_jsonl[0] == Document("a1", "First text.", "One", "alpha", dt.date(2024, 1, 5))
    assert from_jsonl[1].date == dt.date(2024, 2, 10) and from_jsonl[1].title is None
    assert from_jsonl[2].date is None
    assert corpus_fingerprint(from_jsonl) == corpus_fingerprint(from_parquet)
    assert corpus_fingerprint(from_jsonl[:2]) != corpus_fingerprint(from_jsonl)


def test_parquet_dates_may_be_real_dates_and_ids_integers(tmp_path):
    frame = pd.DataFrame({"id": [7, 8], "text": ["x y", "z"], "date": pd.to_datetime(["2023-05-01", None])})
    frame.to_parquet(tmp_path / "c.parquet")
    documents = read_corpus(tmp_path / "c.parquet")
    assert [d.id for d in documents] == ["7", "8"]
    assert documents[0].date == dt.date(2023, 5, 1) and documents[1].date is None


def test_a_folder_of_texts_with_sub_folders_as_sources(tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "one.txt").write_text("Headline\n\nBody.", encoding="utf-8")
    (tmp_path / "top.txt").write_text("Top level.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    documents = read_corpus(tmp_path)
    assert [(d.id, d.source) for d in documents] == [("news/one", "news"), ("top", None)]
    assert documents[0].text == "Headline\n\nBody."
    assert read_corpus(tmp_path, max_documents=1) == documents[:1]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "text": "ok"}', "{not json"], r"c\.jsonl line 2: not JSON"),
        (['{"id": "a", "text": "ok"}', "", '{"id": "b"}'], r"line 3: missing 'text'"),
        (['{"text": "no id"}'], r"line 1: missing 'id'"),
        (['{"id": "a", "text": "   "}'], r"line 1: 'text' of document 'a' is empty"),
        (['{"id": "a", "text": 5}'], r"line 1: 'text' must be a string, not int"),
        (['{"id": ["a"], "text": "x"}'], r"line 1: 'id' must be a string or an integer"),
        (['{"id": "a", "text": "x", "date": "2024-13-01"}'], r"line 1: 'date' '2024-13-01' is not an ISO"),
        (['{"id": "a", "text": "x", "source": 3}'], r"line 1: 'source' must be a string"),
        (['{"id": "a", "text": "x"}', '{"id": "a", "text": "y"}'], r"line 2: duplicate id 'a' \(first at "),
        (['["a", "x"]'], r"line 1: expected an object"),
        ([""], r"holds no documents"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path, lines, message):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        read_corpus(path)


def test_bad_files_and_folders_are_named(tmp_path):
    with pytest.raises(CorpusError, match="no such corpus"):
        read_corpus(tmp_path / "missing.jsonl")
    (tmp_path / "c.csv").write_text("id,text\n")
    with pytest.raises(CorpusError, match=r"unknown corpus format '\.csv'"):
        read_corpus(tmp_path / "c.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no .txt files"):
        read_corpus(empty)
    (empty / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"latin1\.txt: not UTF-8"):
        read_corpus(empty)
    pd.DataFrame({"id": ["a"], "body": ["x"]}).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(CorpusError, match=r"c\.parquet: missing column 'text' \(has id, body\)"):
        read_corpus(tmp_path / "c.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(CorpusError, match="not a readable Parquet file"):
        read_corpus(tmp_path / "broken.parquet")
    pd.DataFrame({"id": ["a", "b"], "text": ["x", None]}).to_parquet(tmp_path / "gap.parquet")
    with pytest.raises(CorpusError, match=r"gap\.parquet row 1: missing 'text'"):
        read_corpus(tmp_path / "gap.parquet")


def test_chunks_cover_the_corpus_once():
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(8, 4) == [(0, 4), (4, 8)]
    assert chunk_bounds(3, 100) == [(0, 3)]
    covered = [i for start, end in chunk_bounds(1001, 7) for i in range(start, end)]
    assert covered == list(range(1001))
    with pytest.raises(BatchError, match="at least 1"):
        chunk_bounds(5, 0)
