"""Every source loader against the real shared datasets (train/dev only: tests are held out).

Counts come from /work/shared/datasets/README.md and each folder's SOURCE.txt.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import data_dir

from mindlens import taxonomy
from mindlens.data.sources import SOURCES, clickbait, logic, semeval2021
from mindlens.schema import SourceData


def _need(folder: str) -> Path:
    path = data_dir() / folder
    if not path.is_dir():
        pytest.skip(f"{folder} not found under MINDLENS_DATA_DIR={data_dir()}")
    return path


@pytest.fixture(scope="module")
def semeval() -> SourceData:
    _need(semeval2021.FOLDER)
    return semeval2021.load(data_dir())


@pytest.fixture(scope="module")
def headlines() -> SourceData:
    _need(clickbait.FOLDER)
    return clickbait.load(data_dir())


@pytest.fixture(scope="module")
def fallacies() -> SourceData:
    _need(logic.FOLDER)
    return logic.load(data_dir())


def _check_common(data: SourceData) -> None:
    ids = [d.id for d in data.documents]
    assert len(ids) == len(set(ids))
    texts = {d.id: d.text for d in data.documents}
    for span in data.spans:
        assert span.document_id in texts
        assert texts[span.document_id][span.start : span.end].strip()
        assert span.technique in taxonomy.TECHNIQUE_IDS
    for label in data.labels:
        assert label.document_id in texts
        assert label.technique in taxonomy.TECHNIQUE_IDS
    assert set(data.label_space) <= set(taxonomy.TECHNIQUE_IDS)
    used = {s.technique for s in data.spans} | {lb.technique for lb in data.labels}
    assert used <= set(data.label_space)
    assert all(d.source == data.name and d.id.startswith(f"{data.name}:") for d in data.documents)


# --- SemEval-2021 Task 6 -----------------------------------------------------------------
def test_semeval_counts_and_splits(semeval: SourceData) -> None:
    _check_common(semeval)
    assert Counter(d.split for d in semeval.documents) == {"train": 688, "val": 63}
    assert semeval.native_split and semeval.granularity == "span"
    # All train/dev spans are kept but one whose fragment is a lone newline (meme 139).
    assert len(semeval.spans) == 1498 + 182 - 1
    assert all(d.title == "" for d in semeval.documents)
    assert semeval.label_space == tuple(dict.fromkeys(taxonomy.SOURCE_LABELS["semeval2021"].values()))


def test_semeval_spans_match_their_fragments(semeval: SourceData) -> None:
    root = data_dir() / semeval2021.FOLDER / "data"
    texts = {d.id: d.text for d in semeval.documents}
    fragments = Counter()
    for stem in ("training_set", "dev_set"):
        for meme in json.loads((root / f"{stem}_task2.txt").read_text("utf-8")):
            for lb in meme["labels"]:
                if not lb["text_fragment"].strip():
                    continue
                fragments[(f"semeval2021:{meme['id']}", lb["text_fragment"])] += 1
    got = Counter((s.document_id, texts[s.document_id][s.start : s.end]) for s in semeval.spans)
    assert got == fragments


def test_semeval_document_labels_come_from_task1(semeval: SourceData) -> None:
    root = data_dir() / semeval2021.FOLDER / "data"
    raw = 0
    expected = set()
    for stem in ("training_set", "dev_set"):
        for meme in json.loads((root / f"{stem}_task1.txt").read_text("utf-8")):
            raw += len(meme["labels"])
            expected |= {
                (f"semeval2021:{meme['id']}", taxonomy.map_label("semeval2021", lb)) for lb in meme["labels"]
            }
    assert raw == 1184 + 123
    got = [(lb.document_id, lb.technique) for lb in semeval.labels]
    assert len(got) == len(set(got)) and set(got) == expected


def test_semeval_keeps_the_unlabelled_training_meme(semeval: SourceData) -> None:
    doc = next(d for d in semeval.documents if d.id == "semeval2021:474_batch_2")
    assert doc.split == "train"
    assert not [s for s in semeval.spans if s.document_id == doc.id]
    assert not [lb for lb in semeval.labels if lb.document_id == doc.id]


def test_semeval_drops_blank_spans_and_counts_them() -> None:
    _need(semeval2021.FOLDER)
    _, spans, dropped = semeval2021.read_task2(
        data_dir() / semeval2021.FOLDER / "data" / "training_set_task2.txt", "train"
    )
    assert dropped == 1 and len(spans) == 1498 - 1


def test_semeval_realigns_spans_that_are_slightly_off() -> None:
    text = "Vote for us. MAKE IT GREAT"
    assert semeval2021.align_span(text, 13, 25, "MAKE IT GREAT"[:12]) == (13, 25)
    assert semeval2021.align_span(text, 14, 27, "MAKE IT GREAT") == (13, 26)
    assert semeval2021.align_span(text, 11, 24, "MAKE IT GREAT") == (13, 26)
    assert semeval2021.align_span(text, 0, 13, "MAKE IT GREAT") is None


def test_semeval_read_task2_fixes_or_drops_misaligned_spans(tmp_path: Path, caplog) -> None:
    text = "Vote for us. MAKE IT GREAT"
    memes = [
        {
            "id": "1",
            "text": text,
            "labels": [
                {"start": 14, "end": 27, "technique": "Slogans", "text_fragment": "MAKE IT GREAT"},
                {"start": 0, "end": 4, "technique": "Slogans", "text_fragment": "GREAT AGAIN"},
            ],
        }
    ]
    path = tmp_path / "t2.txt"
    path.write_text(json.dumps(memes), encoding="utf-8")
    docs, spans, dropped = semeval2021.read_task2(path, "val")
    assert [(s.start, s.end, s.technique) for s in spans] == [(13, 26, "slogans")]
    assert dropped == 1 and "dropped" in caplog.text and docs[0].split == "val"


# --- Stop Clickbait ------------------------------------------------------------------------
def test_clickbait_counts_labels_and_ids(headlines: SourceData) -> None:
    _check_common(headlines)
    ids = [d.native_id for d in headlines.documents]
    assert sum(i.startswith("cb-") for i in ids) == 14329
    assert sum(i.startswith("ncb-") for i in ids) == 14362
    labelled = {lb.document_id for lb in headlines.labels}
    assert labelled == {d.id for d in headlines.documents if d.native_id.startswith("cb-")}
    assert headlines.label_space == ("clickbait",) and headlines.granularity == "document"
    assert not headlines.native_split
    assert {d.split for d in headlines.documents} == {"train"}
    assert all(d.text == d.title and d.text == d.text.strip() and d.text for d in headlines.documents)
    assert Counter(clickbait.stratify_key(d) for d in headlines.documents) == {
        "clickbait": 14329,
        "not_clickbait": 14362,
    }


# --- LOGIC -----------------------------------------------------------------------------------
def test_logic_counts_and_splits(fallacies: SourceData) -> None:
    _check_common(fallacies)
    assert fallacies.native_split and fallacies.granularity == "document"
    by_part = Counter(d.native_id.rsplit("-", 1)[0] for d in fallacies.documents)
    root = data_dir() / logic.FOLDER / "data"
    expected_rows = {"edu-train": 1849, "edu-dev": 300, "climate-train": 855, "climate-dev": 277}
    for part, rows in expected_rows.items():
        subset, name = part.split("-")
        result = logic.read_csv(root / f"{subset}_{name}.csv", subset, name, logic.SPLITS[name])
        assert result.rows == rows
        assert by_part[part] == rows - result.skipped_empty
    assert by_part["edu-train"] == 1849 and by_part["edu-dev"] == 300  # no empty edu texts
    splits = Counter(d.split for d in fallacies.documents)
    assert splits["val"] == by_part["edu-dev"] + by_part["climate-dev"]
    assert set(splits) == {"train", "val"}
    labelled = {lb.document_id for lb in fallacies.labels}
    assert labelled == {d.id for d in fallacies.documents}  # every kept row has a fallacy
    assert fallacies.label_space == tuple(dict.fromkeys(taxonomy.SOURCE_LABELS["logic"].values()))


def test_logic_reads_multiline_quoted_texts(fallacies: SourceData) -> None:
    assert sum("\n" in d.text for d in fallacies.documents) > 100


def test_logic_label_cells_split_on_commas() -> None:
    assert logic.parse_labels(" ad hominem ,false dilemma, ad hominem") == [
        "ad_hominem",
        "black_and_white_fallacy",
    ]
    with pytest.raises(taxonomy.UnknownLabelError):
        logic.parse_labels("not a fallacy")


# --- all sources ---------------------------------------------------------------------------
def test_ids_are_unique_across_sources(semeval, headlines, fallacies) -> None:
    loaded = [semeval, headlines, fallacies]
    if (data_dir() / "ptc-semeval2020-task11").is_dir():
        loaded.append(SOURCES["ptc"].load(data_dir()))
    ids = [d.id for data in loaded for d in data.documents]
    assert len(ids) == len(set(ids))


def test_registry_lists_every_source() -> None:
    assert set(SOURCES) == {"ptc", "semeval2021", "clickbait", "logic", "curated", "label_studio", "feedback"}
    for module in SOURCES.values():
        assert callable(module.load) and isinstance(module.REMOTE, tuple)
