"""ModelStore: atomic swaps, failed reloads keep the old model, no champion is not a crash."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mindlens.config import Settings
from mindlens.registry import ChampionInfo, NoChampionError
from mindlens.serving import model_store
from mindlens.serving.app import create_app
from mindlens.serving.metrics import Metrics
from mindlens.serving.model_store import NO_MODEL_MESSAGE, ModelStore, NoModelError

ADMIN = {"X-API-Key": "model-store-admin"}


class FakeAnalyzer:
    name = "fake-analyzer"

    def analyze(
        self,
        text: str,
        *,
        min_confidence: float | None = None,
        title: str | None = None,
        quoted_weight: float = 1.0,
    ) -> dict[str, Any]:
        return {
            "sentences": [
                {
                    "index": 0,
                    "start": 0,
                    "end": len(text),
                    "text": text,
                    "techniques": [
                        {
                            "technique": "slogans",
                            "name": "Slogans",
                            "trait": "slogans_and_repetition",
                            "confidence": 0.9,
                        }
                    ],
                }
            ],
            "document": {
                "score": 0.9,
                "techniques": {"slogans": 0.9},
                "traits": {"slogans_and_repetition": 0.9},
            },
            "title": {"text": title or text, "clickbait": None},
            "min_confidence": min_confidence or 0.5,
            "timings_ms": {"model": 0.1},
        }


class FakeRegistry:
    """Stands in for the MLflow registry: a champion version and whether downloads work."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.version: str | None = "1"
        self.fail_download = False
        monkeypatch.setattr(model_store, "champion_info", self.info)
        monkeypatch.setattr(model_store, "download_champion", self.download)
        monkeypatch.setattr(model_store, "load_analyzer", lambda folder, threads=None: FakeAnalyzer())

    def info(self, settings: Settings) -> ChampionInfo:
        if self.version is None:
            raise NoChampionError("no 'champion' version")
        return ChampionInfo("mindlens-analyzer", self.version, f"run-{self.version}", 0.5)

    def download(self, settings: Settings, dst: Path) -> tuple[ChampionInfo, Path]:
        if self.fail_download:
            raise OSError("artifact store unreachable")
        return self.info(settings), dst


def _reloads(metrics: Metrics, outcome: str) -> float:
    return metrics.registry.get_sample_value("mindlens_model_reloads_total", {"outcome": outcome}) or 0.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path, serving={"reload_interval_s": 0, "admin_token": ADMIN["X-API-Key"]})


def test_reload_swaps_only_on_new_version(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry(monkeypatch)
    store = ModelStore(settings)
    assert store.reload() is True and store.version == "1"
    assert store.reload() is False  # same version: no download, no swap
    registry.version = "2"
    assert store.reload() is True and store.version == "2"
    assert _reloads(store.metrics, "changed") == 2 and _reloads(store.metrics, "unchanged") == 1
    gauge = store.metrics.registry.get_sample_value
    assert gauge("mindlens_model_info", {"version": "2", "name": FakeAnalyzer.name}) == 1
    assert (
        gauge("mindlens_model_info", {"version": "1", "name": FakeAnalyzer.name}) is None
    )  # old one dropped


def test_failed_reload_keeps_old_model(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry(monkeypatch)
    store = ModelStore(settings)
    assert store.reload()
    old = store.current
    registry.version, registry.fail_download = "2", True
    assert store.reload() is False
    assert store.current is old and store.version == "1"
    assert _reloads(store.metrics, "failure") == 1
    assert store.metrics.registry.get_sample_value("mindlens_errors_total", {"type": "model_load"}) == 1
    assert "artifact store unreachable" in (store.last_error or "")


def test_failed_reload_over_http_still_serves(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry(monkeypatch)
    with TestClient(create_app(settings, with_ui=False)) as client:
        assert client.get("/healthz").json()["version"] == "1"
        registry.version, registry.fail_download = "2", True
        body = client.post("/admin/reload", headers=ADMIN).json()
        assert body["reloaded"] is False and body["version"] == "1" and body["error"]
        answer = client.post("/analyze", json={"text": "Make our streets safe again!"})
        assert answer.status_code == 200 and answer.json()["model"]["version"] == "1"
        assert 'mindlens_model_reloads_total{outcome="failure"} 1.0' in client.get("/metrics").text


def test_no_champion_store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeRegistry(monkeypatch).version = None
    store = ModelStore(settings)
    assert store.reload() is False and store.current is None
    with pytest.raises(NoModelError, match="run the pipeline"):
        store.require()
    assert _reloads(store.metrics, "no_champion") == 1


def test_no_champion_app_starts_and_answers_503(settings: Settings) -> None:
    """A real (empty) MLflow registry under a fresh state dir: no fakes."""
    with TestClient(create_app(settings, with_ui=False)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "model": None, "version": None}
        answer = client.post("/analyze", json={"text": "Make our streets safe again!"})
        assert answer.status_code == 503
        assert answer.json()["detail"] == NO_MODEL_MESSAGE
        assert client.post("/admin/reload", headers=ADMIN).json()["reloaded"] is False
        assert client.get("/readyz").status_code == 503
        assert client.get("/version").json()["model"] is None
        batch = client.post("/analyze/batch", json={"texts": ["one"] * 33})
        assert batch.status_code == 413 and "limit is 32" in batch.json()["detail"]


def test_polling_thread_starts_and_stops(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry(monkeypatch)
    store = ModelStore(settings)
    store.start_polling(interval_s=0.05)
    try:
        deadline = time.monotonic() + 5
        while store.version != "1" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.version == "1"
        registry.version = "2"
        while store.version != "2" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.version == "2"
    finally:
        store.stop_polling()
    assert store._thread is None


@pytest.mark.slow
def test_real_champion_loads_and_survives_bad_reload(
    champion_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ModelStore(champion_settings)
    assert store.reload() is True
    version = store.version
    text = "Make our streets safe again! The report is due on Tuesday."
    assert store.require().analyzer.analyze(text)["sentences"]
    real_info = model_store.champion_info

    def newer(settings: Settings) -> ChampionInfo:
        info = real_info(settings)
        return ChampionInfo(info.name, info.version + "0", info.run_id, info.metric)

    def broken(settings: Settings, dst: Path) -> tuple[ChampionInfo, Path]:
        raise RuntimeError("corrupt bundle")

    monkeypatch.setattr(model_store, "champion_info", newer)
    monkeypatch.setattr(model_store, "download_champion", broken)
    assert store.reload() is False
    assert store.version == version
    assert store.require().analyzer.analyze(text)["sentences"]
    assert _reloads(store.metrics, "failure") == 1


def test_unexpected_error_is_json_500_without_trace(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeRegistry(monkeypatch)
    monkeypatch.setattr(FakeAnalyzer, "analyze", lambda self, text, **kw: 1 / 0)
    app = create_app(settings, with_ui=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/analyze", json={"text": "Anything."})
        assert response.status_code == 500
        assert response.json() == {"detail": "internal server error"}
        metrics = client.get("/metrics").text
    assert 'mindlens_errors_total{type="unhandled"} 1.0' in metrics
    assert 'mindlens_requests_total{endpoint="/analyze",method="POST",status="500"} 1.0' in metrics
