"""Fixtures of tests/reliability (helpers in ``faults.py``)."""

from __future__ import annotations

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
