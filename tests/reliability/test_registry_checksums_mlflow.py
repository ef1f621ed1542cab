"""The checksum recorded at registration matches what serving downloads from a real MLflow
registry, and flipping a byte in the artifact store makes the real ModelStore refuse the version
while it keeps serving the last good one."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pytest

from mindlens.config import Settings
from mindlens.registry.registry import (
    CHECKSUM_TAG,
    champion_info,
    download_champion,
    register_version,
    verify_artifacts,
)
from mindlens.serving.model_store import ModelStore
from mindlens.tracking import configure_mlflow

pytestmark = pytest.mark.reliability


def _logged_model(settings: Settings) -> tuple[str, str]:
    from mindlens.models.analyzer import Analyzer
    from mindlens.models.baseline import TfidfOvrClassifier
    from mindlens.training.baseline import PYFUNC_CODE

    configure_mlflow(settings)
    model = TfidfOvrClassifier(["doubt"], min_df=1).fit(["is it true?", "it is."], [["doubt"], []])
    with mlflow.start_run() as run, tempfile.TemporaryDirectory() as tmp:
        bundle = Analyzer(model).save(Path(tmp) / "analyzer")
        info = mlflow.pyfunc.log_model(
            name="analyzer", python_model=str(PYFUNC_CODE), artifacts={"analyzer": str(bundle)}
        )
    return run.info.run_id, info.model_uri


def test_a_byte_flipped_in_the_artifact_store_is_refused(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, serving={"reload_interval_s": 0})
    register_version(
        settings,
        _logged_model(settings)[1],
        run_id=_logged_model(settings)[0],
        changelog="good",
        alias="champion",
    )
    info = champion_info(settings)
    assert info.checksum and len(info.checksum) == 64
    with tempfile.TemporaryDirectory() as tmp:
        _, folder = download_champion(settings, Path(tmp))
        assert verify_artifacts(folder, info.checksum) is True  # what was registered is what is served

    store = ModelStore(settings)
    assert store.reload() and store.version == "1"

    run_id, uri = _logged_model(settings)
    register_version(settings, uri, run_id=run_id, changelog="to be corrupted", alias="champion")
    stored = sorted(settings.paths.mlflow_artifacts.rglob("*.json"))
    newest = max((p for p in stored if p.name != "analyzer.json"), key=lambda p: p.stat().st_mtime)
    newest.write_bytes(newest.read_bytes().replace(b"doubt", b"DOUBT"))  # bit rot in the store

    assert store.reload() is False
    assert store.version == "1"  # the last good version serves on
    assert store.problem and "v2 refused" in store.problem
    assert store.metrics.registry.get_sample_value("mindlens_errors_total", {"type": "model_checksum"}) == 1
    assert mlflow.MlflowClient().get_model_version(settings.mlflow.registered_model, "2").tags[CHECKSUM_TAG]
