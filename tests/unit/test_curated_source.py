"""The curated JSONL parser (shared with Label Studio exports) on small temporary files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindlens import taxonomy
from mindlens.data.sources import curated, label_studio

TEXT = "Make our streets safe again! The so-called experts got it wrong."


def good_records() -> list[dict]:
    return [
        {
            "id": "a1",
            "text": TEXT,
            "title": "Rally speech",
            "genre": "speech",
            "spans": [
                {"start": 0, "end": 28, "technique": "slogans", "text": TEXT[0:28]},
                {"start": 29, "end": 50, "technique": "name_calling"},
            ],
            "labels": ["loaded_language"],
        },
        {"id": "a2", "text": "Rain is expected tomorrow afternoon.", "no_technique": True},
        {"id": "a3", "text": "You won't believe what happened next", "labels": ["clickbait"]},
    ]


def write(folder: Path, records: list[dict], name: str = "set.jsonl") -> Path:
    return curated.write_jsonl(folder / name, records)


def test_good_file_loads_documents_spans_and_labels(tmp_path: Path) -> None:
    write(tmp_path, good_records())
    data = curated.load(folder=tmp_path)
    assert data.name == "curated" and data.granularity == "span" and not data.native_split
    assert data.label_space == taxonomy.TECHNIQUE_IDS
    assert [d.id for d in data.documents] == ["curated:a1", "curated:a2", "curated:a3"]
    assert {d.split for d in data.documents} == {"train"}
    assert data.documents[0].title == "Rally speech" and data.documents[1].title == ""
    assert [(s.document_id, s.start, s.end, s.technique) for s in data.spans] == [
        ("curated:a1", 0, 28, "slogans"),
        ("curated:a1", 29, 50, "name_calling"),
    ]
    assert [(lb.document_id, lb.technique) for lb in data.labels] == [
        ("curated:a1", "loaded_language"),
        ("curated:a3", "clickbait"),
    ]


def test_every_jsonl_file_is_read_and_blank_lines_skipped(tmp_path: Path) -> None:
    records = good_records()
    write(tmp_path, records[:1], "one.jsonl")
    path = write(tmp_path / "more", records[1:], "two.jsonl")
    path.write_text(path.read_text() + "\n\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data")
    assert len(curated.load(folder=tmp_path).documents) == 3


def test_missing_folder_is_an_empty_source(tmp_path: Path) -> None:
    data = curated.load(folder=tmp_path / "absent")
    assert data.documents == [] and data.spans == [] and data.labels == []
    assert data.label_space == taxonomy.TECHNIQUE_IDS


def test_default_folder_is_the_repository_data_curated() -> None:
    from mindlens.config import PROJECT_ROOT

    assert curated.default_folder() == PROJECT_ROOT / "data" / "curated"
    curated.load()  # the set may be empty or absent, but must parse


def _error(tmp_path: Path, record: dict, exc: type[Exception] = ValueError) -> str:
    path = write(tmp_path, [good_records()[1], record])
    with pytest.raises(exc) as info:
        curated.load(folder=tmp_path)
    message = str(info.value)
    assert f"{path}:2" in message  # names the file and line
    return message


@pytest.mark.parametrize("start,end", [(5, 5), (10, 4), (-1, 3), (0, len(TEXT) + 1)])
def test_bad_offsets_are_rejected(tmp_path: Path, start: int, end: int) -> None:
    record = {"id": "x", "text": TEXT, "spans": [{"start": start, "end": end, "technique": "slogans"}]}
    assert "offsets" in _error(tmp_path, record)


def test_non_integer_offsets_are_rejected(tmp_path: Path) -> None:
    record = {"id": "x", "text": TEXT, "spans": [{"start": "0", "end": 4, "technique": "slogans"}]}
    assert "integer" in _error(tmp_path, record)


def test_unknown_technique_fails_loudly(tmp_path: Path) -> None:
    span = {"id": "x", "text": TEXT, "spans": [{"start": 0, "end": 4, "technique": "propaganda"}]}
    assert "propaganda" in _error(tmp_path, span, taxonomy.UnknownLabelError)
    label = {"id": "x", "text": TEXT, "labels": ["Loaded_Language"]}  # a PTC name, not an id
    assert "Loaded_Language" in _error(tmp_path, label, taxonomy.UnknownLabelError)


def test_span_text_must_match_the_offsets(tmp_path: Path) -> None:
    record = {
        "id": "x",
        "text": TEXT,
        "spans": [{"start": 0, "end": 28, "technique": "slogans", "text": "Make our streets"}],
    }
    assert "does not match" in _error(tmp_path, record)


@pytest.mark.parametrize(
    "record,problem",
    [
        ({"text": TEXT, "labels": ["slogans"]}, "'id'"),
        ({"id": "x", "text": "  ", "labels": ["slogans"]}, "'text'"),
        ({"id": "x", "text": TEXT}, "no_technique"),
        ({"id": "x", "text": TEXT, "no_technique": True, "labels": ["slogans"]}, "no_technique"),
        ({"id": "x", "text": TEXT, "labels": "slogans"}, "lists"),
        ({"id": "x", "text": TEXT, "lables": ["slogans"]}, "unknown keys"),
        ({"id": "a2", "text": TEXT, "labels": ["slogans"]}, "duplicate id"),
    ],
)
def test_invalid_records_name_the_problem(tmp_path: Path, record: dict, problem: str) -> None:
    assert problem in _error(tmp_path, record)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, good_records()[:1])
    path.write_text(path.read_text() + "{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path.name}:2: invalid JSON"):
        curated.load(folder=tmp_path)


def test_label_studio_keeps_the_origin_in_the_id(tmp_path: Path) -> None:
    write(tmp_path / "curated", [good_records()[0], dict(good_records()[2], origin="curated")])
    write(tmp_path / "feedback", [dict(good_records()[0], origin="feedback")])
    data = label_studio.load(labels_dir=tmp_path)
    # Reviewed feedback is the feedback source's (tests/unit/test_feedback_source.py).
    assert [d.id for d in data.documents] == ["label_studio:curated/a1", "label_studio:curated/a3"]
    assert {s.document_id for s in data.spans} == {"label_studio:curated/a1"}
    assert data.name == "label_studio" and not data.native_split


def test_label_studio_origin_must_match_its_folder(tmp_path: Path) -> None:
    write(tmp_path / "curated", [dict(good_records()[0], origin="feedback")])
    with pytest.raises(ValueError, match="origin"):
        label_studio.load(labels_dir=tmp_path)


def test_label_studio_defaults_to_the_state_dir(monkeypatch, tmp_path: Path) -> None:
    from mindlens.config import reset_settings_cache

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    write(tmp_path / "labels" / "curated", good_records()[1:2])
    assert [d.id for d in label_studio.load().documents] == ["label_studio:curated/a2"]
    assert label_studio.load(labels_dir=tmp_path / "none").documents == []


# --- fixed splits and hard negatives -------------------------------------------------
def test_declared_splits_are_kept_natively(tmp_path: Path) -> None:
    records = good_records()
    records[0]["split"] = "test"
    records[1].update(split="train", hard_negative=True, genre="news report")
    write(tmp_path, records)  # a3 declares no split: train
    data = curated.load(folder=tmp_path)
    assert data.native_split
    assert [d.split for d in data.documents] == ["test", "train", "train"]
    parsed = curated.read_folder(tmp_path)
    assert [r.hard_negative for r in parsed] == [False, True, False]
    assert [r.split for r in parsed] == ["test", "train", None]
    assert parsed[1].genre == "news report"


def test_without_declared_splits_the_pipeline_splits(tmp_path: Path) -> None:
    write(tmp_path, [dict(r, hard_negative=False) for r in good_records()])
    data = curated.load(folder=tmp_path)
    assert not data.native_split and {d.split for d in data.documents} == {"train"}
    forced = curated.to_source_data(
        "x", [(r.id, r) for r in curated.read_folder(tmp_path)], native_split=True
    )
    assert forced.native_split and {d.split for d in forced.documents} == {"train"}


@pytest.mark.parametrize(
    "extra,problem",
    [
        ({"split": "val"}, "'split'"),
        ({"split": 1}, "'split'"),
        ({"hard_negative": "yes"}, "'hard_negative'"),
    ],
)
def test_bad_split_or_hard_negative_is_rejected(tmp_path: Path, extra: dict, problem: str) -> None:
    record = dict({"id": "x", "text": TEXT, "labels": ["slogans"]}, **extra)
    assert problem in _error(tmp_path, record)
