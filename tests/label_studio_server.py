"""A real Label Studio 1.23.2 for the tests that need one (shared by the session).

Installed once into its own cached venv (``$MINDLENS_LABEL_STUDIO_VENV`` or
/tmp/mindlens-label-studio-venv, about a minute from PyPI) and started on a free loopback
port with a fresh data dir (about 30 s of migrations). Callers skip with the reason
when PyPI is unreachable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import free_port

from mindlens.labelling.connection import Connection
from mindlens.labelling.server import (
    DEFAULT_VENV,
    LabelStudioInstallError,
    ensure_label_studio,
    start_label_studio,
    stop_label_studio,
)

OFFLINE_MARKERS = (
    "NewConnectionError",
    "ConnectTimeout",
    "Network is unreachable",
    "ProxyError",
    "Temporary failure in name resolution",
    "No matching distribution found",
    "Max retries exceeded",
    "Could not fetch URL",
)


@contextmanager
def running_label_studio(data_dir: Path, project: str = "MindLens") -> Iterator[Connection]:
    """Install (cached) and start Label Studio; skip the caller if it cannot be installed."""
    venv = Path(os.environ.get("MINDLENS_LABEL_STUDIO_VENV", DEFAULT_VENV))
    try:
        ensure_label_studio(venv)
    except LabelStudioInstallError as err:
        if any(marker in str(err) for marker in OFFLINE_MARKERS):
            pytest.skip(f"cannot install Label Studio (PyPI unreachable?): {str(err)[-300:]}")
        raise
    port, token = free_port(), secrets.token_hex(20)
    process = start_label_studio(venv, data_dir, port, "admin@example.com", "admin-Passw0rd", token)
    try:
        yield Connection(f"http://127.0.0.1:{port}", token, project)
    finally:
        stop_label_studio(process)
