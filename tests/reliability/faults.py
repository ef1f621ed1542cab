"""Helpers of the fault and hostile-input tests (fixtures: ``conftest.py`` beside this): an app over a fake registry whose versions are
real folders on disk (so checksums are really computed and verified), and a fake analyzer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mindlens.config import Settings
from mindlens.registry import ChampionInfo, NoChampionError
from mindlens.registry.registry import artifacts_checksum
from mindlens.serving import model_store

ADMIN = {"X-API-Key": "reliability-admin"}


class FakeAnalyzer:
    name = "fake-analyzer"

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def analyze(
        self,
        text: str,
        *,
        min_confidence: float | None = None,
        title: str | None = None,
        quoted_weight: float = 1.0,
    ) -> dict[str, Any]:
        if text == "boom":
            raise RuntimeError("a bug deep inside the model")
        return {
            "sentences": [{"index": 0, "start": 0, "end": len(text), "text": text, "techniques": []}],
            "spans": [],
            "document": {"score": 0.0, "techniques": {}, "traits": {}},
            "title": {"text": title or text, "clickbait": None},
            "min_confidence": 0.5 if min_confidence is None else min_confidence,
            "timings_ms": {"model": 0.1},
        }


class FolderRegistry:
    """Versions as folders under ``root``; the checksum of each is taken when it is 'registered'
    (as ``register_version`` does), and downloads copy the folder as it is now."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.champion: str | None = None
        self.checksums: dict[str, str] = {}
        monkeypatch.setattr(model_store, "champion_info", self.info)
        monkeypatch.setattr(model_store, "download_champion", self.download)
        monkeypatch.setattr(model_store, "load_analyzer", lambda folder, threads=None: FakeAnalyzer(folder))

    def register(self, version: str, content: str = "weights") -> Path:
        folder = self.root / f"v{version}"
        (folder / "artifacts").mkdir(parents=True)
        (folder / "artifacts" / "model.json").write_text(f'{{"weights": "{content}"}}')
        (folder / "MLmodel").write_text("flavors: {}\n")
        self.checksums[version] = artifacts_checksum(folder)
        self.champion = version
        return folder

    def info(self, settings: Settings) -> ChampionInfo:
        if self.champion is None:
            raise NoChampionError("no 'champion' version")
        return ChampionInfo(
            "mindlens-analyzer",
            self.champion,
            f"run-{self.champion}",
            0.5,
            None,
            self.checksums[self.champion],
        )

    def download(self, settings: Settings, dst: Path) -> tuple[ChampionInfo, Path]:
        info = self.info(settings)
        source = self.root / f"v{info.version}"
        if not source.is_dir():
            raise OSError(f"artifact store {source} does not exist")
        shutil.copytree(source, dst / "model")
        return info, dst / "model"


def settings_for(tmp_path: Path, **serving: Any) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        serving={"reload_interval_s": 0, "admin_token": ADMIN["X-API-Key"], **serving},
    )


def errors_total(client: TestClient, kind: str) -> float:
    value = client.app.state.metrics.registry.get_sample_value("mindlens_errors_total", {"type": kind})
    return value or 0.0
