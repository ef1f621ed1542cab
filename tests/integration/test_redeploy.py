"""Registering and promoting a new version changes what a running server answers, without
a restart; a rollback brings the old one back."""

import os

import httpx
import pytest
from conftest import free_port, needs_ptc, start_server, stop_process, wait_for_http

pytestmark = [needs_ptc, pytest.mark.slow]
TOKEN = "redeploy-token"


def test_promote_and_rollback_reach_the_running_server(tmp_path, monkeypatch):
    from mindlens.config import Settings, reset_settings_cache
    from mindlens.data.prepare import prepare_dataset
    from mindlens.registry import promote, register_if_better, rollback
    from mindlens.training.baseline import train_baseline

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    settings = Settings(state_dir=tmp_path)
    prepare_dataset(settings, max_documents=12, sources=["ptc"])
    first = train_baseline(settings, run_name="v1")
    register_if_better(settings, first.run_id, first.model_uri)

    port = free_port()
    env = os.environ | {
        "MINDLENS_STATE_DIR": str(tmp_path),
        "MINDLENS_SERVING__ADMIN_TOKEN": TOKEN,
        "MINDLENS_SERVING__RELOAD_INTERVAL_S": "0",
    }
    log = open(tmp_path / "server.log", "w")
    server = start_server(port, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/healthz", process=server)
        pid = server.pid
        assert httpx.get(f"{base}/version").json()["model"]["version"] == "1"

        second = train_baseline(settings, overrides={"C": 0.5, "ngram_max": 1}, run_name="v2")
        registered = register_if_better(settings, second.run_id, second.model_uri)
        if registered.promoted:  # the rule may already prefer it; make the test about promotion
            rollback(settings)
        promote(settings, registered.version)
        reload = httpx.post(f"{base}/admin/reload", headers={"X-API-Key": TOKEN}, timeout=60).json()
        assert reload == {"reloaded": True, "version": registered.version, "error": None}
        answer = httpx.post(f"{base}/analyze", json={"text": "Shame on them!"}).json()
        assert answer["model"]["version"] == registered.version
        assert answer["model"]["run_id"] == second.run_id

        rollback(settings)
        httpx.post(f"{base}/admin/reload", headers={"X-API-Key": TOKEN}, timeout=60)
        assert httpx.get(f"{base}/version").json()["model"]["version"] == "1"
        assert server.poll() is None and server.pid == pid  # the same process all along
    finally:
        stop_process(server)
        log.close()
