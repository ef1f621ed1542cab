"""The prediction log keeps whether a fragment is quoted, and the speaker (text) only where
it keeps the text."""

from __future__ import annotations

import json

from mindlens.serving.prediction_log import PredictionLog

RESULT = {
    "spans": [
        {
            "start": 1,
            "end": 9,
            "technique": "name_calling",
            "confidence": 0.9,
            "quoted": True,
            "speaker": "Doe",
        },
        {"start": 20, "end": 24, "technique": "doubt", "confidence": 0.2, "quoted": False, "speaker": None},
    ],
    "document": {"score": 0.9, "traits": {"attacks_on_people": 0.9}},
    "title": {"clickbait": None},
    "timings_ms": {"total": 3.0},
}


def _logged(tmp_path, mode: str) -> dict:
    log = PredictionLog(tmp_path / f"{mode}.jsonl", text_mode=mode)
    log.record("/analyze", '"traitors," Doe said. maybe', RESULT, min_confidence=0.5)
    log.close()  # written off the request path: close() writes what is queued
    return json.loads((tmp_path / f"{mode}.jsonl").read_text())


def test_hash_mode_keeps_quoted_but_no_speaker(tmp_path) -> None:
    entry = _logged(tmp_path, "hash")
    assert entry["spans"] == [
        {"start": 1, "end": 9, "technique": "name_calling", "confidence": 0.9, "quoted": True}
    ]
    assert "Doe" not in json.dumps(entry)


def test_full_mode_keeps_the_speaker_with_the_text(tmp_path) -> None:
    entry = _logged(tmp_path, "full")
    assert entry["spans"][0]["speaker"] == "Doe" and entry["text"].startswith('"traitors,"')
    assert len(entry["spans"]) == 1  # below min_confidence is not logged
