"""``feedback.predictions``: what the API answered becomes a ``PredictionRecord``, written by
a background ``PredictionRecorder`` that never blocks, flushes on demand and survives outages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import pytest

from mindlens.feedback.predictions import PredictionRecord, PredictionRecorder, text_sha256

RESULT = {
    "model": {"name": "mindlens-analyzer", "version": 3, "run_id": "run-3"},
    "spans": [
        {"start": 0, "end": 4, "technique": "doubt", "confidence": 0.7, "text": "They", "evidence": []},
        {"start": 5, "end": 8, "technique": "slogans", "confidence": 0.2, "text": "are"},
    ],
    "document": {"score": 0.7, "traits": {}},
}


def _record(request_id: str = "r") -> PredictionRecord:
    return PredictionRecord.from_result(request_id, "/analyze", "They are here.", RESULT, 0.5)


def test_a_record_keeps_hash_length_model_and_the_reported_spans() -> None:
    record = _record()
    assert record.text_sha256 == text_sha256("They are here.") and record.text_chars == 14
    assert (record.model_name, record.model_version, record.model_run_id) == (
        "mindlens-analyzer",
        "3",
        "run-3",
    )
    assert record.spans == [{"start": 0, "end": 4, "technique": "doubt", "confidence": 0.7}]
    assert record.document_score == 0.7 and record.created_at.tzinfo is not None
    bare = PredictionRecord.from_result("r", "/demo", "x", {"spans": [], "document": {}})
    assert (
        bare.model_name is None
        and bare.model_version is None
        and bare.analysis()["document"] == {"score": 0.0}
    )


def test_records_are_written_in_the_background_and_flush_waits() -> None:
    written: list[str] = []
    release = threading.Event()

    def write(batch: Sequence[PredictionRecord]) -> None:
        release.wait(5)
        written.extend(r.request_id for r in batch)

    recorder = PredictionRecorder(write)
    for i in range(5):
        recorder.record(_record(f"r{i}"))  # returns at once, the writer is held up
    assert written == [] and not recorder.flush(0.05)
    release.set()
    assert recorder.flush(5) and written == [f"r{i}" for i in range(5)]
    recorder.close()
    recorder.record(_record("after-close"))  # a new writer thread starts
    assert recorder.flush(5) and written[-1] == "after-close"
    recorder.close()


def test_a_failing_write_drops_the_batch_counts_it_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    failures: list[int] = []
    healthy = threading.Event()
    written: list[str] = []

    def write(batch: Sequence[PredictionRecord]) -> None:
        if not healthy.is_set():
            raise ConnectionError("database down")
        written.extend(r.request_id for r in batch)

    recorder = PredictionRecorder(write, on_failure=failures.append)
    with caplog.at_level(logging.INFO, logger="mindlens.feedback.predictions"):
        for i in range(3):
            recorder.record(_record(f"lost-{i}"))
            assert recorder.flush(5)
        healthy.set()
        recorder.record(_record("kept"))
        assert recorder.flush(5)
    assert sum(failures) == 3 and written == ["kept"]
    assert caplog.text.count("not recorded for the feedback join") == 1
    assert "written to the feedback database again" in caplog.text
    recorder.close()


def test_too_many_waiting_records_are_dropped_not_queued() -> None:
    release = threading.Event()
    failures: list[int] = []
    written: list[str] = []

    def write(batch: Sequence[PredictionRecord]) -> None:
        release.wait(5)
        written.extend(r.request_id for r in batch)

    recorder = PredictionRecorder(write, max_pending=2, on_failure=failures.append)
    recorder.record(_record("first"))  # taken by the writer (held up)
    assert not recorder.flush(0.2)
    for i in range(4):
        recorder.record(_record(f"wait-{i}"))
    release.set()
    assert recorder.flush(5)
    assert written == ["first", "wait-0", "wait-1"] and sum(failures) == 2
    recorder.close()


def test_close_writes_what_is_pending() -> None:
    written: list[str] = []
    recorder = PredictionRecorder(lambda batch: written.extend(r.request_id for r in batch))
    for i in range(50):
        recorder.record(_record(f"r{i}"))
    recorder.close()
    assert written == [f"r{i}" for i in range(50)]
