"""Storage faults degrade, never fail requests: the prediction log cannot be written (a directory
stands where the file should be), /analyze still answers, the error is counted, /readyz says
degraded, and writes resume when the fault is gone. The log rotates and never keeps a partial line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mindlens.serving.prediction_log import PredictionLog
from reliability.faults import ADMIN, FolderRegistry, errors_total

pytestmark = pytest.mark.reliability

RESULT = {
    "spans": [],
    "document": {"score": 0.1, "traits": {}},
    "title": {"clickbait": None},
    "timings_ms": {"total": 1.0},
}


def test_unwritable_prediction_log_degrades_but_analysis_answers(
    registry: FolderRegistry, client_for
) -> None:
    registry.register("1")
    client = client_for()
    log_path: Path = client.app.state.settings.paths.predictions_log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.mkdir()  # a real fault: a directory where the log file should be (IsADirectoryError)
    for _ in range(3):
        answer = client.post("/analyze", json={"text": "Make our streets safe again!"})
        assert answer.status_code == 200, answer.text
    client.app.state.prediction_log.flush()
    assert errors_total(client, "prediction_log") == 3
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert any("prediction log" in p for p in body["problems"])
    assert str(log_path) not in ready.text  # no paths for clients
    assert 'mindlens_errors_total{type="prediction_log"} 3.0' in client.get("/metrics").text

    log_path.rmdir()  # the fault is gone: the next line is written, /readyz is ready again
    assert client.post("/analyze", json={"text": "Calm news."}).status_code == 200
    client.app.state.prediction_log.flush()
    assert client.get("/readyz").json()["status"] == "ready"
    assert json.loads(log_path.read_text().splitlines()[-1])["text_chars"] == len("Calm news.")


def test_batch_also_answers_with_the_log_broken(registry: FolderRegistry, client_for) -> None:
    registry.register("1")
    client = client_for()
    log_path: Path = client.app.state.settings.paths.predictions_log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.mkdir()
    answer = client.post("/analyze/batch", json={"texts": ["One.", "Two."]})
    assert answer.status_code == 200 and len(answer.json()["results"]) == 2
    assert client.post("/admin/reload", headers=ADMIN).status_code == 200


def test_the_log_rotates_by_size_and_keeps_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path, max_bytes=2000, backups=3)
    for _ in range(40):
        log.record("/analyze", "some text", RESULT)
    log.close()
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [
        "predictions.jsonl",
        "predictions.jsonl.1",
        "predictions.jsonl.2",
        "predictions.jsonl.3",
    ]
    for file in files:
        assert file.stat().st_size <= 2000
        for line in file.read_text().splitlines():
            json.loads(line)  # every line whole


def test_the_log_rotates_by_age(tmp_path: Path) -> None:
    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path, max_age_s=0.05, backups=2)
    log.record("/analyze", "first", RESULT)
    log.flush()
    import time

    time.sleep(0.1)
    log.record("/analyze", "second", RESULT)
    log.close()
    assert (tmp_path / "predictions.jsonl.1").is_file()
    assert len(path.read_text().splitlines()) == 1


def test_a_failed_write_leaves_no_partial_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC half way through a line (a disk filling up): the file is cut back to whole lines."""
    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path)
    log.record("/analyze", "whole", RESULT)
    log.flush()
    real_write = os.write
    handler = log._handler
    stream = handler.stream
    assert stream is not None

    class HalfWrite:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def write(self, data):
            self.inner.write(bytes(data[: len(data) // 2]))
            raise OSError(28, "No space left on device")

    handler.stream = HalfWrite(stream)
    log.record("/analyze", "broken", RESULT)
    log.flush()
    assert log.problem and log.errors == 1
    log.record("/analyze", "after", RESULT)  # reopened: writes resume
    log.close()
    lines = path.read_text().splitlines()
    assert [json.loads(line)["text_chars"] for line in lines] == [len("whole"), len("after")]
    assert log.problem is None
    del real_write


def test_the_drift_report_reads_the_rotated_files_too(tmp_path: Path) -> None:
    from mindlens.monitoring.report import read_predictions

    path = tmp_path / "predictions.jsonl"
    log = PredictionLog(path, max_bytes=1500, backups=5)
    for i in range(12):
        log.record("/analyze", "x" * (i + 1), RESULT)
    log.close()
    assert (tmp_path / "predictions.jsonl.1").is_file()
    entries = read_predictions(path, 100)
    assert [e["text_chars"] for e in entries] == list(range(1, 13))  # oldest first, none lost
    assert [e["text_chars"] for e in read_predictions(path, 3)] == [10, 11, 12]
