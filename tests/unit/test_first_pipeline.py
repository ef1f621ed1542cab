"""``serving.first_pipeline``: the pipeline run ``mindlens serve --first-pipeline`` starts beside
the server (``make run``), its recorded state, and how the landing page shows it. The child is
a short Python process standing in for ``mindlens pipeline --once``; the real command beside a
real server is tested in tests/integration/test_first_pipeline_server.py."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mindlens.config import Settings
from mindlens.serving.app import create_app
from mindlens.serving.first_pipeline import FirstPipeline, log_tail, read_status


def _settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "state")


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _wait_for(predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_a_successful_run_is_recorded_and_reloads_the_model(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    reloaded = threading.Event()
    runner = FirstPipeline(
        settings,
        on_success=reloaded.set,
        command=_child("print('task train[0] success'); print('champion: v2')"),
    )
    assert runner.start()
    assert reloaded.wait(30)
    status = read_status(settings)
    assert status is not None and status["state"] == "succeeded" and status["exit_code"] == 0
    assert status["started"] <= status["finished"]
    assert log_tail(settings) == ["task train[0] success", "champion: v2"]


def test_a_failed_run_is_recorded_and_reloads_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    reloaded = threading.Event()
    runner = FirstPipeline(settings, on_success=reloaded.set, command=_child("import sys; sys.exit(3)"))
    runner.start()
    _wait_for(lambda: (read_status(settings) or {}).get("state") == "failed")
    assert read_status(settings)["exit_code"] == 3  # type: ignore[index]
    assert not reloaded.is_set()


def test_nothing_runs_after_a_pipeline_succeeded_here(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.paths.pipeline_marker.parent.mkdir(parents=True)
    settings.paths.pipeline_marker.write_text("champion v2\n")
    runner = FirstPipeline(settings, command=_child("raise SystemExit('must not run')"))
    assert not runner.start() and runner.process is None
    assert read_status(settings) is None


def test_stopping_the_server_ends_the_run_and_says_so(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    runner = FirstPipeline(
        settings, command=_child("import time; print('training', flush=True); time.sleep(60)")
    )
    runner.start()
    _wait_for(lambda: log_tail(settings) == ["training"])
    runner.stop(timeout=10)
    assert runner.process is not None and runner.process.poll() is not None
    time.sleep(0.2)  # the waiter thread must not overwrite "stopped" with "failed"
    status = read_status(settings)
    assert status is not None and status["state"] == "stopped"


def test_progress_bars_and_a_broken_status_file_are_read_sensibly(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.paths.first_pipeline_log.parent.mkdir(parents=True)
    settings.paths.first_pipeline_log.write_text("epochs:  10%\repochs:  50%\repochs: 100%\r\n\nDone\n")
    assert log_tail(settings) == ["epochs: 100%", "Done"]
    settings.paths.first_pipeline_status.write_text("{not json")
    assert read_status(settings) is None


@pytest.mark.parametrize(
    ("state", "shown", "refreshes"),
    [
        ("running", "training and evaluating challengers", True),
        ("failed", "shipped champion above is still served", False),
    ],
)
def test_the_landing_page_follows_the_run(tmp_path: Path, state: str, shown: str, refreshes: bool) -> None:
    settings = _settings(tmp_path)
    paths = settings.paths
    paths.first_pipeline_log.parent.mkdir(parents=True)
    paths.first_pipeline_log.write_text("task select <script>alert(1)</script> running\n")
    status = {"state": state, "started": "2026-12-06T10:00:00+00:00", "log": str(paths.first_pipeline_log)}
    paths.first_pipeline_status.write_text(json.dumps(status))
    with TestClient(create_app(settings, with_ui=False)) as client:
        page = client.get("/").text
    assert "<h2>First pipeline run</h2>" in page and f"<strong>{state}</strong>" in page and shown in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert ('http-equiv="refresh"' in page) is refreshes


def test_without_a_first_run_the_page_has_no_such_section(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path), with_ui=False)) as client:
        assert "First pipeline run" not in client.get("/").text
