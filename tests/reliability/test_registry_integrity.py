"""Registry faults are loud: `mindlens serve` refuses a missing or unreadable registry database
(unless told to create one); a corrupt version is refused and the last good one keeps serving,
with the reason in /readyz, the log and a metric; "no champion" is told from "champion unreadable"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, free_port

from mindlens.config import Settings
from mindlens.registry.registry import RegistryError, check_registry
from mindlens.serving.model_store import NO_MODEL_MESSAGE
from reliability.faults import ADMIN, FolderRegistry, errors_total

pytestmark = pytest.mark.reliability


def _serve(state: Path, **env: str) -> subprocess.CompletedProcess:
    """A real `mindlens serve` on a free port; it must exit by itself (refusing to start)."""
    environment = os.environ | {"MINDLENS_STATE_DIR": str(state)} | env
    environment.pop("MINDLENS_SERVING__ADMIN_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "mindlens.cli", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_refuses_a_missing_registry_database(tmp_path: Path) -> None:
    result = _serve(tmp_path / "state")
    assert result.returncode != 0
    assert "no model registry database" in result.stderr and "mindlens registry bootstrap" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state" / "mlflow.db").exists()  # nothing was created behind our back


def test_serve_refuses_an_unreadable_registry_database(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "mlflow.db").write_bytes(b"this is not a database" * 100)
    result = _serve(state)
    assert result.returncode != 0
    assert "cannot be read as an MLflow registry" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_registry_creates_only_when_told(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    with pytest.raises(RegistryError, match="MINDLENS_SERVING__CREATE_REGISTRY"):
        check_registry(settings)
    check_registry(settings, create=True)  # told to: fine (MLflow creates it on first use)
    empty = tmp_path / "mlflow.db"
    empty.write_bytes(b"")
    with pytest.raises(RegistryError, match="cannot be read"):
        check_registry(settings)


def test_a_corrupt_version_is_refused_and_the_last_good_one_serves(
    registry: FolderRegistry, client_for, caplog: pytest.LogCaptureFixture
) -> None:
    registry.register("1")
    client = client_for()
    assert client.get("/readyz").json() == {"status": "ready", "version": "1", "problems": []}
    folder = registry.register("2")
    (folder / "artifacts" / "model.json").write_text(
        '{"weights": "flipped bits"}'
    )  # corrupt after registration
    answer = client.post("/admin/reload", headers=ADMIN).json()
    assert answer["reloaded"] is False and answer["version"] == "1"
    assert "v2 refused" in answer["error"] and "corrupt" in answer["error"]
    assert client.post("/analyze", json={"text": "Still served."}).json()["model"]["version"] == "1"
    ready = client.get("/readyz").json()
    assert ready["status"] == "degraded" and "v2 refused" in ready["problems"][0]
    assert errors_total(client, "model_checksum") == 1
    assert 'mindlens_model_reloads_total{outcome="corrupt"} 1.0' in client.get("/metrics").text
    assert any("v2 refused" in r.getMessage() for r in caplog.records)


def test_a_corrupt_release_file_is_named(registry: FolderRegistry, client_for) -> None:
    import hashlib
    import json

    folder = registry.register("1")
    weights = folder / "artifacts" / "model.json"
    release = {"files": {"model.json": hashlib.sha256(b"something else").hexdigest()}}
    (folder / "artifacts" / "release.json").write_text(json.dumps(release))
    del weights
    registry.checksums["1"] = None  # an older version: no recorded checksum, its release.json still checks
    client = client_for()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "model.json does not match its sha256" in ready.json()["detail"]


def test_no_champion_and_unreadable_champion_are_told_apart(registry: FolderRegistry, client_for) -> None:
    client = client_for()
    assert client.get("/readyz").json()["detail"] == NO_MODEL_MESSAGE
    folder = registry.register("1")
    shutil.rmtree(folder)  # the artifact store is gone
    client.post("/admin/reload", headers=ADMIN)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    detail = ready.json()["detail"]
    assert "champion v1 is unreadable" in detail and "artifact store" in detail
    assert "no champion model registered" not in detail
    assert str(folder) not in detail
    answer = client.post("/analyze", json={"text": "Anything."})
    assert answer.status_code == 503 and "unreadable" in answer.json()["detail"]
