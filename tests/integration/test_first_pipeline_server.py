"""``mindlens serve --first-pipeline`` (what ``make run`` runs): the shipped champion answers
at once while the real pipeline DAG runs beside it, the landing page follows the run, and
stopping the server ends the run without leaving a process behind."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest
from conftest import free_port, needs_ptc, start_server, stop_process, wait_for_http

from mindlens.config import Settings
from mindlens.registry import bootstrap_releases
from mindlens.training.release import SHIPPED_RELEASES

pytestmark = [needs_ptc, pytest.mark.slow]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_the_champion_answers_while_the_first_pipeline_runs(tmp_path):
    settings = Settings(state_dir=tmp_path / "state")
    bootstrap_releases(settings, list(SHIPPED_RELEASES))
    port = free_port()
    env = os.environ | {"MINDLENS_STATE_DIR": str(settings.state_dir)}
    with open(tmp_path / "server.log", "w") as log:
        server = start_server(port, env, log, "--first-pipeline")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}/readyz", timeout=180, process=server)
            started = time.monotonic()
            answer = httpx.post(
                f"{base}/analyze", json={"text": "These traitors will destroy us all!"}, timeout=60
            )
            assert answer.status_code == 200, answer.text
            served = httpx.get(f"{base}/version", timeout=30).json()["semver"]
            assert served == json.loads((SHIPPED_RELEASES[-1] / "release.json").read_text())["version"]
            status = json.loads(settings.paths.first_pipeline_status.read_text())
            assert status["state"] == "running", status  # the DAG takes minutes; we answered first
            assert time.monotonic() - started < 60
            page = httpx.get(f"{base}/", timeout=30).text
            assert "<strong>running</strong>" in page and 'http-equiv="refresh"' in page
            pid = status["pid"]
            assert _alive(pid)
        finally:
            stop_process(server)
    assert not _alive(pid), "the pipeline outlived the server"
    assert json.loads(settings.paths.first_pipeline_status.read_text())["state"] == "stopped"
    assert not settings.paths.pipeline_marker.exists()  # so the next start runs it again
