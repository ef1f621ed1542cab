"""Fixtures of tests/reliability (helpers in ``faults.py``; real-server helpers in ``live.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reliability.faults import FolderRegistry, settings_for


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FolderRegistry:
    return FolderRegistry(tmp_path / "artifact-store", monkeypatch)


@pytest.fixture
def client_for(tmp_path: Path) -> Iterator[Any]:
    """``client_for(**serving)``: a TestClient (lifespan run) of the API alone."""
    from mindlens.serving.app import create_app

    opened: list[TestClient] = []

    def make(**serving: Any) -> TestClient:
        client = TestClient(
            create_app(settings_for(tmp_path, **serving), with_ui=False), raise_server_exceptions=False
        )
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def shipped_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder with the shipped releases bootstrapped (v1, and v2 champion), as
    ``mindlens registry bootstrap`` makes it: once per session (about a minute)."""
    from reliability.live import load

    state = tmp_path_factory.mktemp("shipped") / "state"
    load.bootstrap(load.serve_env(state))
    return state


@pytest.fixture
def shipped_state(shipped_registry: Path, tmp_path: Path) -> Path:
    """A copy of that state folder for one test. The copy's registry database still points at
    the original artifact store, which no test changes (read only)."""
    copy = tmp_path / "state"
    shutil.copytree(shipped_registry, copy)
    return copy
