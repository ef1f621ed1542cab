"""Helpers of the tests that run a real ``mindlens serve`` (overload, kill -9): the load
generator of ``benchmarks/load.py`` (one copy of it: the benchmark is the tool, the tests assert
on what it measures) and a server that is always stopped, even when the test fails."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from conftest import ROOT, free_port, start_server, stop_process


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mindlens_load_benchmark", ROOT / "benchmarks" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


load = _load_benchmark()


class LiveServer:
    """``mindlens serve`` on a loopback port over ``env``'s state folder; ``kill()`` is a
    ``kill -9``, ``start()`` starts it again on the same port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, ready: bool = True) -> LiveServer:
        with open(self.log_path, "a") as log:
            self.process = start_server(self.port, self.env, log)
        if ready:
            load.wait_ready(self.base, self.process)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # no shutdown, no flush, no lifespan exit
        self.process.wait(timeout=15)
        assert self.process.returncode == -signal.SIGKILL

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


@contextmanager
def live_server(env: dict[str, str], log_path: Path, ready: bool = True) -> Iterator[LiveServer]:
    server = LiveServer(env, log_path)
    try:
        yield server.start(ready)
    finally:
        server.stop()
