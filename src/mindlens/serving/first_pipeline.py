"""The first pipeline run beside the server: ``mindlens serve --first-pipeline`` (``make run``).

A new user should read an analysis a minute after the install, not after the pipeline has
trained and evaluated its challengers (minutes on two cores). So the server starts on the
registered champion (the shipped release) at once, and the pipeline DAG runs in a child
process (``mindlens pipeline --once``: the local Airflow, so the run shows in its UI). Its
state is a small JSON file the landing page reads; when it succeeds the model store reloads
at once, so a challenger that won is served without waiting for the next poll. The child
ends with the server; an interrupted run is started again next time (``--once`` skips only
after a success).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mindlens.config import Settings

log = logging.getLogger(__name__)

DEFAULT_COMMAND = (sys.executable, "-m", "mindlens.cli", "pipeline", "--once")
LOG_TAIL_LINES = 8


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write(path: Path, status: dict[str, Any]) -> None:
    """Write the status whole (temp file + rename): a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status, indent=2))
    os.replace(tmp, path)


def read_status(settings: Settings) -> dict[str, Any] | None:
    """The last recorded state (``running``, ``succeeded``, ``failed``, ``stopped``), or None."""
    path = settings.paths.first_pipeline_status
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def log_tail(settings: Settings, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last lines of the run's output (its progress), without the progress-bar redraws."""
    path = settings.paths.first_pipeline_log
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 16_384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    # a progress bar redraws its line with \r: keep each line's last drawing
    shown = [
        next((seg.rstrip() for seg in reversed(line.split("\r")) if seg.strip()), "")
        for line in text.split("\n")
    ]
    return [line for line in shown if line][-lines:]


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class FirstPipeline:
    """Runs the pipeline once in a child process and records its state for the landing page."""

    def __init__(
        self,
        settings: Settings,
        on_success: Callable[[], object] | None = None,
        command: Sequence[str] = DEFAULT_COMMAND,
    ) -> None:
        self.settings = settings
        self.on_success = on_success
        self.command = list(command)
        self.process: subprocess.Popen[bytes] | None = None
        self._waiter: threading.Thread | None = None
        self._status: dict[str, Any] = {}

    def start(self) -> bool:
        """Start the run unless one already succeeded in this state folder; True if started."""
        paths = self.settings.paths
        if paths.pipeline_marker.is_file():
            log.info("first pipeline: already ran here (%s)", paths.pipeline_marker)
            return False
        paths.first_pipeline_log.parent.mkdir(parents=True, exist_ok=True)
        with paths.first_pipeline_log.open("wb") as output:
            # its own process group: stopping it reaches the Airflow processes it starts too
            self.process = subprocess.Popen(
                self.command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._status = {
            "state": "running",
            "pid": self.process.pid,
            "started": _now(),
            "log": str(paths.first_pipeline_log),
        }
        _write(paths.first_pipeline_status, self._status)
        log.info("first pipeline: running in the background (log %s)", paths.first_pipeline_log)
        self._waiter = threading.Thread(target=self._wait, name="mindlens-first-pipeline", daemon=True)
        self._waiter.start()
        return True

    def _wait(self) -> None:
        assert self.process is not None
        code = self.process.wait()
        if self._status.get("state") == "stopped":
            return
        state = "succeeded" if code == 0 else "failed"
        self._status |= {"state": state, "exit_code": code, "finished": _now()}
        _write(self.settings.paths.first_pipeline_status, self._status)
        log.log(
            logging.INFO if code == 0 else logging.WARNING,
            "first pipeline: %s (exit %d; log %s)",
            state,
            code,
            self.settings.paths.first_pipeline_log,
        )
        if code == 0 and self.on_success is not None:
            self.on_success()  # serve a challenger that won now, not at the next poll

    def stop(self, timeout: float = 5.0) -> None:
        """End a run still going (the server is stopping): TERM to its process group, then KILL."""
        process = self.process
        if process is None or process.poll() is not None:
            if self._waiter is not None:
                self._waiter.join(timeout)
            return
        self._status |= {"state": "stopped", "finished": _now()}
        _write(self.settings.paths.first_pipeline_status, self._status)
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)  # whatever is left of the group (Airflow's children)
        process.wait()
        log.info("first pipeline: stopped with the server; it runs again on the next start")
