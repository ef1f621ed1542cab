"""The feedback source: reviewed feedback pulled from Label Studio, read as training data."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindlens.data.sources import SOURCES, curated, feedback

TEXT = "They are traitors and cowards, all of them!"


def _write(folder: Path, records: list[dict]) -> Path:
    return curated.write_jsonl(folder / "0123456789abcdef.jsonl", records)


def test_reads_the_feedback_folder_as_train_documents(tmp_path: Path) -> None:
    _write(
        tmp_path,
        [
            {
                "id": "fb-1",
                "text": TEXT,
                "origin": "feedback",
                "spans": [{"start": 9, "end": 28, "technique": "name_calling", "text": TEXT[9:28]}],
            },
            {"id": "fb-2", "text": "The committee meets on Tuesday.", "no_technique": True},
            {
                "id": "fb-3",
                "text": "Everything will change, says the report.",
                "split": "test",
                "labels": ["doubt"],
            },
        ],
    )
    data = feedback.load(folder=tmp_path)
    assert data.name == "feedback" and data.native_split
    assert [d.id for d in data.documents] == ["feedback:fb-1", "feedback:fb-2", "feedback:fb-3"]
    assert [d.split for d in data.documents] == ["train", "train", "test"]
    assert [(s.document_id, s.start, s.end, s.technique) for s in data.spans] == [
        ("feedback:fb-1", 9, 28, "name_calling")
    ]


def test_missing_folder_reads_as_no_documents(tmp_path: Path) -> None:
    assert feedback.load(folder=tmp_path / "none").documents == []


def test_a_record_from_another_origin_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, [{"id": "x", "text": TEXT, "labels": ["doubt"], "origin": "curated"}])
    with pytest.raises(ValueError, match="origin"):
        feedback.load(folder=tmp_path)


def test_offsets_are_validated(tmp_path: Path) -> None:
    _write(
        tmp_path,
        [
            {
                "id": "x",
                "text": TEXT,
                "origin": "feedback",
                "spans": [{"start": 9, "end": 28, "technique": "name_calling", "text": "not what is there"}],
            }
        ],
    )
    with pytest.raises(ValueError, match="does not match"):
        feedback.load(folder=tmp_path)


def test_defaults_to_the_state_dir_and_is_registered(monkeypatch, tmp_path: Path) -> None:
    from mindlens.config import get_settings, reset_settings_cache

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    assert feedback.default_folder() == tmp_path / "labels" / "feedback"
    assert SOURCES["feedback"] is feedback and "feedback" in get_settings().data.sources
